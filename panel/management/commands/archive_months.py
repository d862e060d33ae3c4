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
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask before dropping the months' rows"
        )

    def handle(self, *args: object, **options: object) -> None:
        directory = Path(str(options["directory"])) if options["directory"] else None
        periods = list(months_archivable())
        # The rows leave the database for files: asked first, as restore_db asks.
        if periods and not options["dry_run"] and not options["yes"]:
            listed = ", ".join(str(period) for period in periods)
            if input(f"Archive {listed} to files and drop them from the database? [y/N] ") != "y":
                raise CommandError("Nothing archived.")
        for period in periods:
            if options["dry_run"]:
                self.stdout.write(str(period))
                continue
            try:
                archived = month_archive(period=period, directory=directory)
            except MonthNotArchivable as exc:
                # Oldest first: a later month waits for this one.
                raise CommandError(str(exc)) from exc
            closed = (
                f", {archived.deposits_closed} abandoned pending deposit(s) rejected"
                if archived.deposits_closed
                else ""
            )
            self.stdout.write(f"{period}: {archived.orders} orders -> {archived.directory}{closed}")
