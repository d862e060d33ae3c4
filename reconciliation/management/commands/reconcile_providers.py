from datetime import date, timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.commands import OperatorCommand
from core.errors import error_display
from providers.models import Provider
from reconciliation.models import MismatchStatus, ProviderDay
from reconciliation.services import ProviderUnreachable, provider_day_reconcile


class Command(OperatorCommand):
    summary = _(
        "Reconcile each enabled provider's day (default: yesterday in TIME_ZONE) against what "
        "the panel expects (docs/reconciliation.md); exits 1 while anything does not match."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help=gettext("the day, YYYY-MM-DD (default: yesterday)"))
        parser.add_argument("--provider", help=gettext("one provider, by name"))

    def handle(self, *args: Any, **options: Any) -> None:
        day = self._day(options["date"])
        providers = Provider.objects.filter(is_enabled=True).order_by("name")
        if options["provider"]:
            providers = Provider.objects.filter(name=options["provider"])
            if not providers.exists():
                raise CommandError(
                    gettext("No provider named %(name)s") % {"name": repr(options["provider"])}
                )
        unsettled, unchecked = 0, []
        for provider in providers:
            try:
                provider_day = provider_day_reconcile(provider=provider, day=day)
            except ProviderUnreachable as exc:
                self.stderr.write(
                    gettext("%(provider)s %(day)s: not checked, %(error)s")
                    % {
                        "provider": provider.name,
                        "day": day.isoformat(),
                        "error": error_display(exc),
                    }
                )
                unchecked.append(provider.name)
                continue
            unsettled += self._report(provider_day)
        if unsettled or unchecked:
            values = {"count": unsettled, "day": day.isoformat(), "names": ", ".join(unchecked)}
            text = ngettext(
                "%(count)s mismatch to resolve for %(day)s",
                "%(count)s mismatches to resolve for %(day)s",
                unsettled,
            )
            if unchecked:
                text += gettext("; not checked: %(names)s")
            raise CommandError(text % values)
        self.stdout.write(
            self.style.SUCCESS(gettext("books match for %(day)s") % {"day": day.isoformat()})
        )

    def _day(self, text: str | None) -> date:
        if not text:
            return timezone.localdate() - timedelta(days=1)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CommandError(
                gettext("--date must be YYYY-MM-DD, not %(text)s") % {"text": repr(text)}
            ) from None

    def _report(self, provider_day: ProviderDay) -> int:
        day = provider_day
        values = {
            "provider": day.provider.name,
            "day": day.day.isoformat(),
            "currency": day.currency,
            "sent": day.orders_sent,
            "charges": day.charges_expected,
            "refunds": day.refunds_expected,
            "checked": day.orders_checked,
            "unanswered": day.orders_unanswered,
            "orders_difference": day.orders_difference,
            "spent": day.balance_spent,
            "unexplained": day.balance_difference,
            "less": day.slack_less + day.tolerance,
            "more": day.slack_more + day.tolerance,
        }
        balance = (
            gettext(
                "balance spent %(spent)s %(currency)s, unexplained %(unexplained)s %(currency)s "
                "(allowed -%(less)s..+%(more)s)"
            )
            if day.has_balance_check
            else gettext("no balance check (a snapshot is missing)")
        )
        self.stdout.write(
            gettext(
                "%(provider)s %(day)s: %(sent)s sent, charges %(charges)s %(currency)s, refunds "
                "%(refunds)s %(currency)s; %(checked)s checked, %(unanswered)s unanswered, "
                "orders differ by %(orders_difference)s %(currency)s; "
            )
            % values
            + balance % values
        )
        unsettled = provider_day.mismatches.filter(status__in=MismatchStatus.unsettled())
        for flag in unsettled.order_by("kind", "order_id"):
            target = (
                gettext("order %(id)s") % {"id": flag.order_id}
                if flag.order_id
                else gettext("balance")
            )
            self.stdout.write(
                "  "
                + gettext(
                    "%(kind)s, %(target)s: expected %(expected)s, reported %(reported)s (%(status)s)"
                )
                % {
                    "kind": flag.get_kind_display(),
                    "target": target,
                    "expected": flag.expected,
                    "reported": flag.reported,
                    "status": flag.get_status_display(),
                }
            )
        return unsettled.count()
