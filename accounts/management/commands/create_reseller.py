from decimal import Decimal

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.services import api_key_create, user_create_customer
from core.commands import OperatorCommand, amount_option
from core.errors import PanelError, error_display


class Command(OperatorCommand):
    summary = _(
        "Create an active customer with an opening balance credited through the ledger. "
        "The new API key is printed alone on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--balance",
            default="0",
            help=gettext("Opening balance in the panel currency, e.g. 25.00"),
        )
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password", default=None, help=gettext("Allow web login with this password")
        )

    def handle(self, *args: object, **options: object) -> None:
        balance = amount_option("--balance", options["balance"])
        if balance < Decimal(0):
            raise CommandError(gettext("--balance must not be negative"))
        try:
            with transaction.atomic():
                user = user_create_customer(
                    username=str(options["username"]),
                    email=str(options["email"]),
                    password=options["password"],  # type: ignore[arg-type]
                    balance=balance,
                )
                key = api_key_create(user=user)
        except PanelError as exc:
            raise CommandError(error_display(exc)) from exc
        self.stdout.write(
            gettext("created %(username)s (id %(id)s) with balance %(balance)s %(currency)s")
            % {
                "username": user.username,
                "id": user.pk,
                "balance": user.balance,
                "currency": user.currency,
            }
        )
        self.stdout.write(key)
