from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from panel.backups import BackupError, backup_create, backup_default_path


class Command(BaseCommand):
    help = "Write a consistent backup of the database (pg_dump's custom format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            default="",
            help="The file to write; default var/backups/panel-<time>.dump",
        )

    def handle(self, *args: object, **options: object) -> None:
        output = str(options["output"])
        target = Path(output) if output else backup_default_path(settings.BASE_DIR / "var/backups")
        try:
            written = backup_create(target=target)
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(str(written))
