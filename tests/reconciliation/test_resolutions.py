"""Every way out of every kind of mismatch, each to a final status; refused moves change
nothing."""

from collections.abc import Callable
from decimal import Decimal

import pytest

from accounts.models import User
from orders.models import Order
from reconciliation.models import Mismatch, MismatchKind, MismatchStatus
from reconciliation.services import MOVES, ResolutionRefused, mismatch_resolve
from tests.reconciliation.conftest import Books

S = MismatchStatus


@pytest.fixture
def flags(books: Books, sent_order: Callable[..., Order]) -> dict[str, Mismatch]:
    from tests.support import sandbox_control

    books.open()
    overcharged, unrefunded, kept = (sent_order() for _ in range(3))
    books.plant(overcharged, extra_charge="0.5")
    books.plant(unrefunded, skip_refund=True)
    books.plant(kept, refund="0.2")
    books.force(overcharged, "Completed")
    books.force(unrefunded, "Canceled")
    books.force(kept, "Completed")
    books.poll()
    sandbox_control(books.sandbox, "balance_adjust", amount="-3")
    books.close()
    day = books.reconcile()
    return {flag.kind: flag for flag in day.mismatches.all()}


PATHS = [
    (kind, path)
    for kind, path in [
        (MismatchKind.OVERCHARGED, [S.CLAIMED, S.RECOVERED]),
        (MismatchKind.OVERCHARGED, [S.CLAIMED, S.WRITTEN_OFF]),
        (MismatchKind.OVERCHARGED, [S.RECOVERED]),
        (MismatchKind.OVERCHARGED, [S.WRITTEN_OFF]),
        (MismatchKind.OVERCHARGED, [S.ACKNOWLEDGED]),
        (MismatchKind.REFUND_MISSING, [S.CLAIMED, S.RECOVERED]),
        (MismatchKind.REFUND_MISSING, [S.CLAIMED, S.WRITTEN_OFF]),
        (MismatchKind.REFUND_MISSING, [S.ACKNOWLEDGED]),
        (MismatchKind.BALANCE, [S.CLAIMED, S.RECOVERED]),
        (MismatchKind.BALANCE, [S.ACKNOWLEDGED]),
        (MismatchKind.BALANCE, [S.WRITTEN_OFF]),
        (MismatchKind.REFUND_KEPT, [S.ACKNOWLEDGED]),
    ]
]


def test_the_paths_cover_every_move_of_the_table() -> None:
    covered = {
        (kind, frm, to)
        for kind, path in PATHS
        for frm, to in zip([S.OPEN, *path], path, strict=False)
    }
    table = {
        (kind, frm, to) for kind, moves in MOVES.items() for frm, tos in moves.items() for to in tos
    }
    same_rules = {MismatchKind.OVERCHARGED, MismatchKind.REFUND_MISSING, MismatchKind.BALANCE}
    # The three kinds of money owed share one table: each move is tested on one of them.
    assert {(k if k not in same_rules else "owed", f, t) for k, f, t in table} == {
        (k if k not in same_rules else "owed", f, t) for k, f, t in covered
    }


@pytest.mark.parametrize(("kind", "path"), PATHS)
def test_each_way_out_ends_settled_with_its_history(
    flags: dict[str, Mismatch], staff: User, kind: str, path: list[str]
) -> None:
    flag = flags[kind]
    for status in path:
        flag = mismatch_resolve(
            mismatch_id=flag.pk, to_status=status, note="per ticket 42", admin=staff
        )
    flag.refresh_from_db()
    assert flag.status == path[-1]
    assert flag.is_settled
    assert flag.settled_by == staff and flag.settled_at is not None
    assert [step["status"] for step in flag.history] == path
    assert flag.history[-1]["by"] == staff.username


@pytest.mark.parametrize("status", [S.WRITTEN_OFF, S.ACKNOWLEDGED])
def test_a_loss_or_an_explanation_needs_a_note(
    flags: dict[str, Mismatch], staff: User, status: str
) -> None:
    flag = flags[MismatchKind.OVERCHARGED]
    with pytest.raises(ResolutionRefused):
        mismatch_resolve(mismatch_id=flag.pk, to_status=status, note="  ", admin=staff)
    flag.refresh_from_db()
    assert (flag.status, flag.history) == (S.OPEN, [])


def test_a_refund_the_provider_gave_cannot_be_claimed(
    flags: dict[str, Mismatch], staff: User
) -> None:
    flag = flags[MismatchKind.REFUND_KEPT]
    with pytest.raises(ResolutionRefused):
        mismatch_resolve(mismatch_id=flag.pk, to_status=S.CLAIMED, note="", admin=staff)
    flag.refresh_from_db()
    assert flag.status == S.OPEN


def test_a_settled_mismatch_moves_no_more(flags: dict[str, Mismatch], staff: User) -> None:
    flag = flags[MismatchKind.BALANCE]
    mismatch_resolve(mismatch_id=flag.pk, to_status=S.ACKNOWLEDGED, note="top-up", admin=staff)
    for status in S.values:
        with pytest.raises(ResolutionRefused):
            mismatch_resolve(mismatch_id=flag.pk, to_status=status, note="x", admin=staff)
    flag.refresh_from_db()
    assert flag.status == S.ACKNOWLEDGED and len(flag.history) == 1


def test_a_settled_flag_is_left_alone_by_a_rerun(
    books: Books, flags: dict[str, Mismatch], staff: User
) -> None:
    flag = flags[MismatchKind.OVERCHARGED]
    mismatch_resolve(mismatch_id=flag.pk, to_status=S.WRITTEN_OFF, note="lost", admin=staff)
    day = books.reconcile()
    flag.refresh_from_db()
    assert flag.status == S.WRITTEN_OFF
    assert day.mismatches.filter(kind=MismatchKind.OVERCHARGED).count() == 1
    assert flag.reported - flag.expected == Decimal("0.5")
