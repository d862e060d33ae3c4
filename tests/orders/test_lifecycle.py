"""The lifecycle table holds: every state reaches a final one, reasons offer only what they
allow, each resolution ends with the exact money, and only the lifecycle writes states."""

import ast
import re
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from orders.errors import InvalidTransition
from orders.lifecycle import (
    FINAL_BY_KIND,
    FINISH_FROM,
    OPEN,
    REASON_FROM,
    RESOLUTIONS,
    Kind,
    Reason,
    Resolution,
    State,
    is_final,
    resolutions_for,
    resolved_state,
)
from orders.lifecycle.table import NOT_FOR_KIND, moves_for
from orders.models import DispatchState, Order
from orders.services import Answer, dispatch_sweep, order_forward, provider_poll, review_resolve
from providers.models import Provider
from sandbox import SandboxServer
from tests.support import sandbox_control, sandbox_stats

D = DispatchState
MONEY_KINDS = (Kind.ORDER, Kind.PRODUCT_ORDER)
ROW_KINDS = (Kind.ORDER, Kind.PRODUCT_ORDER, Kind.REFILL)


def _next_states(kind: Kind, state: State) -> set[State]:
    """Every state one step away, as the table allows it."""
    if state.status != OPEN:
        return set()
    found = {State(to, OPEN) for (frm, to) in moves_for(kind) if frm == state.dispatch}
    found.discard(State(D.NEEDS_REVIEW, OPEN))  # review is entered with a reason, below
    if state.dispatch in FINISH_FROM and state.dispatch != D.NEEDS_REVIEW:
        finals = FINAL_BY_KIND[kind]
        found |= {State(FINISH_FROM[state.dispatch], status) for status in finals}
    return found


def _review_exits(kind: Kind, reason: Reason) -> set[State]:
    return {
        resolved_state(kind, resolution, has_upstream_id=has_id)
        for resolution in resolutions_for(kind, reason)
        for has_id in (False, True)
    }


def _walk(kind: Kind) -> dict[State | Reason, set[State]]:
    """The reachable graph from a new row; review states are keyed by their reason."""
    graph: dict[State | Reason, set[State]] = {}
    todo: deque[State] = deque([State(D.QUEUED, OPEN)])
    while todo:
        state = todo.popleft()
        if state in graph:
            continue
        graph[state] = _next_states(kind, state)
        for reason, origin in REASON_FROM.items():
            if origin == state.dispatch and resolutions_for(kind, reason):
                graph[state].add(State(D.NEEDS_REVIEW, f"review:{reason}"))
                graph[State(D.NEEDS_REVIEW, f"review:{reason}")] = _review_exits(kind, reason)
                todo.extend(_review_exits(kind, reason))
        todo.extend(graph[state])
    return graph


@pytest.mark.parametrize("kind", ROW_KINDS)
def test_every_reachable_state_has_a_way_to_a_final_state(kind: Kind) -> None:
    graph = _walk(kind)
    finals = {state for state in graph if isinstance(state, State) and is_final(state, kind)}
    assert finals, "no final state is reachable"
    reaches_final = set(finals)
    changed = True
    while changed:
        changed = False
        for state, nexts in graph.items():
            if state not in reaches_final and nexts & reaches_final:
                reaches_final.add(state)
                changed = True
    stuck = set(graph) - reaches_final
    assert not stuck, f"{kind}: no way to a final state from {stuck}"


@pytest.mark.parametrize("kind", [*ROW_KINDS, Kind.CANCEL])
def test_no_resolution_is_offered_that_the_reason_forbids(kind: Kind) -> None:
    for reason in Reason:
        offered = resolutions_for(kind, reason)
        assert offered <= RESOLUTIONS[reason]
        assert not offered & NOT_FOR_KIND[kind]
    assert resolutions_for(kind, "") == frozenset()  # no reason, no resolution


def test_send_again_is_only_offered_where_the_add_may_not_have_landed() -> None:
    for reason, allowed in RESOLUTIONS.items():
        if Resolution.SEND_AGAIN in allowed:
            assert reason in (Reason.ADD_UNKNOWN, Reason.WORKER_LOST)
    assert RESOLUTIONS[Reason.PARTIAL_NO_FIGURES] == {Resolution.FINISH_PARTIAL}


# --- Only the lifecycle writes states ---------------------------------------------------------

APPS = ("orders", "panel", "accounts", "providers", "support", "notifications", "payments")
# Apps with status fields of their own (tickets, outbox rows): only writes whose receiver names
# an order, refill or cancel count there.
OTHER_STATUSES = ("support/", "notifications/", "payments/")
ORDER_RECEIVER = re.compile(r"order|refill|cancel", re.IGNORECASE)
STATE_FIELDS = {"status", "dispatch_state", "outcome"}  # outcome: a cancel request's status
WRITE_METHODS = {"update", "create", "get_or_create", "update_or_create", "bulk_create"}


def _dict_names(tree: ast.AST) -> set[str]:
    """Names bound to a dict literal: their `.update(status=...)` is a dict, not a queryset."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


def _state_writes(tree: ast.AST, *, orders_only: bool = False) -> list[int]:
    """Lines that write a state field; `orders_only`: only on receivers naming an order."""
    lines = []
    dicts = _dict_names(tree)

    def counts(receiver: ast.AST) -> bool:
        return not orders_only or bool(ORDER_RECEIVER.search(ast.unparse(receiver)))

    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            if any(
                isinstance(e, ast.Attribute) and e.attr in STATE_FIELDS and counts(e.value)
                for e in elements
            ):
                lines.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITE_METHODS
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id in dicts)
            and counts(node.func.value)
            and any(keyword.arg in STATE_FIELDS for keyword in node.keywords)
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_outside_the_lifecycle_writes_a_status_or_dispatch_state() -> None:
    """Querysets are read-only for these fields outside orders/lifecycle/ (filters may name them)."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            relative = path.relative_to(root).as_posix()
            if relative.startswith("orders/lifecycle/") or "/migrations/" in relative:
                continue
            tree = ast.parse(path.read_text(), filename=relative)
            for line in _state_writes(tree, orders_only=relative.startswith(OTHER_STATUSES)):
                offenders.append(f"{relative}:{line}")
    assert not offenders, f"status/dispatch_state written outside orders/lifecycle: {offenders}"


def test_the_state_write_check_catches_the_usual_spellings() -> None:
    source = """
Order.objects.filter(pk=1).update(dispatch_state="sent")
row.status = "Completed"
row.status, row.finished_at = "Partial", now
Refill.objects.create(status="Rejected")
rows = Order.objects.filter(pk=1)
rows.update(status="Canceled")
answer = {"order": 1}
answer.update(status="In stock")
"""
    assert sorted(_state_writes(ast.parse(source))) == [2, 3, 4, 5, 7]
    ticket = 'ticket.status = "closed"\nTicket.objects.update(status="open")\norder.status = "x"'
    assert _state_writes(ast.parse(ticket), orders_only=True) == [3]


# --- Each resolution ends final with the exact money ------------------------------------------

# Reasons flagged before the provider gave an id; the others come with one.
_WITHOUT_ID = {Reason.ADD_UNKNOWN, Reason.WORKER_LOST}
CASES = [
    (reason, resolution)
    for reason in Reason
    if reason is not Reason.CANCEL_UNKNOWN
    for resolution in sorted(resolutions_for(Kind.ORDER, reason))
]


def _in_review(order: Order, reason: Reason, *, landed: bool) -> str | None:
    """Put a placed order in review for `reason`, as the worker or poller would have."""
    upstream_id = None
    if landed:
        assert order_forward(order_id=order.pk) == "sent"
        upstream_id = Order.objects.get(pk=order.pk).upstream_id
    keeps_id = reason not in _WITHOUT_ID
    Order.objects.filter(pk=order.pk).update(
        dispatch_state=D.NEEDS_REVIEW,
        review_reason=reason,
        upstream_id=upstream_id if keeps_id else None,
    )
    return upstream_id


def _poll_to_the_end(sandbox: SandboxServer, order: Order, status: str, **extra: object) -> None:
    order.refresh_from_db()
    sandbox_control(sandbox, "force", order=int(order.upstream_id), status=status, **extra)
    Order.objects.filter(pk=order.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    provider_poll(provider=Provider.objects.get())


@pytest.mark.parametrize(("reason", "resolution"), CASES)
def test_each_resolution_ends_final_with_the_exact_refund(
    place: Callable[..., Order],
    staff: User,
    customer: User,
    sandbox: SandboxServer,
    reason: Reason,
    resolution: Resolution,
) -> None:
    # given an order of 1000 in review for `reason`
    order = place(quantity=1000)
    landed = resolution is not Resolution.SEND_AGAIN
    upstream_id = _in_review(order, reason, landed=landed)
    answer = {
        Resolution.ATTACH_UPSTREAM_ID: Answer(upstream_id=upstream_id or ""),
        Resolution.SEND_AGAIN: Answer(confirmed_absent=True),
        Resolution.FINISH_PARTIAL: Answer(delivered=250),
    }.get(resolution, Answer())

    # when an admin resolves it, and the provider (if asked) finishes it
    review_resolve(kind=Kind.ORDER, pk=order.pk, resolution=resolution, admin=staff, answer=answer)
    if resolution is Resolution.SEND_AGAIN:
        assert order_forward(order_id=order.pk) == "sent"
    if resolution in (Resolution.ATTACH_UPSTREAM_ID, Resolution.RESUME_POLLING):
        _poll_to_the_end(sandbox, order, "Partial", remains=300)
    if resolution is Resolution.SEND_AGAIN:
        _poll_to_the_end(sandbox, order, "Completed")

    # then it is final, and charge − refund is exactly what was delivered
    order.refresh_from_db()
    expected_refund = {
        Resolution.ATTACH_UPSTREAM_ID: order.charge * Decimal("0.3"),
        Resolution.RESUME_POLLING: order.charge * Decimal("0.3"),
        Resolution.CANCEL_REFUND: order.charge,
        Resolution.FINISH_PARTIAL: order.charge * Decimal("0.75"),
    }.get(resolution, Decimal(0))
    assert order.is_final and order.review_reason == ""
    assert order.dispatch_state in (D.SENT, D.FAILED)
    refunds = BalanceTransaction.objects.filter(order_id=order.pk, kind="refund")
    assert order.refunded == expected_refund == sum((r.amount for r in refunds), Decimal(0))
    customer.refresh_from_db()
    assert customer.balance == Decimal(100) - order.charge + expected_refund
    adds = sandbox_stats(sandbox)["adds_per_link"].get(order.link, 0)
    assert adds == 1  # whatever the resolution, bought once


def test_the_sweeper_flags_a_lost_worker_with_its_reason(place: Callable[..., Order]) -> None:
    order = place()
    Order.objects.filter(pk=order.pk).update(
        dispatch_state=D.SENDING, sending_started_at=timezone.now() - timedelta(hours=1)
    )
    dispatch_sweep()
    order.refresh_from_db()
    assert (order.dispatch_state, order.review_reason) == (D.NEEDS_REVIEW, Reason.WORKER_LOST)
    with pytest.raises(InvalidTransition):
        review_resolve(
            kind=Kind.ORDER, pk=order.pk, resolution=Resolution.FINISH_PARTIAL, admin=order.user
        )
