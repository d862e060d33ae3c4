from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from panel.archive import MonthNotArchivable, month_archive, months_archivable


class Command(BaseCommand):
    help = (
        "Archive the months older than PANEL_ARCHIVE_AFTER_MONTHS: their orders, events and "
        "ledger rows written to var/archive/<month>/ and their partitions dropped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--directory", default="", help="Where to write; default var/archive")
        parser.add_argument(
            "--dry-run", action="store_true", help="Only list the months that would go"
        )

    def handle(self, *args: object, **options: object) -> None:
        directory = Path(str(options["directory"])) if options["directory"] else None
        for period in months_archivable():
            if options["dry_run"]:
                self.stdout.write(str(period))
                continue
            try:
                archived = month_archive(period=period, directory=directory)
            except MonthNotArchivable as exc:
                # Oldest first: a later month waits for this one.
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{period}: {archived.orders} orders -> {archived.directory}")
