"""Closing started payments that will never be paid: an admin's rejection, in the panel and at
its gateway (the deposit is closed first, then the gateway is asked, after commit so no
transaction waits on it, to expire the session), and the pending deposits a gateway can no
longer report paid."""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User
from core import memos
from payments.config import gateway_config
from payments.gateways import GATEWAYS
from payments.models import Deposit
from payments.services import deposit_reject

# Deposit.reason is a catalog id: shown in the reader's language (Deposit.reason_text).
EXPIRED_UNPAID = gettext_noop("never paid: its gateway no longer takes the payment")


def deposit_reject_everywhere(*, deposit_id: int, admin: User, reason: str) -> Deposit:
    """deposit_reject, and expire the deposit's Checkout Session or invoice where the gateway's
    API allows it. A payment that still arrives is reported as paid after rejection."""
    deposit = deposit_reject(deposit_id=deposit_id, admin=admin, reason=reason)
    gateway = GATEWAYS.get(deposit.gateway)
    if gateway is None or not deposit.external_id or deposit.payload:
        return deposit  # a transfer, or a payment already reported: nothing open to close
    config = gateway_config(method=gateway.method)
    transaction.on_commit(lambda: gateway.expire(deposit=deposit, config=config))
    return deposit


def deposits_close_expired(*, deposits: QuerySet[Deposit], now: datetime | None = None) -> int:
    """Reject, as never paid, the pending deposits among `deposits` started longer ago than
    their gateway's `payable_for`: abandoned, the gateway's "expired" report lost. A conditional
    update, so a payment credited meanwhile stays credited, and one reported after this waits
    as paid after rejection, like any rejected deposit's. Returns how many were closed; a
    gateway with no known bound closes none."""
    now = now or timezone.now()
    closed = 0
    for gateway in GATEWAYS.values():
        if gateway.payable_for is None:
            continue
        closed += deposits.filter(
            gateway=gateway.gateway,
            status=Deposit.Status.PENDING,
            created_at__lt=now - gateway.payable_for,
        ).update(
            status=Deposit.Status.REJECTED,
            **memos.columns(EXPIRED_UNPAID, prefix="reason", max_length=255),
            updated_at=now,
        )
    return closed
