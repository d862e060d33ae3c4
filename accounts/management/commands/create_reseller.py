from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext

from accounts.services import api_key_create, user_create_customer
from core.errors import PanelError
from core.money import parse_money


class Command(BaseCommand):
    help = (
        "Create an active customer with an opening balance credited through the ledger. "
        "The new API key is printed alone on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--balance", default="0", help="Opening balance in the panel currency, e.g. 25.00"
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None, help="Allow web login with this password")

    def handle(self, *args: object, **options: object) -> None:
        try:
            balance = parse_money(options["balance"])
        except ValueError as exc:
            raise CommandError(f"--balance: {exc}") from exc
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
            raise CommandError(exc.message) from exc
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
