"""The demo's affiliate: `demo` brought in a few of the demo customers, whose bank transfers
earned commission (some settled, some still held), and one of whom paid from the same bank
account holder as `demo`, so the admin's flagged queue has an example with its evidence."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from affiliates.models import Referral
from affiliates.services import affiliate_ensure, affiliate_settle, referral_record_signup
from payments.models import Deposit, Gateway
from payments.services.crediting import credit_locked

# (customer, [(amount, days ago)], the payer's name on their transfers)
REFERRED = (
    ("linh", [(Decimal("40"), 20), (Decimal("25"), 2)], "TRAN THI LINH"),
    ("minh", [(Decimal("80"), 12)], "LE VAN MINH"),
    ("trang", [(Decimal("15"), 1)], "PHAM THU TRANG"),
    ("hoa", [(Decimal("30"), 9)], "NGUYEN VAN DEMO"),
)
AFFILIATE_PAYER = "NGUYEN VAN DEMO"


def _transfer(user: User, amount: Decimal, *, days_ago: int, payer: str) -> None:
    """A bank transfer credited through the payments service, then moved back in time."""
    deposit = Deposit.objects.create(
        user=user,
        gateway=Gateway.SEPAY,
        external_id=f"demo-{uuid.uuid4().hex[:12]}",
        amount=amount,
        currency=user.currency,
        received_amount=amount,
        received_currency=user.currency,
        rate=Decimal(1),
        status=Deposit.Status.PENDING,
        payer_account="",
        payer_name=payer,
    )
    credit_locked(
        deposit=Deposit.objects.select_for_update().get(pk=deposit.pk),
        user_id=user.pk,
        created_by=None,
    )
    moment = timezone.now() - timedelta(days=days_ago)
    Deposit.objects.filter(pk=deposit.pk).update(created_at=moment, credited_at=moment)


def seed_demo_affiliates(*, affiliate: str) -> int:
    """Referrals of `affiliate` among the demo customers; returns how many were made."""
    referrer = User.objects.filter(username=affiliate).first()
    if referrer is None or Referral.objects.filter(referrer=referrer).exists():
        return 0
    with transaction.atomic():
        code = affiliate_ensure(user_id=referrer.pk).code
        _transfer(referrer, Decimal("20"), days_ago=25, payer=AFFILIATE_PAYER)
        made = 0
        for name, transfers, payer in REFERRED:
            user = User.objects.filter(username=name).first()
            if user is None or hasattr(user, "referral"):
                continue
            referral_record_signup(user=user, code=code, address="", user_agent="")
            Referral.objects.filter(referred=user).update(
                created_at=timezone.now() - timedelta(days=30)
            )
            for amount, days_ago in transfers:
                _transfer(user, amount, days_ago=days_ago, payer=payer)
            made += 1
        affiliate_settle()
    return made
