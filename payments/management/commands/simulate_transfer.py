"""Post a correctly signed bank-transfer webhook (SePay, or Casso) to the running panel, as if a
customer had paid by bank transfer with their memo: a newcomer can watch the balance move."""

import hashlib
import hmac
import json
import os
import time
from decimal import Decimal, InvalidOperation

import httpx
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.commands import OperatorCommand
from core.money import balance_str
from payments.config import gateway_config
from payments.memo import memo_for
from payments.models import Method


class Command(OperatorCommand):
    summary = _(
        "Send the running panel a signed SePay (or Casso) webhook for a transfer by USERNAME of AMOUNT VND."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("amount", help=gettext("VND, a whole number"))
        port = os.environ.get("PANEL_WEB_PORT", "8000")
        parser.add_argument(
            "--url", default=f"http://127.0.0.1:{port}", help=gettext("The panel's base URL")
        )
        parser.add_argument("--gateway", choices=["sepay", "casso"], default="sepay")
        parser.add_argument("--memo", help=gettext("Transfer text (default: the user's memo)"))

    def handle(self, *args: object, **options: object) -> None:
        config = gateway_config(method=Method.BANK)
        user = User.objects.filter(username=str(options["username"])).first()
        if user is None:
            raise CommandError(
                gettext("No user named %(username)s") % {"username": repr(options["username"])}
            )
        try:
            amount = int(Decimal(str(options["amount"])))
        except (InvalidOperation, ValueError) as exc:
            raise CommandError(gettext("The amount is a whole number of VND")) from exc
        if not config.bank_accounts:
            raise CommandError(
                gettext("No bank account is set up (admin: Bank accounts, or PANEL_BANK_*)")
            )
        account = config.bank_accounts[0].number
        memo = str(options["memo"] or memo_for(prefix=config.transfer_prefix, user_id=user.pk))
        transfer_id = time.time_ns() // 1000
        text = f"MBVCB.{transfer_id} {memo} chuyen tien"
        if options["gateway"] == "sepay":
            body, headers = self._sepay(
                config.secret("sepay_api_key"), transfer_id, amount, text, account
            )
        else:
            body, headers = self._casso(
                config.secret("casso_checksum_key"), transfer_id, amount, text, account
            )
        url = f"{str(options['url']).rstrip('/')}/payments/webhooks/{options['gateway']}/"
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise CommandError(
                gettext("The panel at %(url)s does not answer: %(error)s")
                % {"url": url, "error": exc}
            ) from exc
        user.refresh_from_db(fields=["balance"])
        self.stdout.write(
            f"POST {url} ({text!r}, {amount} VND) -> {response.status_code} {response.text}"
        )
        self.stdout.write(
            gettext("balance of %(username)s: %(balance)s %(currency)s")
            % {
                "username": user.username,
                "balance": balance_str(user.balance),
                "currency": user.currency,
            }
        )

    def _sepay(
        self, key: str, transfer_id: int, amount: int, text: str, account: str
    ) -> tuple[bytes, dict[str, str]]:
        if not key:
            raise CommandError(
                gettext(
                    "No SePay API key is configured (PANEL_SEPAY_API_KEY or the admin's gateway "
                    "settings)"
                )
            )
        body = {
            "id": transfer_id,
            "gateway": "Vietcombank",
            "transactionDate": time.strftime("%Y-%m-%d %H:%M:%S"),
            "accountNumber": account,
            "code": None,
            "content": text,
            "transferType": "in",
            "transferAmount": amount,
            "accumulated": amount,
            "subAccount": None,
            "referenceCode": f"FT{transfer_id}",
        }
        return json.dumps(body).encode(), {
            "Authorization": f"Apikey {key}",
            "Content-Type": "application/json",
        }

    def _casso(
        self, key: str, transfer_id: int, amount: int, text: str, account: str
    ) -> tuple[bytes, dict[str, str]]:
        if not key:
            raise CommandError(
                gettext(
                    "No Casso checksum key is configured (PANEL_CASSO_CHECKSUM_KEY or the admin's "
                    "gateway settings)"
                )
            )
        body = {
            "error": 0,
            "data": {
                "id": transfer_id,
                "reference": f"FT{transfer_id}",
                "description": text,
                "amount": amount,
                "transactionDateTime": time.strftime("%Y-%m-%d %H:%M:%S"),
                "accountNumber": account,
                "bankName": "Vietcombank",
            },
        }
        stamp = int(time.time() * 1000)
        signed = f"{stamp}.{json.dumps(body, sort_keys=True, separators=(',', ':'))}"
        digest = hmac.new(key.encode(), signed.encode(), hashlib.sha512).hexdigest()
        headers = {
            "X-Casso-Signature": f"t={stamp},v1={digest}",
            "Content-Type": "application/json",
        }
        return json.dumps(body).encode(), headers
