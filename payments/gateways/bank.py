"""What SePay and Casso share: a transfer into the configured account becomes a deposit."""

from payments.config import GatewayConfig
from payments.gateways.base import WebhookRejected
from payments.services import DepositOutcome, deposit_receive_transfer
from payments.services.transfers import Transfer

# What a bank transfer needs, whichever service reports it: the account customers pay into (and
# the memo prefix that names them), set in the admin or through the PANEL_BANK_* settings.
ACCOUNT_FIELDS = ("bank_bin", "bank_account", "bank_account_name", "transfer_prefix")
REQUIRED_ACCOUNT_FIELDS = ("bank_bin", "bank_account", "transfer_prefix")


def receive(*, transfer: Transfer, account: str, config: GatewayConfig) -> DepositOutcome:
    if account.strip() != config.bank_account:
        raise WebhookRejected("not our account")
    return deposit_receive_transfer(transfer=transfer, config=config)
