"""Every write to users, balances and API keys."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import NoReturn

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import keys
from accounts.memos import OPENING_BALANCE
from accounts.models import ApiKey, BalanceTransaction, ChildPanel, PricingTier, User
from accounts.ranks import RankMove, best_rank, is_promotion, ledger_totals, rank_key
from core import memos
from core.db.bulk import (
    GIVEN,
    bulk_add_values,
    bulk_insert_values,
    given_less_row_column_sql,
)
from core.db.ledger import RowMove, ledger_move
from core.db.partitions import period_of_subject_columns_sql, period_of_subject_sql
from core.db.reads import KeyLookup, api_key_lookup
from core.errors import InsufficientFunds, InvalidRequest
from core.memos import Memo, Text
from core.money import MONEY_PLACES, MONEY_QUANTUM, ZERO
from core.phones import NotAPhoneNumber, vn_mobile_normalize
from core.tenancy import current_panel_id

Kind = BalanceTransaction.Kind


@dataclass(frozen=True)
class Credit:
    """One credit of a batch (see balance_credit_many)."""

    user_id: int
    amount: Decimal
    kind: str
    memo: Text = ""
    order_id: int | None = None
    product_order_id: int | None = None
    refill_id: int | None = None


# The subjects a Credit may name (its fields): its ledger row takes the month of the first.
_CREDIT_SUBJECTS = ("order_id", "product_order_id", "refill_id")


def _memo_columns(memo: Text) -> dict[str, object]:
    """A memo the panel wrote is stored as its code and parameters (core.memos); a person's
    words, as typed."""
    return memos.columns(memo, prefix="memo", max_length=255)


def _check_amount(amount: Decimal) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= ZERO:
        raise InvalidRequest("Amount must be a positive number")
    if amount != amount.quantize(MONEY_QUANTUM):
        raise InvalidRequest(f"Amount has more than {MONEY_PLACES} decimal places")


def _move(
    *,
    user_id: int,
    delta: Decimal,
    kind: str,
    memo: Text,
    order_id: int | None,
    product_order_id: int | None,
    created_by: User | None,
    deposit_id: int | None = None,
    refill_id: int | None = None,
    in_current_month: bool = False,
) -> BalanceTransaction:
    entry = BalanceTransaction(
        user_id=user_id,
        amount=delta,
        kind=kind,
        **_memo_columns(memo),
        order_id=order_id,
        product_order_id=product_order_id,
        deposit_id=deposit_id,
        refill_id=refill_id,
        created_by=created_by,
    )
    # The month of the subject, which the ledger's unique keys hold, decided by the database
    # from its registry, not by this process's clock (docs/scaling.md). Named no subject, it
    # gives the writer's own month.
    period = (
        period_of_subject_sql()
        if in_current_month
        else period_of_subject_sql(
            order_id=order_id,
            product_order_id=product_order_id,
            refill_id=refill_id,
            deposit_id=deposit_id,
        )
    )
    # No savepoint of its own: an order's `add` is a handful of round trips, and a savepoint is
    # two more. Nothing is written before the refusal below, and it is raised after the move,
    # so the caller's transaction stays usable.
    moved = ledger_move(accounts=User, account_id=user_id, entry=entry, computed={"period": period})
    if moved is None:
        debit_refused(user_id=user_id)
    return moved


def balance_credit(
    *,
    user_id: int,
    amount: Decimal,
    kind: str = Kind.DEPOSIT,
    memo: Text = "",
    order_id: int | None = None,
    product_order_id: int | None = None,
    created_by: User | None = None,
    deposit_id: int | None = None,
    refill_id: int | None = None,
    in_current_month: bool = False,
) -> BalanceTransaction:
    """Add `amount` (> 0) to the balance and the ledger, under a lock on the user row.

    A repeated (deposit_id, kind), (order_id, kind) or (refill_id, kind) violates the ledger's
    unique constraints, which hold the subject's month. `in_current_month` books the row in
    the writer's month instead: the credit of a deposit whose own month is archived
    (payments.services.crediting), which its month's key no longer guards; the caller's lock
    on the deposit row and its status keep it to one credit.
    """
    _check_amount(amount)
    return _move(
        user_id=user_id,
        delta=amount,
        kind=kind,
        memo=memo,
        order_id=order_id,
        product_order_id=product_order_id,
        created_by=created_by,
        deposit_id=deposit_id,
        refill_id=refill_id,
        in_current_month=in_current_month,
    )


def balance_debit(
    *,
    user_id: int,
    amount: Decimal,
    kind: str = Kind.CHARGE,
    memo: Text = "",
    order_id: int | None = None,
    product_order_id: int | None = None,
    created_by: User | None = None,
) -> BalanceTransaction:
    """Take `amount` (> 0) from the balance, under a lock on the user row.

    Raises InsufficientFunds, and changes nothing, when the balance is lower than the amount.
    """
    _check_amount(amount)
    return _move(
        user_id=user_id,
        delta=-amount,
        kind=kind,
        memo=memo,
        order_id=order_id,
        product_order_id=product_order_id,
        created_by=created_by,
    )


def balance_debit_move(
    *, user_id: int, amount: Decimal, kind: str, memo: Memo, subject: str
) -> RowMove:
    """The debit of `amount` (> 0) for a row that the caller's statement inserts with it
    (core.db.inserts.insert_with_event_and_move): `balance_debit` in the same round trip as
    an order's insert. The ledger row names the new row in its `subject` column (`order_id`,
    `product_order_id`), takes its month, and `memo` gets its id as the parameter `id`.

    A refused debit changes no balance: the caller then calls `debit_refused`."""
    _check_amount(amount)
    entry = BalanceTransaction(
        user_id=user_id,
        amount=-amount,
        kind=kind,
        **_memo_columns(memo),
        # The new row's, which the statement reads (an unsaved event's month is left so too).
        period=None,  # type: ignore[misc]
    )
    return RowMove(
        accounts=User, account_id=user_id, entry=entry, subject=subject, id_in=("memo_params",)
    )


def debit_refused(*, user_id: int) -> NoReturn:
    """Raise what a refused debit means: User.DoesNotExist when the refusal was for want of
    the user, else InsufficientFunds. Always raises; nothing is written, so a caller whose
    transaction must stay usable calls it outside its atomic block."""
    if not User.objects.filter(pk=user_id).exists():
        raise User.DoesNotExist(f"No user {user_id}")
    raise InsufficientFunds()


def balance_adjust(
    *, user_id: int, amount: Decimal, memo: str, created_by: User | None
) -> BalanceTransaction:
    """An admin correction, either sign; a reason is required so the ledger explains itself."""
    if not memo.strip():
        raise InvalidRequest("A reason is required for a balance adjustment")
    if amount < ZERO:
        return balance_debit(
            user_id=user_id, amount=-amount, kind=Kind.ADJUSTMENT, memo=memo, created_by=created_by
        )
    return balance_credit(
        user_id=user_id, amount=amount, kind=Kind.ADJUSTMENT, memo=memo, created_by=created_by
    )


def balance_credit_many(*, credits: list[Credit]) -> None:
    """Apply many credits (refunds from one poll) in a few queries instead of one lock per row.

    Runs inside the caller's transaction. Users are locked in primary-key order, so two batches
    that touch the same users cannot deadlock. A repeated (order, kind), (product order, kind)
    or (refill, kind) violates the ledger's unique constraint and rolls the whole batch back.
    """
    if not credits:
        return
    for credit in credits:
        _check_amount(credit.amount)
    # Each credit's balance after it is the user's new balance less the user's credits that
    # come after it in the batch: worked out here, so that the users' rows are locked, added to
    # and read back by the database within the two statements, with no round trip between
    # (other pollers credit the same users and wait for these locks).
    later: dict[int, Decimal] = defaultdict(lambda: ZERO)
    offsets: list[Decimal] = []
    for credit in reversed(credits):
        offsets.append(later[credit.user_id])
        later[credit.user_id] += credit.amount
    offsets.reverse()
    now = timezone.now()
    rows = [
        {
            "user_id": credit.user_id,
            "amount": credit.amount,
            "kind": credit.kind,
            "balance_after": offset,  # the later credits: see _BALANCE_AFTER
            **_memo_columns(credit.memo),
            "order_id": credit.order_id,
            "product_order_id": credit.product_order_id,
            "refill_id": credit.refill_id,
            "created_at": now,
        }
        for credit, offset in zip(credits, offsets, strict=True)
    ]
    with transaction.atomic():
        bulk_add_values(User, {user_id: {"balance": total} for user_id, total in later.items()})
        # Each row's month from its subject, read by the database as _move's is.
        period = period_of_subject_columns_sql(_CREDIT_SUBJECTS, row=GIVEN)
        bulk_insert_values(
            BalanceTransaction, rows, computed={"period": period, "balance_after": _BALANCE_AFTER}
        )


# A batch's ledger row's balance after it: its user's balance as the batch left it, less the
# amount of the user's later rows in the batch (given as the row's own `balance_after`).
_BALANCE_AFTER = given_less_row_column_sql(User, "balance", key="user_id", less="balance_after")


# --- API keys ------------------------------------------------------------------------------

_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_create(*, user: User, for_child_panel: ChildPanel | None = None) -> str:
    """Revoke the user's active keys (of that child panel's link, or his own) and return a new
    one. The key is not stored: show it once."""
    key = keys.generate_key()
    with transaction.atomic():
        ApiKey.objects.filter(
            user=user, for_child_panel=for_child_panel, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        ApiKey.objects.create(
            user=user,
            prefix=keys.lookup_prefix(key),
            digest=keys.key_digest(key),
            for_child_panel=for_child_panel,
        )
    return key


def api_key_revoke(*, user: User) -> int:
    """Revoke the user's own keys; his child panels' links keep theirs."""
    return ApiKey.objects.filter(
        user=user, for_child_panel__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def api_key_authenticate(*, key: str) -> User | None:
    """The active user owning `key`, or None. Constant-time on the secret part."""
    key = key.strip()
    if not keys.is_well_formed(key):
        return None
    # One query written once (core.db.reads): every API request runs this.
    return api_key_accept(
        key=key, found=api_key_lookup(keys=ApiKey, users=User, prefix=keys.lookup_prefix(key))
    )


def api_key_accept(*, key: str, found: KeyLookup[User] | None) -> User | None:
    """The user of the well-formed `key` if `found`, the unrevoked key read by its lookup
    prefix, is that key and its user may use it here; None otherwise."""
    if found is None or not keys.digest_matches(key, found.digest):
        return None
    # A key works on the panel its account belongs to only: a child panel's customer's key is
    # "Invalid API key" at the parent and at every other child panel, and the reverse.
    if not found.user.is_active or found.user.child_panel_id != current_panel_id():
        return None
    now = timezone.now()
    # One write a minute per key is enough for "last used", and keeps hot keys off the row lock.
    if found.last_used_at is None or now - found.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=found.key_id).update(last_used_at=now)
    return found.user


# --- Users ---------------------------------------------------------------------------------


def user_create_customer(
    *,
    username: str,
    password: str | None = None,
    email: str = "",
    balance: Decimal = ZERO,
    created_by: User | None = None,
) -> User:
    """An active customer with `balance` deposited through the ledger. No password: no web login."""
    if User.objects.with_username(username).exists():
        raise InvalidRequest(gettext_noop("A user named %(name)s already exists"), name=username)
    with transaction.atomic():
        user = User(username=username, email=email, child_panel_id=current_panel_id())
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        if balance > ZERO:
            balance_credit(
                user_id=user.pk,
                amount=balance,
                kind=Kind.DEPOSIT,
                memo=OPENING_BALANCE(),
                created_by=created_by,
            )
            user.refresh_from_db(fields=["balance"])
    return user


def user_set_language(*, user: User, language: str) -> None:
    """Keep the user's language choice; an unknown code is refused."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidRequest(f"Unknown language {language!r}")
    if user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language


def user_set_phone(*, user: User, phone: str) -> None:
    """Keep the customer's phone/Zalo number, national form (core.phones); "" removes it."""
    if phone:
        try:
            phone = vn_mobile_normalize(phone)
        except NotAPhoneNumber:
            raise InvalidRequest(_("Enter a Vietnamese mobile number, e.g. 0912345678.")) from None
    if user.phone != phone:
        User.objects.filter(pk=user.pk).update(phone=phone)
        user.phone = phone


# --- Ranks (pricing tiers; the rules are in accounts.ranks) ----------------------------------


def pricing_tiers_assign(*, user_ids: list[int] | None = None) -> list[RankMove]:
    """Move each user (or only `user_ids`) up to the best active rank their ledger totals
    reach; never down, except off a rank that is no longer active (accounts.ranks).

    Runs on beat and in the transaction that credits a deposit. Each move is a conditional
    update on the rank the user was read with, under row locks taken in id order: a user that a
    concurrent pass (or deposit) moved meanwhile is left to it, so two passes cannot undo each
    other's promotion. Returns the moves made."""
    every_rank = {rank.pk: rank for rank in PricingTier.objects.all()}
    ladder = [rank for rank in every_rank.values() if rank.is_active]
    totals = ledger_totals(user_ids=user_ids, bases={rank.basis for rank in ladder})
    users = User.objects.all() if user_ids is None else User.objects.filter(pk__in=user_ids)
    # The ranks are the parent panel's: a child panel's customers hold none (docs/child-panels.md).
    users = users.filter(child_panel__isnull=True)
    plan: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
    for user_id, held_id in users.values_list("pk", "pricing_tier_id"):
        target = best_rank(ladder, totals.get(user_id, {}))
        held = every_rank.get(held_id) if held_id is not None else None
        if held is not None and held.is_active:
            if target is None or rank_key(target) <= rank_key(held):
                continue  # held: never down on its own
        elif (target.pk if target else None) == held_id:
            continue
        plan[(held_id, target.pk if target else None)].append(user_id)
    moves: list[RankMove] = []
    for (from_id, to_id), moved in _ranks_move(plan).items():
        previous = every_rank.get(from_id) if from_id is not None else None
        target = every_rank.get(to_id) if to_id is not None else None
        moves += [
            RankMove(
                user_id=user_id,
                rank=target,
                previous=previous,
                is_promotion=is_promotion(target, previous),
            )
            for user_id in moved
        ]
    return moves


def _ranks_move(
    plan: dict[tuple[int | None, int | None], list[int]],
) -> dict[tuple[int | None, int | None], list[int]]:
    """Carry out `plan` ((held rank, new rank) → user ids) for the users who still hold the rank
    they were read with; the ids moved per step. Every row is locked first, in one id order, so
    passes running at once queue on each other instead of deadlocking."""
    with transaction.atomic():
        held_now = dict(
            User.objects.select_for_update()
            .filter(pk__in=[user_id for ids in plan.values() for user_id in ids])
            .order_by("pk")
            .values_list("pk", "pricing_tier_id")
        )
        done: dict[tuple[int | None, int | None], list[int]] = {}
        for (from_id, to_id), ids in plan.items():
            still = [user_id for user_id in ids if held_now.get(user_id, -1) == from_id]
            User.objects.filter(pk__in=still).update(pricing_tier_id=to_id)
            done[(from_id, to_id)] = still
    return done
