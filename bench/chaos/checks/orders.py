"""The orders' invariants, checked against the panel's rows and the sandbox's own record of
what it sold: every order accounted for, nothing bought twice, every net charge what the
provider kept times the markup, and polling back after every restart."""

import re
from collections import Counter
from decimal import Decimal
from typing import Any

from bench.chaos.checks.findings import Findings

# Where an order in review names its reason. The first field the model has wins, so a dedicated
# reason field (the lifecycle's) takes over from the dispatch error text once it exists.
REVIEW_REASON_FIELDS = ("review_reason", "dispatch_error")
# Rounding: the panel refunds at 6 places and the sandbox charges at 6 places.
MONEY_TOLERANCE = Decimal("0.000002")
# Measuring a resumed poll: the watch samples every 0.25 s, so allow two samples more.
POLL_SLACK_SECONDS = 0.5


def review_reason(order: Any) -> str:
    names = {f.name for f in order._meta.get_fields()}
    for name in REVIEW_REASON_FIELDS:
        if name in names and getattr(order, name):
            return str(getattr(order, name))
    return ""


def _short(reason: str) -> str:
    """Reasons are counted by their gist: without the provider's host in front and without
    the transport detail in parentheses behind."""
    parts = reason.split(": ")
    if len(parts) > 1 and " " not in parts[0]:
        parts = parts[1:]
    return re.sub(r"\s*\(.*$", "", ": ".join(parts[:2])).strip()[:100]


def check_states(orders: list[Any], findings: Findings) -> None:
    """Final, queued for a named reason, or in review with a reason; nothing else."""
    from orders.models import DispatchState

    for order in orders:
        state = order.dispatch_state
        if order.is_final:
            continue
        if state == DispatchState.QUEUED and order.dispatch_error:
            findings.queued_reasons[_short(order.dispatch_error)] += 1
        elif state == DispatchState.NEEDS_REVIEW and review_reason(order):
            findings.review_reasons[_short(review_reason(order))] += 1
        elif state == DispatchState.NEEDS_REVIEW:
            findings.violations.append(f"order {order.pk} is in review without a reason")
        elif state == DispatchState.SENDING:
            findings.violations.append(f"order {order.pk} is stuck in sending")
        else:
            findings.violations.append(
                f"order {order.pk} did not settle: {order.status}, dispatch {state}"
            )


def check_purchases(
    orders: list[Any],
    upstream: dict[str, list[dict]],
    adds_per_link: dict[str, int],
    findings: Findings,
) -> None:
    """No link bought twice upstream, and nothing bought upstream that no order asked for."""
    links = {order.link for order in orders}
    for link, bought in upstream.items():
        if len(bought) > 1:
            ids = ", ".join(str(item["order"]) for item in bought)
            findings.violations.append(f"{link} was bought {len(bought)} times upstream ({ids})")
        if link not in links:
            findings.violations.append(f"{link} was bought upstream but no order has it")
    findings.figures["upstream_orders"] = sum(len(bought) for bought in upstream.values())
    findings.figures["upstream_orders_per_link_max"] = max(map(len, upstream.values()), default=0)
    findings.figures["add_requests_per_link_max"] = max(adds_per_link.values(), default=0)


def check_money(orders: list[Any], upstream: dict[str, list[dict]], findings: Findings) -> None:
    """charge − refund equals what the provider charged, times the order's markup."""
    worst = Decimal(0)
    for order in orders:
        bought = upstream.get(order.link, [])
        if len(bought) > 1:
            continue  # reported by check_purchases
        item = bought[0] if bought else None
        deviation = _check_order_money(order, item, findings)
        worst = max(worst, deviation)
    findings.figures["money_deviation_max"] = worst


def _check_order_money(order: Any, item: dict | None, findings: Findings) -> Decimal:
    from orders.models import DispatchState

    net = order.charge - order.refunded
    if not order.is_final:
        if order.dispatch_state == DispatchState.NEEDS_REVIEW:
            # Held until a person decides: nothing refunded yet, whatever the provider did.
            findings.held_for_review += 1
            findings.held_and_bought += item is not None
            if order.refunded:
                findings.violations.append(f"order {order.pk} in review was partly refunded")
        elif order.dispatch_state == DispatchState.QUEUED and item is not None:
            findings.violations.append(
                f"order {order.pk} is queued although the provider has it ({item['order']}): "
                "sending it again would buy it twice"
            )
        return Decimal(0)
    if item is None:
        if net:
            findings.violations.append(
                f"order {order.pk} never reached the provider but keeps {net} of its charge"
            )
        return abs(net)
    return _compare_with_upstream(order, item, net, findings)


def _compare_with_upstream(order: Any, item: dict, net: Decimal, findings: Findings) -> Decimal:
    full, kept = Decimal(item["full_charge"]), Decimal(item["charge"])
    if item["status"] != order.status:
        findings.violations.append(
            f"order {order.pk} is {order.status} but the provider says {item['status']}"
        )
    service = order.service
    markup = service.rate / service.upstream_rate * order.exchange_rate
    if abs(order.charge - full * markup) > MONEY_TOLERANCE * (1 + markup) + _rate_rounding(order):
        findings.violations.append(
            f"order {order.pk} charged {order.charge}, but the provider's {full} × markup "
            f"{markup:.6f} is {full * markup:.6f}"
        )
    # The order's own charge over the provider's is its markup: the refund must keep that ratio.
    expected = kept * order.charge / full if full else Decimal(0)
    deviation = abs(net - expected)
    if deviation > MONEY_TOLERANCE * (1 + order.charge / (full or 1)):
        findings.violations.append(
            f"order {order.pk}: charge − refund is {net}, the provider kept {kept} of {full}, "
            f"so it should be {expected:.6f}"
        )
    return deviation


def _rate_rounding(order: Any) -> Decimal:
    """The selling rate is stored at 6 places: per 1000 units that moves a charge this much."""
    return Decimal("0.000001") * order.total_quantity / 1000


def poll_limit() -> float:
    """Two poll periods, plus one read timeout: a restarted worker first takes the forwards that
    piled up while it was down, and one of them may hold a slot that long."""
    from django.conf import settings

    return (
        2 * settings.PANEL_POLL_SECONDS + settings.PANEL_PROVIDER_READ_TIMEOUT + POLL_SLACK_SECONDS
    )


def _cut_short(restart: Any, later: list[Any], limit: float) -> bool:
    """Whether the next kill that stops polling came within `limit` of this restart being back
    and before polling had resumed: whatever came after is that kill's to explain (short runs
    kill every 2 to 5 s, inside the limit), and the next restart is judged on its own."""
    following = next((other for other in later if other.stops_polling), None)
    if following is None or following.killed_at - restart.ready_at >= limit:
        return False
    resumed = restart.resumed_after
    return resumed is None or restart.ready_at + resumed > following.killed_at


def check_polling(restarts: list[Any], findings: Findings, limit: float | None = None) -> None:
    """After each kill that stopped every poll round (all workers, beat, the database, the
    broker) with orders due, a status call reaches the provider within the poll limit of the
    stack being back, and the rows the killed round had claimed are polled again within it
    too."""
    limit = limit or poll_limit()
    gaps = []
    interrupted = 0
    for number, restart in enumerate(restarts, start=1):
        if not restart.due_at_kill or not restart.stops_polling:
            continue
        if _cut_short(restart, restarts[number:], limit):
            interrupted += 1
            continue
        if restart.leased_still_waiting:
            findings.violations.append(
                f"restart {number}: {restart.leased_still_waiting} of the "
                f"{restart.leased_at_kill} orders the killed poll round had claimed were not "
                f"polled again within {limit:.1f} s (the claim's lease holds them back)"
            )
        if restart.resumed_after is None:
            findings.violations.append(
                f"restart {number} ({restart.target}): {restart.due_at_kill} orders due, "
                "and no poll followed"
            )
            continue
        gaps.append(restart.resumed_after)
        if restart.resumed_after > limit:
            findings.violations.append(
                f"restart {number} ({restart.target}): polling resumed "
                f"{restart.resumed_after:.1f} s after it was back (limit {limit:.1f} s; "
                f"{restart.due_at_kill} orders due)"
            )
    findings.figures["restarts_with_orders_due"] = sum(
        1 for r in restarts if r.due_at_kill and r.stops_polling
    )
    findings.figures["poll_resume_seconds_max"] = round(max(gaps, default=0.0), 1)
    findings.figures["restarts_cut_short_by_the_next_kill"] = interrupted
    findings.figures["poll_limit_seconds"] = limit


def check_other_states(rows: list[dict], findings: Findings) -> None:
    """Refills, cancel requests and product orders: in review only with a reason (the rest, a
    row stuck mid-send or due and never sent, is check_transient's). `rows`: {what, id,
    dispatch_state, reason}."""
    counts: Counter[str] = Counter()
    for row in rows:
        counts[f"{row['what']} {row['dispatch_state']}"] += 1
        if row["dispatch_state"] == "needs_review" and not row["reason"]:
            findings.violation(f"{row['what']} {row['id']} is in review without a reason")
    findings.figures["other_rows"] = dict(sorted(counts.items()))


def gather_other_states() -> list[dict]:
    from orders.models import CancelRequest, ProductOrder, Refill

    rows = []
    for model in (Refill, CancelRequest, ProductOrder):
        for pk, state, reason, error in model.objects.values_list(
            "pk", "dispatch_state", "review_reason", "dispatch_error"
        ):
            rows.append(
                {
                    "what": model.__name__,
                    "id": pk,
                    "dispatch_state": state,
                    "reason": reason or error,
                }
            )
    return rows
