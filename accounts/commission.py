"""The commission ledger: referral commission, kept apart from the spending balance.

Every change locks the user row and writes its CommissionTransaction in one statement (the same
core.db.ledger move as the balance). Settled commission is credited; a reversal is written even
when it takes the balance below zero (what was already paid out becomes owed and the next
commissions fill it); what the affiliate asks for (a move to the spending balance, a payout)
never does. The affiliates app decides when each happens (docs/affiliates.md)."""

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import BalanceTransaction, CommissionTransaction, User
from accounts.services import balance_credit
from core.db.bulk import bulk_insert_values, bulk_update_values
from core.db.ledger import ledger_move
from core.errors import InsufficientFunds, InvalidRequest
from core.money import MONEY_QUANTUM, ZERO

Kind = CommissionTransaction.Kind


def _check_amount(amount: Decimal) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= ZERO:
        raise InvalidRequest("Amount must be a positive number")
    if amount != amount.quantize(MONEY_QUANTUM):
        raise InvalidRequest("Amount has too many decimal places")


def _move(
    *,
    user_id: int,
    delta: Decimal,
    kind: str,
    commission_id: int | None = None,
    payout_id: int | None = None,
    created_by: User | None = None,
    may_go_negative: bool = False,
) -> CommissionTransaction:
    entry = CommissionTransaction(
        user_id=user_id,
        amount=delta,
        kind=kind,
        commission_id=commission_id,
        payout_id=payout_id,
        created_by=created_by,
    )
    moved = ledger_move(
        accounts=User,
        account_id=user_id,
        entry=entry,
        column="commission_balance",
        may_go_negative=may_go_negative,
    )
    if moved is not None:
        return moved
    if not User.objects.filter(pk=user_id).exists():
        raise User.DoesNotExist(f"No user {user_id}")
    raise InsufficientFunds()


def commission_credit(
    *,
    user_id: int,
    amount: Decimal,
    kind: str,
    commission_id: int | None = None,
    payout_id: int | None = None,
    created_by: User | None = None,
) -> CommissionTransaction:
    """A settled commission (once per commission) or a rejected payout given back (once per
    payout): the unique keys refuse a second one."""
    _check_amount(amount)
    return _move(
        user_id=user_id,
        delta=amount,
        kind=kind,
        commission_id=commission_id,
        payout_id=payout_id,
        created_by=created_by,
    )


def commission_settle_many(*, settled: list[tuple[int, Decimal, int]]) -> None:
    """Credit many settled commissions, `(user_id, amount, commission_id)` each, in a few
    statements instead of a lock per line: the settle pass credits thousands. Users are locked
    in primary-key order (two batches cannot deadlock); a commission credited before violates
    the ledger's unique key and rolls the whole batch back."""
    if not settled:
        return
    by_user: dict[int, list[tuple[Decimal, int]]] = defaultdict(list)
    for user_id, amount, commission_id in settled:
        _check_amount(amount)
        by_user[user_id].append((amount, commission_id))
    now = timezone.now()
    with transaction.atomic():
        balances = dict(
            User.objects.select_for_update(no_key=True)
            .filter(pk__in=by_user)
            .order_by("pk")
            .values_list("pk", "commission_balance")
        )
        rows: list[dict[str, object]] = []
        for user_id in sorted(by_user):
            balance = balances[user_id]
            for amount, commission_id in by_user[user_id]:
                balance += amount
                rows.append(
                    {
                        "user_id": user_id,
                        "amount": amount,
                        "kind": Kind.COMMISSION,
                        "balance_after": balance,
                        "commission_id": commission_id,
                        "created_at": now,
                    }
                )
            balances[user_id] = balance
        bulk_update_values(
            User, {user_id: {"commission_balance": balances[user_id]} for user_id in by_user}
        )
        bulk_insert_values(CommissionTransaction, rows)


def commission_reverse(*, user_id: int, amount: Decimal, commission_id: int) -> None:
    """Take a settled commission back (its deposit was refunded or charged back), once. The
    balance may go below zero: that is what the affiliate owes."""
    _check_amount(amount)
    _move(
        user_id=user_id,
        delta=-amount,
        kind=Kind.REVERSAL,
        commission_id=commission_id,
        may_go_negative=True,
    )


def commission_debit_payout(*, user_id: int, amount: Decimal, payout_id: int) -> None:
    """Set aside a requested payout. Raises InsufficientFunds (nothing written) when the
    commission balance is lower."""
    _check_amount(amount)
    _move(user_id=user_id, delta=-amount, kind=Kind.PAYOUT, payout_id=payout_id)


def commission_to_balance(*, user_id: int, amount: Decimal) -> BalanceTransaction:
    """Move available commission into the spending balance: a debit of the commission ledger
    and a credit of the balance ledger in one transaction. Raises InsufficientFunds (nothing
    written) when the commission balance is lower."""
    _check_amount(amount)
    with transaction.atomic():
        _move(user_id=user_id, delta=-amount, kind=Kind.TRANSFER)
        return balance_credit(
            user_id=user_id, amount=amount, kind=BalanceTransaction.Kind.COMMISSION
        )
