import secrets
from decimal import Decimal

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import ChildPanelState, User
from core.commands import OperatorCommand
from core.errors import PanelError, error_display
from panel.child_panels.services import child_panel_create, child_panel_move
from panel.child_panels.staff import child_panel_owner_login_create


class Command(OperatorCommand):
    summary = _(
        "Provision a child panel on DOMAIN for the parent customer --owner: it buys from this "
        "panel as him (docs/child-panels.md). It waits for DNS unless --active."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain")
        parser.add_argument(
            "--owner", required=True, help=gettext("The parent customer who runs it")
        )
        parser.add_argument(
            "--name", default="", help=gettext("The panel's name (default: the domain)")
        )
        parser.add_argument("--language", default="", help=gettext("Its default language (vi, en)"))
        parser.add_argument(
            "--markup-percent",
            default="25",
            help=gettext("The owner's markup over his price, e.g. 25"),
        )
        parser.add_argument(
            "--active", action="store_true", help=gettext("Open it now (its DNS is already set)")
        )
        parser.add_argument(
            "--login",
            default="",
            help=gettext(
                "The owner's login on the panel (its admin); its password is printed once"
            ),
        )

    def handle(self, *args: object, **options: object) -> None:
        owner = User.objects.filter(
            username__iexact=str(options["owner"]), child_panel__isnull=True
        ).first()
        if owner is None:
            raise CommandError(
                gettext("No parent customer named %(username)s")
                % {"username": repr(options["owner"])}
            )
        try:
            # One panel or none: a login the panel refuses leaves no panel behind.
            with transaction.atomic():
                child = child_panel_create(
                    domain=str(options["domain"]),
                    owner=owner,
                    name=str(options["name"]),
                    language=str(options["language"]),
                    markup_percent=Decimal(str(options["markup_percent"])),
                )
                if options["active"]:
                    child = child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)
                password = secrets.token_urlsafe(12)
                if options["login"]:
                    child_panel_owner_login_create(
                        child=child, username=str(options["login"]), password=password
                    )
        except PanelError as exc:
            raise CommandError(error_display(exc)) from exc
        self.stdout.write(
            gettext("%(domain)s: %(state)s (owner %(username)s, id %(id)s)")
            % {
                "domain": child.domain,
                "state": child.get_state_display(),
                "username": owner.username,
                "id": child.pk,
            }
        )
        if options["login"]:
            # Shown once, never stored in clear: the owner changes it on the panel.
            self.stdout.write(
                gettext("login %(username)s, password %(password)s")
                % {"username": options["login"], "password": password}
            )
