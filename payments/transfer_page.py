"""The bank-transfer part of the add-funds page, as a phone user pays: one tab per bank account
(its bank's badge, its own VietQR, a PNG of it to save), the amount with quick picks, and links
that open the common banking apps with the transfer filled in."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.models import User
from core.money import money_str, money_text
from payments import services
from payments.banks import Bank, badge_svg
from payments.config import GatewayConfig, ReceivingAccount
from payments.deeplinks import BANK_APPS, deeplink
from payments.forms import BankAmountForm
from payments.memo import memo_for
from payments.vietqr import build_payload, qr_png, qr_svg

# The amounts Vietnamese panels offer as one tap (đồng); those outside the limits are left out.
QUICK_AMOUNTS = (Decimal(50000), Decimal(100000), Decimal(200000), Decimal(500000))


@dataclass(frozen=True)
class AccountTab:
    key: str
    bank: Bank | None
    badge: SafeString
    number: str
    holder: str
    qr_svg: str
    png_url: str
    apps: list[tuple[str, str]]
    is_selected: bool


@dataclass(frozen=True)
class QuickAmount:
    amount: Decimal
    label: str
    url: str
    is_chosen: bool


def chosen_amount(
    query: QueryDict, *, config: GatewayConfig
) -> tuple[BankAmountForm, Decimal | None]:
    """The amount the customer asked the QR to carry (?amount=), when it is a valid one: a
    transfer outside the limits would wait for an admin, so the QR never asks for one."""
    form = BankAmountForm(query if "amount" in query else None)
    if not form.is_valid():
        return form, None
    amount: Decimal = form.cleaned_data["amount"]
    if config.min_amount is not None and amount < config.min_amount:
        form.add_error(
            "amount",
            _("The smallest deposit is %(amount)s.") % {"amount": vnd_text(config.min_amount)},
        )
        return form, None
    if config.max_amount is not None and amount > config.max_amount:
        form.add_error(
            "amount",
            _("The largest deposit is %(amount)s.") % {"amount": vnd_text(config.max_amount)},
        )
        return form, None
    return form, amount


def vnd_text(amount: Decimal) -> str:
    """An amount of đồng as the reader's language writes it ("100.000 ₫")."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return money_text(amount, currency="VND", language=language)


def account_by_key(config: GatewayConfig, key: str) -> ReceivingAccount | None:
    return next((account for account in config.bank_accounts if account.key == key), None)


def transfer_png(
    *, account: ReceivingAccount, user: User, prefix: str, amount: Decimal | None
) -> bytes:
    """The account's VietQR for `user` as a PNG. The memo is always the user's own: no request
    can make the panel draw anyone else's."""
    memo = memo_for(prefix=prefix, user_id=user.pk)
    return qr_png(
        build_payload(bank_bin=account.bank_bin, account=account.number, amount=amount, memo=memo)
    )


def png_filename(*, account: ReceivingAccount, memo: str, amount: Decimal | None) -> str:
    bank = account.bank.code if account.bank else account.bank_bin
    return (
        "-".join(
            part for part in ("vietqr", bank, memo, str(int(amount)) if amount else "") if part
        )
        + ".png"
    )


def _query(**values: object) -> str:
    query = QueryDict(mutable=True)
    for name, value in values.items():
        if value:
            query[name] = str(value)
    return f"?{query.urlencode()}" if query else ""


def _tab(
    account: ReceivingAccount, *, memo: str, amount: Decimal | None, is_selected: bool
) -> AccountTab:
    payload = build_payload(
        bank_bin=account.bank_bin, account=account.number, amount=amount, memo=memo
    )
    bank = account.bank
    apps = (
        [
            (
                app.name,
                deeplink(
                    app,
                    account=account.number,
                    bank_code=bank.code,
                    amount=amount,
                    memo=memo,
                    holder=account.holder,
                ),
            )
            for app in BANK_APPS
        ]
        if bank
        else []
    )
    return AccountTab(
        key=account.key,
        bank=bank,
        badge=badge_svg(bank, bank_bin=account.bank_bin),
        number=account.number,
        holder=account.holder,
        qr_svg=qr_svg(payload),
        png_url=reverse("deposit_qr_png", args=[account.key])
        + _query(amount=int(amount) if amount else None),
        apps=apps,
        is_selected=is_selected,
    )


def _quick_amounts(config: GatewayConfig, *, chosen: Decimal | None, key: str) -> list[QuickAmount]:
    low, high = config.min_amount, config.max_amount
    return [
        QuickAmount(
            amount=amount,
            label=f"{int(amount) // 1000}K",
            url=_query(amount=int(amount), account=key),
            is_chosen=amount == chosen,
        )
        for amount in QUICK_AMOUNTS
        if (low is None or amount >= low) and (high is None or amount <= high)
    ]


def transfer_context(*, config: GatewayConfig, user: User, query: QueryDict) -> dict:
    form, amount = chosen_amount(query, config=config)
    memo = memo_for(prefix=config.transfer_prefix, user_id=user.pk)
    selected = account_by_key(config, query.get("account", "")) or config.bank_accounts[0]
    return {
        "config": config,
        "form": form,
        "amount": amount,
        "amount_digits": str(int(amount)) if amount else "",
        "memo": memo,
        "tabs": [
            _tab(account, memo=memo, amount=amount, is_selected=account == selected)
            for account in config.bank_accounts
        ],
        "selected_key": selected.key,
        "quick_amounts": _quick_amounts(config, chosen=amount, key=selected.key),
        "min_amount": config.min_amount,
        "max_amount": config.max_amount,
        "rate": money_str(config.rate) if config.rate else "",
        "coupon": services.bank_coupon_of(user=user),
    }
