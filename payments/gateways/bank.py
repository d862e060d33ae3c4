"""What SePay and Casso share: a transfer into the configured account becomes a deposit."""

from payments.config import GatewayConfig
from payments.gateways.base import WebhookRejected
from payments.services import DepositOutcome, deposit_receive_transfer
from payments.services.transfers import Transfer


def receive(*, transfer: Transfer, account: str, config: GatewayConfig) -> DepositOutcome:
    if account.strip() != config.bank_account:
        raise WebhookRejected("not our account")
    return deposit_receive_transfer(transfer=transfer, config=config)
