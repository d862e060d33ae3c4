from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.commands import OperatorCommand
from core.errors import PanelError, error_display
from operatorapi.models import Scope
from operatorapi.services import staff_api_key_create


class Command(OperatorCommand):
    summary = _(
        "Create a staff API key for the operator API (docs/admin-api.md); the key is printed on "
        "the last line. It can do what USERNAME's permissions allow, narrowed by --scope. With "
        "PANEL_STAFF_2FA on, USERNAME must have two-factor on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help=gettext("What uses the key (default: cli)."))
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            choices=Scope.values,
            help=gettext("Narrow the key to this scope (repeat for more); none means all."),
        )
        parser.add_argument(
            "--allow",
            action="append",
            default=[],
            help=gettext("Accept calls only from this address or CIDR network (repeatable)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = User.objects.filter(username__iexact=options["username"]).first()
        if owner is None:
            raise CommandError(
                gettext("No such user: %(username)s") % {"username": options["username"]}
            )
        try:
            row, key = staff_api_key_create(
                owner=owner,
                created_by=owner,
                name=options["name"] or "cli",
                scopes=options["scope"],
                allowed_networks=options["allow"],
            )
        except PanelError as exc:
            raise CommandError(error_display(exc)) from None
        scopes = ", ".join(row.scopes) or gettext("everything the owner may do")
        self.stdout.write(
            gettext("Staff API key '%(name)s' for %(username)s (%(scopes)s):")
            % {"name": row.name, "username": owner.get_username(), "scopes": scopes}
        )
        self.stdout.write(key)
