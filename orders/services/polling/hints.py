"""Polling a few rows at once because an upstream copy of this panel said they changed (its
webhook, checked by orders/views/provider_hooks.py). The webhook is only a hint: the rows are
re-read with `status` and written by the polling engine, under a lease like any poll, so a
hint and a round racing each other write each change once; a hint for a row another poller
holds just makes the row due now."""

from django.utils import timezone

from orders.models import DispatchState
from orders.services.polling.engine import PollCounts, _apply, _claim_due, _fetch
from orders.services.polling.kinds import ORDERS, REFILLS
from orders.services.polling.spec import BATCH_SIZE
from providers.models import Provider
from providers.services import provider_client

SPECS = {"order": ORDERS, "refill": REFILLS}


def provider_poll_hinted(*, provider_id: int, kind: str, upstream_ids: list[str]) -> PollCounts:
    provider = Provider.objects.filter(pk=provider_id, is_enabled=True).first()
    spec = SPECS.get(kind)
    ids = sorted({str(i) for i in upstream_ids if str(i)})[:BATCH_SIZE]
    if provider is None or spec is None or not ids:
        return PollCounts()
    now = timezone.now()
    rows, lease_id = _claim_due(spec, provider.pk, now, BATCH_SIZE, upstream_ids=ids)
    held = set(ids) - {row["upstream_id"] for row in rows}
    if held:
        spec.model.objects.filter(
            provider_id=provider.pk, upstream_id__in=held, dispatch_state=DispatchState.SENT
        ).update(next_poll_at=now, poll_idle_count=0)
    if not rows:
        return PollCounts()
    answers = _fetch(spec, provider_client(provider), rows)
    return _apply(spec, provider, rows, answers, lease_id)
