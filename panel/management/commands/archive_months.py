from pathlib import Path

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.commands import OperatorCommand
from panel.archive import MonthNotArchivable, month_archive, months_archivable


class Command(OperatorCommand):
    summary = _(
        "Archive the months older than PANEL_ARCHIVE_AFTER_MONTHS: their orders, events "
        "and ledger rows written to var/archive/<month>/ and their partitions dropped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--directory", default="", help=gettext("Where to write; default var/archive")
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext("Only list the months that would go")
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help=gettext("Do not ask before dropping the months' rows"),
        )

    def handle(self, *args: object, **options: object) -> None:
        directory = Path(str(options["directory"])) if options["directory"] else None
        periods = list(months_archivable())
        # The rows leave the database for files: asked first, as restore_db asks.
        if periods and not options["dry_run"] and not options["yes"]:
            listed = ", ".join(str(period) for period in periods)
            question = gettext(
                "Archive %(months)s to files and drop them from the database? [y/N] "
            ) % {"months": listed}
            if input(question) != "y":
                raise CommandError(gettext("Nothing archived."))
        for period in periods:
            if options["dry_run"]:
                self.stdout.write(str(period))
                continue
            try:
                archived = month_archive(period=period, directory=directory)
            except MonthNotArchivable as exc:
                # Oldest first: a later month waits for this one.
                raise CommandError(str(exc)) from exc
            values = {
                "month": period,
                "count": archived.orders,
                "directory": archived.directory,
                "deposits": archived.deposits_closed,
            }
            line = ngettext(
                "%(month)s: %(count)s order -> %(directory)s",
                "%(month)s: %(count)s orders -> %(directory)s",
                archived.orders,
            )
            if archived.deposits_closed:
                line += ngettext(
                    ", %(deposits)s abandoned pending deposit rejected",
                    ", %(deposits)s abandoned pending deposits rejected",
                    archived.deposits_closed,
                )
            self.stdout.write(line % values)
