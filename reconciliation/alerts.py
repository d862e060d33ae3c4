"""The reconciliation alert: the one place that decides when a mismatch is worth telling the
operators about. Each mismatch alerts once (its `alerted_at` is the claim), in one message per
provider day however many it found; a re-run that finds nothing new sends nothing."""

from django.db import transaction
from django.utils import timezone

from notifications.models import Kind
from notifications.services import staff_alert
from reconciliation.models import Mismatch, MismatchStatus, ProviderDay


def provider_day_alert(*, provider_day: ProviderDay) -> int:
    """Alert about the day's unsettled mismatches not alerted yet; how many it told about."""
    now = timezone.now()
    with transaction.atomic():
        fresh = list(
            Mismatch.objects.select_for_update()
            .filter(
                provider_day=provider_day,
                alerted_at__isnull=True,
                status__in=MismatchStatus.unsettled(),
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not fresh:
            return 0
        Mismatch.objects.filter(pk__in=fresh).update(alerted_at=now)
        name, day = provider_day.provider.name, provider_day.day.isoformat()
        staff_alert(
            key=f"reconciliation:{provider_day.pk}:{fresh[0]}",
            kind=Kind.OPS_RECONCILIATION,
            subject=f"{name}: the books of {day} do not match ({len(fresh)})",
            body=(
                f"The reconciliation of {name} for {day} found {len(fresh)} thing(s) that do "
                "not match what the panel expects: orders charged more than their price, "
                "refunds the provider did not give or gave without the customer getting "
                "them, or a balance drift no order explains.\n"
                "Open Provider books in the admin: each one says its ways out (claim, "
                "recovered, write off, acknowledge with a note)."
            ),
            telegram={"name": name, "day": day, "count": len(fresh)},
            ref=provider_day.pk,
        )
    return len(fresh)
