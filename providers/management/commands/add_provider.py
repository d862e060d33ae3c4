from decimal import Decimal

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.commands import OperatorCommand, amount_option
from core.errors import PanelError, error_display
from providers.errors import ProviderError
from providers.models import DEFAULT_MARKUP_PERCENT
from providers.services import provider_create


class Command(OperatorCommand):
    summary = _("Register an upstream provider after checking that it answers with this key.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "url", help=gettext("The provider's v2 endpoint, e.g. https://example.com/api/v2")
        )
        parser.add_argument("key", help=gettext("The panel's API key at the provider"))
        parser.add_argument("--markup-percent", default=str(DEFAULT_MARKUP_PERCENT))
        parser.add_argument("--markup-fixed", default="0")
        parser.add_argument(
            "--exchange-rate",
            default=None,
            help=gettext("Panel currency per provider currency unit, when they differ"),
        )
        parser.add_argument(
            "--hold-new-items",
            action="store_true",
            help=gettext("New items wait for an admin instead of going on sale"),
        )

    def handle(self, *args: object, **options: object) -> None:
        markup_percent = amount_option("--markup-percent", options["markup_percent"])
        markup_fixed = amount_option("--markup-fixed", options["markup_fixed"])
        exchange_rate = (
            amount_option("--exchange-rate", options["exchange_rate"])
            if options["exchange_rate"]
            else None
        )
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
                gettext("The provider did not accept the check: %(error)s")
                % {"error": error_display(exc)}
            ) from exc
        except PanelError as exc:
            raise CommandError(error_display(exc)) from exc
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
