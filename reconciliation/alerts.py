"""The reconciliation alert: the one place that decides when a mismatch is worth telling the
operators about. Each mismatch alerts once (its `alerted_at` is the claim), in one message per
provider day however many it found; a re-run that finds nothing new sends nothing."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

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
        values = {"name": name, "day": day, "count": len(fresh)}
        # In the panel's language: operators read it (PANEL_LANGUAGE).
        with translation.override(settings.LANGUAGE_CODE):
            subject = gettext("%(name)s: the books of %(day)s do not match (%(count)s)") % values
            body = (
                gettext(
                    "The reconciliation of %(name)s for %(day)s found %(count)s thing(s) that do "
                    "not match what the panel expects: orders charged more than their price, "
                    "refunds the provider did not give or gave without the customer getting "
                    "them, or a balance drift no order explains.\nOpen Provider books in the "
                    "admin: each one says its ways out (claim, recovered, write off, acknowledge "
                    "with a note)."
                )
                % values
            )
        staff_alert(
            key=f"reconciliation:{provider_day.pk}:{fresh[0]}",
            kind=Kind.OPS_RECONCILIATION,
            subject=subject,
            body=body,
            telegram={"name": name, "day": day, "count": len(fresh)},
            ref=provider_day.pk,
        )
    return len(fresh)
