from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from providers.models import Provider
from reconciliation.models import MismatchStatus, ProviderDay
from reconciliation.services import ProviderUnreachable, provider_day_reconcile


class Command(BaseCommand):
    help = (
        "Reconcile each enabled provider's day (default: yesterday in TIME_ZONE) against what "
        "the panel expects (docs/reconciliation.md); exits 1 while anything does not match."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the day, YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--provider", help="one provider, by name")

    def handle(self, *args: Any, **options: Any) -> None:
        day = self._day(options["date"])
        providers = Provider.objects.filter(is_enabled=True).order_by("name")
        if options["provider"]:
            providers = Provider.objects.filter(name=options["provider"])
            if not providers.exists():
                raise CommandError(f"No provider named {options['provider']!r}")
        unsettled, unchecked = 0, []
        for provider in providers:
            try:
                provider_day = provider_day_reconcile(provider=provider, day=day)
            except ProviderUnreachable as exc:
                self.stderr.write(f"{provider.name} {day}: not checked, {exc.message}")
                unchecked.append(provider.name)
                continue
            unsettled += self._report(provider_day)
        if unsettled or unchecked:
            raise CommandError(
                f"{unsettled} mismatch(es) to resolve for {day.isoformat()}"
                + (f"; not checked: {', '.join(unchecked)}" if unchecked else "")
            )
        self.stdout.write(self.style.SUCCESS(f"books match for {day.isoformat()}"))

    def _day(self, text: str | None) -> date:
        if not text:
            return timezone.localdate() - timedelta(days=1)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, not {text!r}") from None

    def _report(self, provider_day: ProviderDay) -> int:
        cur = provider_day.currency
        balance = (
            f"balance spent {provider_day.balance_spent} {cur}, "
            f"unexplained {provider_day.balance_difference} {cur} "
            f"(allowed -{provider_day.slack_less + provider_day.tolerance}"
            f"..+{provider_day.slack_more + provider_day.tolerance})"
            if provider_day.has_balance_check
            else "no balance check (a snapshot is missing)"
        )
        self.stdout.write(
            f"{provider_day.provider.name} {provider_day.day}: "
            f"{provider_day.orders_sent} sent, charges {provider_day.charges_expected} {cur}, "
            f"refunds {provider_day.refunds_expected} {cur}; "
            f"{provider_day.orders_checked} checked, {provider_day.orders_unanswered} unanswered, "
            f"orders differ by {provider_day.orders_difference} {cur}; {balance}"
        )
        unsettled = provider_day.mismatches.filter(status__in=MismatchStatus.unsettled())
        for flag in unsettled.order_by("kind", "order_id"):
            target = f"order {flag.order_id}" if flag.order_id else "balance"
            self.stdout.write(
                f"  {flag.kind} {target}: expected {flag.expected}, reported {flag.reported} "
                f"({flag.get_status_display()})"
            )
        return unsettled.count()
