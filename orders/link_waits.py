"""Orders waiting because their provider refused the link: "You have active order with this link"
(docs/protocol.md, provider busy). Such a refusal provably did not land, so the order stays
`queued` with a next-attempt time (orders.services.dispatch) and is never failed or refunded for
it. When the open order upstream is the panel's own, its end is seen here, and the orders
waiting on that provider for that link are due at once instead of at their next-attempt time."""

from collections.abc import Sequence

from django.utils import timezone

from orders.links import normalized_link
from orders.models import DispatchState, Order
from providers.client.messages import LINK_DUPLICATE


def link_waits_wake(*, finished_order_ids: Sequence[int]) -> int:
    """Make the orders waiting on the links of `finished_order_ids` (at the same provider) due
    now; returns how many. Runs with every write of final statuses, so it reads the waiting
    orders first: there are rarely any, and then it costs one indexed query."""
    waiting = list(
        Order.objects.filter(
            dispatch_state=DispatchState.QUEUED, dispatch_error=LINK_DUPLICATE
        ).values_list("pk", "provider_id", "link")
    )
    if not waiting or not finished_order_ids:
        return 0
    finished = {
        (provider_id, normalized_link(link))
        for provider_id, link in Order.objects.filter(pk__in=finished_order_ids).values_list(
            "provider_id", "link"
        )
    }
    due = [
        pk for pk, provider_id, link in waiting if (provider_id, normalized_link(link)) in finished
    ]
    if not due:
        return 0
    return Order.objects.filter(
        pk__in=due, dispatch_state=DispatchState.QUEUED, dispatch_error=LINK_DUPLICATE
    ).update(next_dispatch_at=timezone.now())
