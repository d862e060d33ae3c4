"""Reads over users and the ledger that are more than a simple fetch."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, Model, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import BalanceTransaction, CommissionTransaction, LedgerArchivedTotal, User
from core.money import MONEY_DIGITS, MONEY_PLACES, ZERO


@dataclass(frozen=True)
class LedgerMismatch:
    user_id: int
    username: str
    balance: Decimal
    ledger_sum: Decimal
    book: str = "balance"  # or "commission_balance": the commission ledger


def _book_mismatches(
    book: str,
    lines: type[BalanceTransaction | CommissionTransaction],
    archived: type[LedgerArchivedTotal] | None = None,
) -> list[LedgerMismatch]:
    money = DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)

    def summed(model: type[Model]) -> Coalesce:
        total = (
            model._default_manager.filter(user=OuterRef("pk"))
            .values("user")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return Coalesce(Subquery(total, output_field=money), Value(ZERO), output_field=money)

    # The archived months' rows count as their totals (panel.archive).
    ledger_sum = summed(lines) if archived is None else summed(lines) + summed(archived)
    rows = (
        User.objects.annotate(ledger_sum=ledger_sum)
        .values_list("pk", "username", book, "ledger_sum")
        .order_by("pk")
    )
    return [
        LedgerMismatch(user_id=pk, username=name, balance=cached, ledger_sum=total, book=book)
        for pk, name, cached, total in rows
        if cached != total
    ]


def ledger_mismatches() -> list[LedgerMismatch]:
    """Users whose cached balance differs from the sum of their ledger rows, in either book:
    the spending balance and the commission balance (should be none)."""
    return _book_mismatches("balance", BalanceTransaction, LedgerArchivedTotal) + _book_mismatches(
        "commission_balance", CommissionTransaction
    )


def ledger_for_user(*, user: User) -> QuerySet[BalanceTransaction]:
    return BalanceTransaction.objects.filter(user=user).order_by("-id")


def signup_expiry_cutoff(now: datetime | None = None) -> datetime:
    """Unconfirmed sign-ups that joined before this have expired (PANEL_SIGNUP_CONFIRM_HOURS)."""
    return (now or timezone.now()) - timedelta(hours=settings.PANEL_SIGNUP_CONFIRM_HOURS)


def signups_expired(*, now: datetime | None = None) -> QuerySet[User]:
    return User.objects.filter(
        awaiting_confirmation=True, is_active=False, date_joined__lt=signup_expiry_cutoff(now)
    )


def username_taken(username: str) -> bool:
    """Whether a sign-up may not have `username` (in any spelling): an expired unconfirmed
    sign-up holding it does not count, sign-up deletes it."""
    return (
        User.objects.with_username(username).exclude(pk__in=signups_expired().values("pk")).exists()
    )


def login_name(typed: str) -> str:
    """The username a login form's "username or email" means: an account's own name first (a
    name may contain "@"), else the one active account with that email address; otherwise what
    was typed, which then fails like any unknown name. The login throttle counts the name this
    returns, so an address and its account's name share one counter."""
    if "@" not in typed or User.objects.with_username(typed).exists():
        return typed
    holders = list(
        User.objects.in_current_panel()
        .filter(email__iexact=typed.strip(), is_active=True)
        .values_list("username", flat=True)[:2]
    )
    return holders[0] if len(holders) == 1 else typed
