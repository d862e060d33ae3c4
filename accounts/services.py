"""Every write to users, balances and API keys."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts import keys
from accounts.models import ApiKey, BalanceTransaction, PricingTier, User
from core.db.bulk import bulk_insert_values, bulk_update_values
from core.db.ledger import ledger_move
from core.db.reads import api_key_lookup
from core.errors import InsufficientFunds, InvalidRequest
from core.money import MONEY_PLACES, MONEY_QUANTUM, ZERO

Kind = BalanceTransaction.Kind


@dataclass(frozen=True)
class Credit:
    """One credit of a batch (see balance_credit_many)."""

    user_id: int
    amount: Decimal
    kind: str
    memo: str = ""
    order_id: int | None = None
    product_order_id: int | None = None
    refill_id: int | None = None


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
    memo: str,
    order_id: int | None,
    product_order_id: int | None,
    created_by: User | None,
    deposit_id: int | None = None,
    refill_id: int | None = None,
) -> BalanceTransaction:
    entry = BalanceTransaction(
        user_id=user_id,
        amount=delta,
        kind=kind,
        memo=memo[:255],
        order_id=order_id,
        product_order_id=product_order_id,
        deposit_id=deposit_id,
        refill_id=refill_id,
        created_by=created_by,
    )
    # No savepoint of its own: an order's `add` is a handful of round trips, and a savepoint is
    # two more. Nothing is written before the refusal below, and it is raised after the move,
    # so the caller's transaction stays usable.
    if ledger_move(accounts=User, account_id=user_id, entry=entry) is not None:
        return entry
    if not User.objects.filter(pk=user_id).exists():
        raise User.DoesNotExist(f"No user {user_id}")
    raise InsufficientFunds()


def balance_credit(
    *,
    user_id: int,
    amount: Decimal,
    kind: str = Kind.DEPOSIT,
    memo: str = "",
    order_id: int | None = None,
    product_order_id: int | None = None,
    created_by: User | None = None,
    deposit_id: int | None = None,
    refill_id: int | None = None,
) -> BalanceTransaction:
    """Add `amount` (> 0) to the balance and the ledger, under a lock on the user row.

    A repeated (deposit_id, kind), (order_id, kind) or (refill_id, kind) violates the ledger's
    unique constraints.
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
    )


def balance_debit(
    *,
    user_id: int,
    amount: Decimal,
    kind: str = Kind.CHARGE,
    memo: str = "",
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
    that touch the same users cannot deadlock. A repeated (order, kind) violates the ledger's
    unique constraint and rolls the whole batch back.
    """
    if not credits:
        return
    for credit in credits:
        _check_amount(credit.amount)
    by_user: dict[int, list[Credit]] = defaultdict(list)
    for credit in credits:
        by_user[credit.user_id].append(credit)
    now = timezone.now()
    with transaction.atomic():
        balances = dict(
            User.objects.select_for_update(no_key=True)
            .filter(pk__in=by_user)
            .order_by("pk")
            .values_list("pk", "balance")
        )
        # Column values, not instances, and one unnest-joined UPDATE instead of a CASE per
        # user: a poll credits thousands of refunds, and building those cost more than writing.
        rows: list[dict[str, object]] = []
        for user_id in sorted(by_user):
            balance = balances[user_id]
            for credit in by_user[user_id]:
                balance += credit.amount
                rows.append(
                    {
                        "user_id": user_id,
                        "amount": credit.amount,
                        "kind": credit.kind,
                        "balance_after": balance,
                        "memo": credit.memo[:255],
                        "order_id": credit.order_id,
                        "product_order_id": credit.product_order_id,
                        "created_at": now,
                    }
                )
            balances[user_id] = balance
        bulk_update_values(User, {user_id: {"balance": balances[user_id]} for user_id in by_user})
        bulk_insert_values(BalanceTransaction, rows)


# --- API keys ------------------------------------------------------------------------------

_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_create(*, user: User) -> str:
    """Revoke the user's active keys and return a new one. The key is not stored: show it once."""
    key = keys.generate_key()
    with transaction.atomic():
        ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        ApiKey.objects.create(
            user=user, prefix=keys.lookup_prefix(key), digest=keys.key_digest(key)
        )
    return key


def api_key_revoke(*, user: User) -> int:
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def api_key_authenticate(*, key: str) -> User | None:
    """The active user owning `key`, or None. Constant-time on the secret part."""
    key = key.strip()
    if not keys.is_well_formed(key):
        return None
    # One query written once (core.db.reads): every API request runs this.
    found = api_key_lookup(keys=ApiKey, users=User, prefix=keys.lookup_prefix(key))
    if found is None or not keys.digest_matches(key, found.digest):
        return None
    if not found.user.is_active:
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
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidRequest(f"A user named {username!r} already exists")
    with transaction.atomic():
        user = User(username=username, email=email)
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
                memo=gettext_noop("Opening balance"),
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


# --- Pricing tiers -------------------------------------------------------------------------


def _best_tier(tiers: list[PricingTier], totals: dict[str, Decimal]) -> PricingTier | None:
    qualifying = [tier for tier in tiers if totals.get(tier.basis, ZERO) >= tier.threshold]
    return max(qualifying, key=lambda tier: (tier.percent_off, -tier.pk), default=None)


def pricing_tiers_assign(*, user_ids: list[int] | None = None) -> int:
    """Give each user (or only `user_ids`) the best active tier their ledger totals reach.

    Deposits are the deposit rows (bonuses and adjustments excluded); spend is charges less
    refunds. Runs on beat and may be called after a deposit. Returns how many users moved.
    """
    tiers = list(PricingTier.objects.filter(is_active=True))
    ledger = BalanceTransaction.objects.all()
    users = User.objects.all()
    if user_ids is not None:
        ledger, users = ledger.filter(user_id__in=user_ids), users.filter(pk__in=user_ids)
    rows = ledger.values("user_id").annotate(
        deposits=Sum("amount", filter=Q(kind=Kind.DEPOSIT), default=ZERO),
        charges=Sum("amount", filter=Q(kind=Kind.CHARGE), default=ZERO),
        refunds=Sum("amount", filter=Q(kind=Kind.REFUND), default=ZERO),
    )
    desired: dict[int, int | None] = {}
    for row in rows:
        totals: dict[str, Decimal] = {
            PricingTier.Basis.DEPOSITS: row["deposits"],
            PricingTier.Basis.SPEND: -row["charges"] - row["refunds"],
        }
        tier = _best_tier(tiers, totals)
        desired[row["user_id"]] = tier.pk if tier else None
    without_ledger = _best_tier(tiers, {})
    moved = 0
    current = dict(users.values_list("pk", "pricing_tier_id"))
    by_tier: dict[int | None, list[int]] = defaultdict(list)
    for user_id, tier_id in current.items():
        wanted = desired.get(user_id, without_ledger.pk if without_ledger else None)
        if wanted != tier_id:
            by_tier[wanted].append(user_id)
    for target_tier_id, ids in by_tier.items():
        moved += User.objects.filter(pk__in=ids).update(pricing_tier_id=target_tier_id)
    return moved
