from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.commands import OperatorCommand
from core.errors import error_display
from panel.backups import BackupError, backup_create, backup_default_path


class Command(OperatorCommand):
    summary = _("Write a consistent backup of the database (pg_dump's custom format).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            default="",
            help=gettext("The file to write; default var/backups/panel-<time>.dump"),
        )

    def handle(self, *args: object, **options: object) -> None:
        output = str(options["output"])
        target = Path(output) if output else backup_default_path(settings.BASE_DIR / "var/backups")
        try:
            written = backup_create(target=target)
        except BackupError as exc:
            raise CommandError(error_display(exc)) from exc
        self.stdout.write(str(written))
