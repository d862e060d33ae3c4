"""Rejecting a started payment in the panel and at its gateway: the deposit is closed first, then
the gateway is asked (after commit, so no transaction waits on it) to expire the session."""

from django.db import transaction

from accounts.models import User
from payments.config import gateway_config
from payments.gateways import GATEWAYS
from payments.models import Deposit
from payments.services import deposit_reject


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
