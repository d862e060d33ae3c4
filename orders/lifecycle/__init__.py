"""The order lifecycle: one place that owns every state a row can be in and how it leaves it.

- `table.py`: states, allowed moves, review reasons and the resolutions each allows
  (docs/lifecycle.md draws the same table and explains the refund base);
- `refunds.py`: the one refund rule every path uses;
- `moves.py`: the only writes of `status` and `dispatch_state`;
- `poll.py`: what a status answer does to a polled row.

House words: `Seen` is what one upstream status answer says about a row (its status, remains,
charge), before the lifecycle decides what it does; `Figures` are what a row's refund is measured
with (its charge, what was refunded, the units remains count against, the provider's price).

Dispatch, polling, review and the refill and cancel requests (orders/services) call these; nothing else assigns a
status or a dispatch state (tests/orders/test_lifecycle.py checks it).
"""

from orders.lifecycle.moves import (
    MODELS,
    By,
    Finish,
    dispatch_move,
    figures_of,
    finish,
    kind_of,
    status_start,
)
from orders.lifecycle.poll import PollStep, Seen, poll_step
from orders.lifecycle.refunds import Delivery, Figures, refund_due
from orders.lifecycle.table import (
    DISPATCH_MOVES,
    FINAL_BY_KIND,
    FINISH_FROM,
    OPEN,
    REASON_FROM,
    RESOLUTIONS,
    RESOLVES_TO,
    Kind,
    Reason,
    Resolution,
    State,
    is_final,
    resolutions_for,
    resolved_state,
)

__all__ = [
    "DISPATCH_MOVES",
    "FINAL_BY_KIND",
    "FINISH_FROM",
    "MODELS",
    "OPEN",
    "REASON_FROM",
    "RESOLUTIONS",
    "RESOLVES_TO",
    "By",
    "Delivery",
    "Figures",
    "Finish",
    "Kind",
    "PollStep",
    "Reason",
    "Resolution",
    "Seen",
    "State",
    "dispatch_move",
    "figures_of",
    "finish",
    "is_final",
    "kind_of",
    "poll_step",
    "refund_due",
    "resolutions_for",
    "resolved_state",
    "status_start",
]
