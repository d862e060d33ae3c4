from django.core.management.base import CommandError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import ledger_mismatches
from core.commands import OperatorCommand


class Command(OperatorCommand):
    summary = _(
        "Verify that every user's balance and commission balance equal the sums of their "
        "ledger rows; exits 1 on a mismatch."
    )

    def handle(self, *args: object, **options: object) -> None:
        mismatches = ledger_mismatches()
        for row in mismatches:
            self.stderr.write(
                gettext("user %(id)s (%(username)s): %(book)s %(balance)s != ledger sum %(sum)s")
                % {
                    "id": row.user_id,
                    "username": row.username,
                    "book": row.book,
                    "balance": row.balance,
                    "sum": row.ledger_sum,
                }
            )
        if mismatches:
            raise CommandError(
                ngettext(
                    "%(count)s user with a balance that does not match the ledger",
                    "%(count)s users with a balance that does not match the ledger",
                    len(mismatches),
                )
                % {"count": len(mismatches)}
            )
        self.stdout.write(
            self.style.SUCCESS(
                gettext(
                    "ledger ok: every balance and commission balance equals the sum of its "
                    "ledger rows"
                )
            )
        )
