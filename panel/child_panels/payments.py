"""A child panel's own payment settings, set by its owner on /child-panels/: his bank account
and the keys of his SePay and Casso accounts, so its customers pay him and his webhooks credit
them (docs/child-panels.md#his-customers-pay-him). The same rows the parent's admin keeps for the
parent (GatewaySettings, BankAccount), carrying the panel's id; keys encrypted at rest the same
way, never shown again."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from accounts.models import ChildPanel, ChildPanelState, User
from core.errors import InvalidRequest
from core.tenancy import panel_scope
from payments.config import GatewayConfig, gateway_config
from payments.models import BankAccount, Deposit, GatewaySettings, Method
from payments.services import deposit_assign

# The keys the owner sets: the bank method's reporters' (payments.gateways: SePay, Casso).
KEY_FIELDS = ("sepay_api_key", "casso_checksum_key")
QUEUE = (Deposit.Status.UNMATCHED, Deposit.Status.REVIEW)


@dataclass(frozen=True)
class PaymentSettings:
    """What the owner's page shows of them: the account, and each key masked."""

    bank_bin: str
    account_number: str
    holder: str
    transfer_prefix: str
    masked_keys: dict[str, str]
    config: GatewayConfig


def _owned(owner: User, child_panel_id: int) -> ChildPanel:
    child = ChildPanel.objects.filter(pk=child_panel_id, owner=owner).first()
    if child is None or child.state == ChildPanelState.DELETED:
        raise InvalidRequest()
    return child


def mask(secret: str) -> str:
    """A key as the page shows it: its last four characters, enough to tell two apart."""
    return "•" * 8 + secret[-4:] if len(secret) > 8 else "•" * 8


def child_panel_payment_settings(*, child: ChildPanel) -> PaymentSettings | None:
    row = GatewaySettings.objects.filter(child_panel=child, method=Method.BANK).first()
    if row is None:
        return None
    account = BankAccount.objects.filter(child_panel=child).first()
    with panel_scope(child.pk, currency=child.currency):
        config = gateway_config(method=Method.BANK)
    return PaymentSettings(
        bank_bin=account.bank_bin if account else "",
        account_number=account.account_number if account else "",
        holder=account.holder if account else "",
        transfer_prefix=row.transfer_prefix,
        masked_keys={name: mask(value) for name, value in row.secrets.items() if value},
        config=config,
    )


def child_panel_payments_set(
    *,
    owner: User,
    child_panel_id: int,
    bank_bin: str,
    account_number: str,
    holder: str,
    transfer_prefix: str,
    keys: dict[str, str],
    forget: tuple[str, ...] = (),
) -> GatewaySettings:
    """Save the panel's bank transfer settings: its one account (replacing the one before; a
    transfer still reported into the old number is refused as not its account) and its keys (a
    key left empty keeps the stored one; `forget` drops one). At least one key must remain:
    without a reporter no transfer would ever be credited. Raises InvalidRequest."""
    child = _owned(owner, child_panel_id)
    with transaction.atomic():
        row = (
            GatewaySettings.objects.select_for_update()
            .filter(child_panel=child, method=Method.BANK)
            .first()
        ) or GatewaySettings(child_panel=child, method=Method.BANK, currency="VND")
        secrets = {name: value for name, value in row.secrets.items() if name in KEY_FIELDS}
        for name in forget:
            secrets.pop(name, None)
        secrets.update(
            {name: value for name, value in keys.items() if value and name in KEY_FIELDS}
        )
        if not secrets:
            raise InvalidRequest(gettext_noop("Enter your SePay API key or Casso checksum key."))
        row.secrets = secrets
        row.transfer_prefix = transfer_prefix
        row.is_enabled = True
        row.save()
        BankAccount.objects.filter(child_panel=child).exclude(
            account_number=account_number
        ).delete()
        try:
            with transaction.atomic():
                BankAccount.objects.update_or_create(
                    child_panel=child,
                    account_number=account_number,
                    defaults={"bank_bin": bank_bin, "holder": holder, "is_active": True},
                )
        except IntegrityError as exc:
            raise InvalidRequest(gettext_noop("Check the bank and the account number.")) from exc
    return row


def child_panel_queue(*, child: ChildPanel) -> QuerySet[Deposit]:
    """Transfers into the owner's account that matched none of his customers, or need his
    decision (outside the limits): his own queue (the parent's admin sees it too)."""
    return Deposit.objects.filter(child_panel=child, status__in=QUEUE).order_by("-id")


def child_panel_deposit_assign(
    *, owner: User, child_panel_id: int, deposit_id: int, username: str
) -> Deposit:
    """The owner credits a transfer of his queue to the customer of his panel who sent it, with
    his name on the ledger line. Raises InvalidRequest or InvalidTransition (already decided)."""
    child = _owned(owner, child_panel_id)
    if not child_panel_queue(child=child).filter(pk=deposit_id).exists():
        raise InvalidRequest()
    with panel_scope(child.pk, currency=child.currency):
        customer = User.objects.with_username(username).first()
    if customer is None:
        raise InvalidRequest(gettext_noop("No customer of this panel has that username."))
    return deposit_assign(deposit_id=deposit_id, user_id=customer.pk, admin=owner)
