import secrets

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import ChildPanel
from core.commands import OperatorCommand
from core.errors import PanelError, error_display
from panel.child_panels.staff import child_panel_owner_login_set


class Command(OperatorCommand):
    summary = _(
        "Give the child panel on DOMAIN its owner login (the account that opens its own admin "
        "with every role): an account of that panel named LOGIN, made when it has none, its "
        "password then printed once. For a panel made without one (docs/child-panels.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain")
        parser.add_argument("login")

    def handle(self, *args: object, **options: object) -> None:
        child = ChildPanel.objects.filter(domain__iexact=str(options["domain"])).first()
        if child is None:
            raise CommandError(
                gettext("No child panel on %(domain)s") % {"domain": repr(options["domain"])}
            )
        password = secrets.token_urlsafe(12)
        try:
            login, created = child_panel_owner_login_set(
                child=child, username=str(options["login"]), password=password
            )
        except PanelError as exc:
            raise CommandError(error_display(exc)) from exc
        self.stdout.write(
            gettext("%(domain)s: owner login %(username)s")
            % {"domain": child.domain, "username": login.username}
        )
        if created:
            # Shown once, never stored in clear: the owner changes it on the panel.
            self.stdout.write(
                gettext("login %(username)s, password %(password)s")
                % {"username": login.username, "password": password}
            )
