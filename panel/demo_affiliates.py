"""The demo's affiliate: `demo` brought in a few of the demo customers, whose bank transfers
earned commission (some settled, some still held), and one of whom paid from the same bank
account holder as `demo`, so the admin's flagged queue has an example with its evidence."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from affiliates.models import Affiliate, Referral
from affiliates.services import affiliate_ensure, affiliate_settle, referral_record_signup
from panel.demo_money import demo_amount
from payments.config import gateway_config
from payments.memo import memo_for
from payments.models import Deposit, Gateway, Method
from payments.services import deposit_receive_transfer
from payments.services.transfers import Transfer

# (customer, [(amount in dollars, days ago)], the payer's name on their transfers)
REFERRED = (
    ("linh", [(Decimal("40"), 20), (Decimal("25"), 2)], "TRAN THI LINH"),
    ("minh", [(Decimal("80"), 12)], "LE VAN MINH"),
    ("trang", [(Decimal("15"), 1)], "PHAM THU TRANG"),
    ("hoa", [(Decimal("30"), 9)], "NGUYEN VAN DEMO"),
)
AFFILIATE_PAYER = "NGUYEN VAN DEMO"
# Browsers that followed the link: more than signed up, as with a real link (a page reading
# "0 visits, 4 sign-ups" looks broken).
VISITS = 23


def _transfer(user: User, dollars: Decimal, *, days_ago: int, payer: str) -> None:
    """A bank transfer of `dollars` (panel.demo_money) with the customer's memo, received and
    credited as a Casso report is, then moved back in time."""
    config = gateway_config(method=Method.BANK)
    rate = config.rate or Decimal(1)
    outcome = deposit_receive_transfer(
        transfer=Transfer(
            gateway=Gateway.CASSO,
            external_id=f"demo-{uuid.uuid4().hex[:12]}",
            amount=demo_amount(dollars) * rate,
            content=memo_for(prefix=config.transfer_prefix, user_id=user.pk),
            payload={},
            payer_account="",
            payer_name=payer,
        ),
        config=config,
    )
    moment = timezone.now() - timedelta(days=days_ago)
    Deposit.objects.filter(pk=outcome.deposit.pk).update(created_at=moment, credited_at=moment)


def seed_demo_affiliates(*, affiliate: str) -> int:
    """Referrals of `affiliate` among the demo customers; returns how many were made."""
    referrer = User.objects.filter(username=affiliate).first()
    if referrer is None or Referral.objects.filter(referrer=referrer).exists():
        return 0
    if gateway_config(method=Method.BANK).rate is None:
        return 0  # no bank transfers configured: nothing to pay with
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
        Affiliate.objects.filter(user=referrer).update(visits=VISITS)
        affiliate_settle()
    return made
