"""What SePay and Casso share: a transfer into the configured account becomes a deposit."""

from payments.config import GatewayConfig
from payments.gateways.base import WebhookRejected
from payments.services import DepositOutcome, deposit_receive_transfer
from payments.services.transfers import Transfer

# What a bank transfer needs, whichever service reports it: an account customers pay into (the
# admin's bank accounts, or the PANEL_BANK_* settings) and the memo prefix that names them.
ACCOUNT_FIELDS = ("transfer_prefix",)
REQUIRED_ACCOUNT_FIELDS = ("bank_accounts", "transfer_prefix")


def receive(*, transfer: Transfer, account: str, config: GatewayConfig) -> DepositOutcome:
    if account.strip() not in config.receiving_numbers:
        raise WebhookRejected("not our account")
    return deposit_receive_transfer(transfer=transfer, config=config)
