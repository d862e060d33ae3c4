from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.commands import OperatorCommand
from core.errors import error_display
from panel.backups import BackupError, backup_restore


class Command(OperatorCommand):
    summary = _(
        "Replace the database's contents with a backup made by backup_db, then verify the "
        "ledger. Stop web, workers and beat first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--yes", action="store_true", help=gettext("Do not ask before overwriting the database")
        )

    def handle(self, *args: object, **options: object) -> None:
        source = Path(str(options["file"]))
        question = gettext("Overwrite the database with %(file)s? [y/N] ") % {"file": source}
        if not options["yes"] and input(question) != "y":
            raise CommandError(gettext("Nothing restored"))
        try:
            backup_restore(source=source)
        except BackupError as exc:
            raise CommandError(error_display(exc)) from exc
        self.stdout.write(gettext("restored %(file)s") % {"file": source})
        call_command("check_ledger", stdout=self.stdout, stderr=self.stderr)
