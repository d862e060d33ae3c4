"""What the bot lists: the categories and services it can take an order for."""

from django.db.models import QuerySet

from providers.models import Category, ServiceType
from providers.selectors import PlatformCategoryRow, service_category_rows, service_rows

# The types whose order is a link and a quantity (or a link alone): the bot asks for no more.
# Comments, mentions, polls and the rest need fields a chat is poor at; the site takes them.
BOT_TYPES = (ServiceType.DEFAULT, ServiceType.PACKAGE)


def bot_categories(*, platform: str = "") -> list[PlatformCategoryRow]:
    """Categories with services the bot sells, grouped by platform in the order pages show
    them, one platform's when `platform` is given."""
    return service_category_rows(platform=platform, types=BOT_TYPES)


def bot_category_platform(*, category_id: int) -> str:
    """The platform a category sells for (the operator's choice, else the detected one)."""
    category = Category.objects.filter(pk=category_id).first()
    return category.shown_platform if category is not None else ""


def bot_services(*, category_id: int) -> QuerySet:
    return service_rows(category_id=category_id).filter(type__in=BOT_TYPES)


def bot_service(*, service_id: int) -> dict | None:
    return service_rows().filter(id=service_id, type__in=BOT_TYPES).first()
