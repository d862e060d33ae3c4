"""The affiliates' settle pass at size (issue 19): referred customers' deposits by bank, card
(each naming its card) and crypto, a tenth of them refunded or charged back (half before their
commission settled, half after, some of it already moved to the balance), and a few referrers
paying with a referred customer's card after the commission accrued (held when it would
settle). Checks that every affiliate's commission ledger equals their settled commissions less
the reversals and moves, that check_ledger is clean for both books, and prints each pass's
time."""

import random
from datetime import timedelta
from decimal import Decimal

from bench.common import count_queries, note, report, reset_tables, timed

GATEWAYS = ("sepay", "stripe", "cryptomus")


def _seed(*, customers: int, deposits: int, affiliates: int) -> list[int]:
    """Affiliates and their referred customers, and credited deposits through the payments
    service; returns the deposit ids."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import Credit, balance_credit_many
    from affiliates.models import Referral
    from affiliates.services import affiliate_ensure
    from payments.models import Deposit

    rng = random.Random(19)
    owners = User.objects.bulk_create(
        [User(username=f"aff{i}", email=f"aff{i}@example.com") for i in range(affiliates)]
    )
    for owner in owners:
        affiliate_ensure(user_id=owner.pk)
    referred = User.objects.bulk_create(
        [User(username=f"ref{i}", email=f"ref{i}@example.com") for i in range(customers)]
    )
    Referral.objects.bulk_create(
        [Referral(referred=user, referrer=rng.choice(owners)) for user in referred]
    )
    # Credited as crediting leaves them, in bulk: the deposit rows and their ledger lines (the
    # crediting service itself is measured by the webhooks benchmark).
    now = timezone.now()
    rows, credits = [], []
    for index in range(deposits):
        user = referred[index % customers]
        amount = Decimal(rng.randint(5, 500))
        gateway = GATEWAYS[index % len(GATEWAYS)]
        rows.append(
            Deposit(
                user=user,
                gateway=gateway,
                # A card payment names its card, as Stripe's charge does: the payer check reads
                # these when a commission accrues and again before it settles.
                payer_account=f"card:{user.username}" if gateway == "stripe" else "",
                external_id=f"bench-{index}",
                amount=amount,
                currency="USD",
                received_amount=amount,
                received_currency="USD",
                rate=Decimal(1),
                status=Deposit.Status.CREDITED,
                credited_amount=amount,
                credited_at=now,
            )
        )
        credits.append(Credit(user_id=user.pk, amount=amount, kind="deposit"))
    with transaction.atomic():
        ids = [deposit.pk for deposit in Deposit.objects.bulk_create(rows)]
        balance_credit_many(credits=credits)
    return ids


def _reverse(ids: list[int]) -> None:
    from payments.models import DepositReversal
    from payments.services import deposit_reversal_record

    for index, deposit_id in enumerate(ids):
        kind = DepositReversal.Kind.REFUND if index % 2 else DepositReversal.Kind.CHARGEBACK
        deposit_reversal_record(deposit_id=deposit_id, kind=kind, external_id=f"re-{deposit_id}")


def _pay_as_referred(*, count: int) -> int:
    """`count` referrers, each with a referred customer whose card commission is pending, make
    a card deposit with that customer's card; returns how many."""
    from decimal import Decimal

    from affiliates.models import Commission, Referral
    from payments.models import Deposit, Gateway
    from tests.affiliates.helpers import credited_deposit

    by_card = Commission.objects.filter(
        status=Commission.Status.PENDING,
        deposit_id__in=Deposit.objects.filter(gateway=Gateway.STRIPE).values("pk"),
    )
    referrals = (
        Referral.objects.filter(referred__in=by_card.values("referred"))
        .select_related("referrer", "referred")
        .order_by("pk")
    )
    done: set[int] = set()
    for referral in referrals:
        if len(done) == count:
            break
        if referral.referrer_id in done:
            continue
        credited_deposit(
            referral.referrer,
            Decimal("50"),
            gateway=Gateway.STRIPE,
            payer_account=f"card:{referral.referred.username}",
        )
        done.add(referral.referrer_id)
    return len(done)


def _books_agree() -> int:
    """Affiliates whose commission balance is not their settled commissions less reversals
    of settled ones and what they moved out (should be none)."""
    from django.db.models import Q, Sum

    from accounts.models import CommissionTransaction, User
    from affiliates.models import Commission
    from core.money import ZERO

    wrong = 0
    for user in User.objects.filter(affiliate__isnull=False):
        mine = Commission.objects.filter(affiliate=user, settled_at__isnull=False)
        settled = mine.aggregate(total=Sum("amount", default=ZERO))["total"]
        reversed_after = mine.filter(status=Commission.Status.REVERSED).aggregate(
            total=Sum("amount", default=ZERO)
        )["total"]
        moved = CommissionTransaction.objects.filter(
            Q(kind="transfer") | Q(kind="payout"), user=user
        ).aggregate(total=Sum("amount", default=ZERO))["total"]
        if user.commission_balance != settled - reversed_after + moved:
            wrong += 1
    return wrong


def run(*, customers: int, deposits: int) -> None:
    from django.utils import timezone

    from accounts.models import User
    from accounts.selectors import ledger_mismatches
    from affiliates.models import Commission, Referral
    from affiliates.services import affiliate_settle, commission_move_to_balance

    reset_tables()
    rng = random.Random(7)
    with timed() as seeding:
        ids = _seed(customers=customers, deposits=deposits, affiliates=max(1, customers // 20))
    note(f"seeded {customers} referred customers and {deposits} credited deposits")
    report("affiliates_seed", seeding[0], "s")
    reversed_ids = rng.sample(ids, k=deposits // 10)
    before, after = reversed_ids[: len(reversed_ids) // 2], reversed_ids[len(reversed_ids) // 2 :]

    with count_queries() as queries, timed() as accrue:
        first = affiliate_settle()
    report("affiliates_accrue_pass", accrue[0], "s")
    note(f"accrued {first.accrued}, settled {first.settled} (crypto) in {queries[0]} queries")

    _reverse(before)
    # Self-referrals found late: a few referrers pay with a referred customer's card after the
    # customer's commissions accrued; the check before settling holds that referral's.
    planted = _pay_as_referred(count=max(1, customers // 100))
    with timed() as settle:
        second = affiliate_settle(now=timezone.now() + timedelta(days=121))
    report("affiliates_settle_pass", settle[0], "s")
    note(f"reversed {second.reversed} before settling, settled {second.settled}")
    flagged = Referral.objects.filter(review=Referral.Review.FLAGGED).count()
    held = Commission.objects.filter(status=Commission.Status.HELD).count()
    note(f"{flagged} of {planted} planted self-referrals flagged, {held} commissions held")
    report("affiliates_flagged_at_settling", flagged, "referrals")
    assert flagged == planted

    # Some affiliates spend their commission, then deposits they were paid for are taken back.
    for user in User.objects.filter(affiliate__isnull=False, commission_balance__gt=0)[::3]:
        commission_move_to_balance(user=user, amount=user.commission_balance)
    _reverse(after)
    with timed() as reverse:
        third = affiliate_settle(now=timezone.now() + timedelta(days=122))
    report("affiliates_reversal_pass", reverse[0], "s")
    owing = User.objects.filter(commission_balance__lt=0).count()
    note(f"reversed {third.reversed} after settling; {owing} affiliates now owe commission")

    with timed() as idle:
        affiliate_settle(now=timezone.now() + timedelta(days=123))
    report("affiliates_idle_pass", idle[0], "s")

    assert Commission.objects.count() == deposits
    assert Commission.objects.filter(status="reversed").count() == len(reversed_ids)
    report("affiliates_books_disagreeing", _books_agree(), "affiliates")
    report("affiliates_ledger_mismatches", len(ledger_mismatches()), "users")
    assert not User.objects.filter(balance__lt=0).exists()
