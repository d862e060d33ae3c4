from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from core.errors import PanelError
from core.money import parse_money
from providers.errors import ProviderError
from providers.models import DEFAULT_MARKUP_PERCENT
from providers.services import provider_create


class Command(BaseCommand):
    help = "Register an upstream provider after checking that it answers with this key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "url", help="The provider's v2 endpoint, e.g. https://example.com/api/v2"
        )
        parser.add_argument("key", help="The panel's API key at the provider")
        parser.add_argument("--markup-percent", default=str(DEFAULT_MARKUP_PERCENT))
        parser.add_argument("--markup-fixed", default="0")
        parser.add_argument(
            "--exchange-rate",
            default=None,
            help="Panel currency per provider currency unit, when they differ",
        )
        parser.add_argument(
            "--hold-new-items",
            action="store_true",
            help="New items wait for an admin instead of going on sale",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            markup_percent = parse_money(options["markup_percent"])
            markup_fixed = parse_money(options["markup_fixed"])
            exchange_rate = (
                parse_money(options["exchange_rate"]) if options["exchange_rate"] else None
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if markup_percent <= Decimal(-100):
            raise CommandError(gettext("--markup-percent must be above -100"))
        try:
            provider = provider_create(
                name=str(options["name"]),
                api_url=str(options["url"]),
                api_key=str(options["key"]),
                markup_percent=markup_percent,
                markup_fixed=markup_fixed,
                exchange_rate=exchange_rate,
                new_items_on_sale=not options["hold_new_items"],
            )
        except ProviderError as exc:
            raise CommandError(
                gettext("The provider did not accept the check: %(error)s") % {"error": exc.message}
            ) from exc
        except PanelError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            gettext(
                "added provider %(name)s (id %(id)s): balance %(balance)s %(currency)s, "
                "markup %(percent)s%% + %(fixed)s"
            )
            % {
                "name": provider.name,
                "id": provider.pk,
                "balance": provider.balance,
                "currency": provider.currency,
                "percent": provider.markup_percent,
                "fixed": provider.markup_fixed,
            }
        )
