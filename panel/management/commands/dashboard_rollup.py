"""Bring the dashboard's daily rollup up to date now (beat does it every minute)."""

from django.core.management.base import CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.commands import OperatorCommand
from panel.dashboard.rollup import dashboard_rollup


class Command(OperatorCommand):
    summary = _("Roll orders up per day for the admin dashboard (--full: rebuild every day).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full", action="store_true", help=gettext("rebuild every day, not only changed ones")
        )

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(str(dashboard_rollup(full=bool(options["full"]))))
