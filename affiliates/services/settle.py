"""The settle pass: commissions accrued from referred deposits, reversed when their deposit is
taken back, settled into the commission ledger when it no longer can be (docs/affiliates.md).

Payments knows nothing of affiliates: the pass reads its rows (credited deposits and their
DepositReversal). It runs on beat and as `manage.py affiliate_settle`; two passes at once take
turns on one advisory lock, and the unique keys (one commission per deposit, one ledger line
per commission and kind) make a commission count once whatever runs."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.commission import commission_reverse, commission_settle_many
from accounts.models import User
from affiliates.models import Affiliate, Commission, Referral, ReferralFlag
from affiliates.services.referrals import referral_flag, signup_traces_purge
from core.db.locks import wait_transaction_lock
from core.money import ZERO, quantize_money
from payments.gateways import GATEWAYS
from payments.gateways.base import Finality
from payments.models import Deposit, DepositReversal, Gateway

Status = Commission.Status
BATCH = 500
LOCK = "affiliates.settle"
ACCRUAL_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class SettleResult:
    accrued: int
    reversed: int
    settled: int


def commission_percents(*, affiliate_ids: set[int]) -> dict[int, Decimal]:
    """Each affiliate's percent: the admin's for them; else the global percent or their rank's,
    the higher (a rank unlocks more, never less)."""
    overrides = dict(
        Affiliate.objects.filter(user_id__in=affiliate_ids, percent__isnull=False).values_list(
            "user_id", "percent"
        )
    )
    ranked = dict(
        User.objects.filter(pk__in=affiliate_ids - overrides.keys()).values_list(
            "pk", "pricing_tier__affiliate_percent"
        )
    )
    default = settings.PANEL_AFFILIATE_PERCENT
    return {
        # An override of 0 % is the admin's word too: pay that affiliate nothing.
        affiliate_id: (overrides[affiliate_id] or ZERO)
        if affiliate_id in overrides
        else max(default, ranked.get(affiliate_id) or ZERO)
        for affiliate_id in affiliate_ids
    }


def hold_for(gateway: str) -> timedelta:
    """How long a payment of `gateway` can still be taken back, as the gateway declares it."""
    known = GATEWAYS.get(gateway)
    finality = known.finality if known else Finality.TRANSFER
    if finality == Finality.FINAL:
        return timedelta(0)
    if finality == Finality.CARD:
        return timedelta(days=settings.PANEL_AFFILIATE_CARD_HOLD_DAYS)
    return timedelta(days=settings.PANEL_AFFILIATE_HOLD_DAYS)


def _accrued_up_to() -> datetime | None:
    """Where the last pass got to, less a margin for a crediting transaction that was still open
    while it ran (its credited_at is earlier than its commit): deposits credited before this all
    have their commission. None: nothing was accrued yet."""
    newest = Commission.objects.aggregate(newest=Max("deposit_credited_at"))["newest"]
    return newest - ACCRUAL_MARGIN if newest else None


def _unaccrued(since: datetime | None) -> QuerySet[Deposit]:
    """Credited deposits of referred customers, made since their referral, that have no
    commission yet: what the customer actually paid. Manual credits never count, and bonuses and
    coupons are their own ledger lines, not the deposit's credited amount."""
    recent = Deposit.objects.filter(credited_at__gte=since) if since else Deposit.objects.all()
    return (
        recent.filter(
            status=Deposit.Status.CREDITED,
            user__referral__isnull=False,
            credited_at__gte=F("user__referral__created_at"),
        )
        .exclude(gateway=Gateway.MANUAL)
        .filter(~Exists(Commission.objects.filter(deposit_id=OuterRef("pk"))))
        .annotate(
            referrer_id=F("user__referral__referrer_id"),
            referral_id=F("user__referral__id"),
            is_reversed=Exists(DepositReversal.objects.filter(deposit_id=OuterRef("pk"))),
        )
        .order_by("credited_at", "pk")
    )


def _same_payers(
    deposits: list[Deposit], referrer_of: dict[int, int]
) -> dict[int, tuple[str, dict]]:
    """Evidence, per deposit, that its referrer (`referrer_of[deposit id]`) paid with the same
    account or holder name (the account wins when both match). One query for all of them."""
    known = [d for d in deposits if d.payer_account or d.payer_name]
    if not known:
        return {}
    accounts = {d.payer_account for d in known if d.payer_account}
    names = {d.payer_name for d in known if d.payer_name}
    by_account: dict[tuple[int, str], list[int]] = defaultdict(list)
    by_name: dict[tuple[int, str], list[int]] = defaultdict(list)
    theirs = (
        Deposit.objects.filter(user_id__in={referrer_of[d.pk] for d in known})
        .filter(Q(payer_account__in=accounts) | Q(payer_name__in=names))
        .order_by("pk")
        .values_list("pk", "user_id", "payer_account", "payer_name")
    )
    for pk, user_id, account, name in theirs:
        if account in accounts:
            by_account[user_id, account].append(pk)
        if name in names:
            by_name[user_id, name].append(pk)
    evidence: dict[int, tuple[str, dict]] = {}
    for deposit in known:
        referrer_id = referrer_of[deposit.pk]
        for reason, payer, seen in (
            (ReferralFlag.Reason.SAME_PAYER_ACCOUNT, deposit.payer_account, by_account),
            (ReferralFlag.Reason.SAME_PAYER_NAME, deposit.payer_name, by_name),
        ):
            ids = seen.get((referrer_id, payer), []) if payer else []
            if ids:
                evidence[deposit.pk] = (
                    reason,
                    {"payer": payer, "deposit": deposit.pk, "referrer_deposits": ids[:10]},
                )
                break
    return evidence


def _status_for(deposit: Deposit, *, review: str, amount: Decimal) -> str:
    if deposit.is_reversed:  # type: ignore[attr-defined]
        return Status.REVERSED
    if amount <= ZERO or review == Referral.Review.REFUSED:
        return Status.REFUSED
    return Status.HELD if review == Referral.Review.FLAGGED else Status.PENDING


def _accrue_batch(batch: list[Deposit], *, now: datetime) -> None:
    """Commissions of a batch of deposits: a few queries for the batch, one insert; the payer
    check (and a flag) only for deposits whose payer is known."""
    referrals = Referral.objects.in_bulk([d.referral_id for d in batch])  # type: ignore[attr-defined]
    same_payers = _same_payers(
        batch,
        {d.pk: referrals[d.referral_id].referrer_id for d in batch},  # type: ignore[attr-defined]
    )
    for deposit in batch:
        evidence = same_payers.get(deposit.pk)
        if evidence is not None:
            referral = referrals[deposit.referral_id]  # type: ignore[attr-defined]
            referral_flag(referral=referral, reason=evidence[0], evidence=evidence[1])
    percents = commission_percents(affiliate_ids={r.referrer_id for r in referrals.values()})
    rows = []
    for deposit in batch:
        referral = referrals[deposit.referral_id]  # type: ignore[attr-defined]
        percent = percents[referral.referrer_id]
        amount = quantize_money(deposit.credited_amount * percent / 100, rounding=ROUND_DOWN)
        status = _status_for(deposit, review=referral.review, amount=amount)
        rows.append(
            Commission(
                deposit_id=deposit.pk,
                affiliate_id=referral.referrer_id,
                referred_id=referral.referred_id,
                deposit_amount=deposit.credited_amount,
                deposit_credited_at=deposit.credited_at or now,
                percent=percent,
                amount=max(amount, ZERO),
                status=status,
                settle_at=(deposit.credited_at or now) + hold_for(deposit.gateway),
                reversed_at=now if status == Status.REVERSED else None,
            )
        )
    Commission.objects.bulk_create(rows)


def commissions_accrue(*, now: datetime) -> int:
    done = 0
    while True:
        with transaction.atomic():
            wait_transaction_lock(LOCK)
            batch = list(_unaccrued(_accrued_up_to())[:BATCH])
            if batch:
                _accrue_batch(batch, now=now)
        done += len(batch)
        if len(batch) < BATCH:
            return done


def commissions_reverse(*, now: datetime) -> int:
    """Commissions whose deposit was refunded or charged back: not yet settled, they are simply
    never paid; settled, a reversal line takes them back (into debt if already paid out)."""
    done = 0
    reversed_deposits = DepositReversal.objects.values("deposit_id")
    while True:
        with transaction.atomic():
            wait_transaction_lock(LOCK)
            batch = list(
                Commission.objects.filter(
                    deposit_id__in=reversed_deposits,
                    status__in=[Status.PENDING, Status.HELD, Status.AVAILABLE],
                ).order_by("pk")[:BATCH]
            )
            for commission in batch:
                if commission.status == Status.AVAILABLE:
                    commission_reverse(
                        user_id=commission.affiliate_id,
                        amount=commission.amount,
                        commission_id=commission.pk,
                    )
                Commission.objects.filter(pk=commission.pk, status=commission.status).update(
                    status=Status.REVERSED, reversed_at=now
                )
        done += len(batch)
        if len(batch) < BATCH:
            return done


def _hold_late_evidence(batch: list[Commission]) -> list[Commission]:
    """The same-payer check again, just before paying: what the payer was may be learnt after
    the commission accrued (a card's fingerprint comes with Stripe's charge event, which can
    follow the payment by minutes or hours), and the referrer may have paid from the same
    account since. A match flags the referral, which holds its pending commissions; the rest
    of the batch is returned. One query when no deposit of the batch names its payer."""
    paid_by = list(
        Deposit.objects.filter(pk__in=[c.deposit_id for c in batch])
        .exclude(payer_account="", payer_name="")
        .only("pk", "payer_account", "payer_name")
    )
    if not paid_by:
        return batch
    by_deposit = {c.deposit_id: c for c in batch}
    evidence = _same_payers(paid_by, {d.pk: by_deposit[d.pk].affiliate_id for d in paid_by})
    if not evidence:
        return batch
    for deposit_id, (reason, found) in evidence.items():
        commission = by_deposit[deposit_id]
        # Only the referral the commission was earned on: after an admin's change of referrer
        # it is gone, and the commission stays with who earned it, as accrued.
        referral = Referral.objects.filter(
            referred_id=commission.referred_id, referrer_id=commission.affiliate_id
        ).first()
        if referral is not None:
            referral_flag(referral=referral, reason=reason, evidence=found)
    still_pending = set(
        Commission.objects.filter(pk__in=[c.pk for c in batch], status=Status.PENDING).values_list(
            "pk", flat=True
        )
    )
    return [c for c in batch if c.pk in still_pending]


def commissions_settle(*, now: datetime) -> int:
    """Pending commissions past their hold become available: one ledger line each, unless the
    payer check, run again, now finds the referrer behind the deposit."""
    done = 0
    while True:
        with transaction.atomic():
            wait_transaction_lock(LOCK)
            due = list(
                Commission.objects.filter(status=Status.PENDING, settle_at__lte=now)
                .exclude(amount=ZERO)
                .order_by("pk")[:BATCH]
            )
            batch = _hold_late_evidence(due)
            commission_settle_many(
                settled=[(c.affiliate_id, c.amount, c.pk) for c in batch],
            )
            # Under the pass's lock nothing else moves these rows: all of them change.
            Commission.objects.filter(pk__in=[c.pk for c in batch], status=Status.PENDING).update(
                status=Status.AVAILABLE, settled_at=now
            )
        done += len(batch)
        if len(due) < BATCH:
            return done


def affiliate_settle(*, now: datetime | None = None) -> SettleResult:
    """One settle pass: accrue, then reverse (before settling, so a deposit refunded during its
    hold never reaches the ledger), then settle; and forget sign-up traces past their days."""
    now = now or timezone.now()
    accrued = commissions_accrue(now=now)
    reversed_count = commissions_reverse(now=now)
    settled = commissions_settle(now=now)
    signup_traces_purge(now=now)
    return SettleResult(accrued=accrued, reversed=reversed_count, settled=settled)
