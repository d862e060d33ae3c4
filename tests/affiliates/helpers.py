"""Deposits as the gateways leave them, for the affiliates tests and the benchmark."""

import uuid
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from payments.models import Deposit, Gateway
from payments.services.crediting import credit_locked


def credited_deposit(
    user: User,
    amount: Decimal,
    *,
    gateway: str = Gateway.SEPAY,
    payer_account: str = "",
    payer_name: str = "",
    coupon_code: str = "",
) -> Deposit:
    """A deposit credited through the payments service, in the panel currency (rate 1)."""
    deposit = Deposit.objects.create(
        user=user,
        gateway=gateway,
        external_id=uuid.uuid4().hex,
        amount=amount,
        currency="USD",
        received_amount=amount,
        received_currency="USD",
        rate=Decimal(1),
        status=Deposit.Status.PENDING,
        payer_account=payer_account,
        payer_name=payer_name,
        coupon_code=coupon_code,
    )
    with transaction.atomic():
        return credit_locked(
            deposit=Deposit.objects.select_for_update().get(pk=deposit.pk),
            user_id=user.pk,
            created_by=None,
        )
