"""What the bot lists: the categories and services it can take an order for."""

from django.db.models import Count, QuerySet

from providers.models import Service, ServiceType
from providers.selectors import CategoryRow, service_rows

# The types whose order is a link and a quantity (or a link alone): the bot asks for no more.
# Comments, mentions, polls and the rest need fields a chat is poor at; the site takes them.
BOT_TYPES = (ServiceType.DEFAULT, ServiceType.PACKAGE)


def bot_categories() -> list[CategoryRow]:
    return list(
        Service.objects.on_sale()
        .filter(type__in=BOT_TYPES)
        .values("category_id", "category__name", "category__name_vi", "category__name_en")
        .annotate(count=Count("id"))
        .order_by("category__sort_order", "category__name")
    )


def bot_services(*, category_id: int) -> QuerySet:
    return service_rows(category_id=category_id).filter(type__in=BOT_TYPES)


def bot_service(*, service_id: int) -> dict | None:
    return service_rows().filter(id=service_id, type__in=BOT_TYPES).first()
