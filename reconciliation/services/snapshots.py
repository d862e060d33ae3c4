"""Balance snapshots at the edge of each day: the provider's balance read once per provider and
day, through the same check that refreshes balances (providers.services.provider_check)."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from providers.errors import ProviderError
from providers.models import Provider
from providers.services import provider_check
from reconciliation.models import BalanceSnapshot


def balance_snapshot_take(*, provider: Provider, day: date) -> BalanceSnapshot:
    """The snapshot opening `day`: read now unless one was read already (a snapshot is never
    taken twice: the first read is the edge). A failed read is kept with its error and tried
    again by the next run; the day's window then starts at the read that answered."""
    found = BalanceSnapshot.objects.filter(provider=provider, day=day).first()
    if found is not None and found.is_read:
        return found
    requested_at = timezone.now()
    values: dict[str, object]
    try:
        answer = provider_check(provider=provider)
    except ProviderError as exc:
        values = {"requested_at": requested_at, "error": exc.message[:500]}
    else:
        values = {
            "requested_at": requested_at,
            "answered_at": timezone.now(),
            "balance": answer.balance,
            "currency": (answer.currency or provider.currency).upper()[:8],
            "error": "",
        }
    try:
        with transaction.atomic():
            # Only a snapshot not yet read is written over: a read one is the day's edge.
            if found is None:
                return BalanceSnapshot.objects.create(provider=provider, day=day, **values)
            BalanceSnapshot.objects.filter(pk=found.pk, balance__isnull=True).update(**values)
    except IntegrityError:
        pass  # another run took it meanwhile: theirs is the edge
    return BalanceSnapshot.objects.get(provider=provider, day=day)


def balance_snapshots_take(*, day: date) -> dict[str, str]:
    """Every enabled provider's snapshot opening `day`; name → balance or error, for logs."""
    results: dict[str, str] = {}
    for provider in Provider.objects.filter(is_enabled=True).order_by("pk"):
        snapshot = balance_snapshot_take(provider=provider, day=day)
        results[provider.name] = (
            f"{snapshot.balance} {snapshot.currency}" if snapshot.is_read else snapshot.error
        )
    return results
