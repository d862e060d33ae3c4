from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import ledger_mismatches


class Command(BaseCommand):
    help = (
        "Verify that every user's balance and commission balance equal the sums of their "
        "ledger rows; exits 1 on a mismatch."
    )

    def handle(self, *args: object, **options: object) -> None:
        mismatches = ledger_mismatches()
        for row in mismatches:
            self.stderr.write(
                f"user {row.user_id} ({row.username}): {row.book} {row.balance} "
                f"!= ledger sum {row.ledger_sum}"
            )
        if mismatches:
            raise CommandError(
                f"{len(mismatches)} user(s) with a balance that does not match the ledger"
            )
        self.stdout.write(
            self.style.SUCCESS(
                "ledger ok: every balance and commission balance equals the sum of its ledger rows"
            )
        )
