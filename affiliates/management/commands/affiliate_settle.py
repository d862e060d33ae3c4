import time

from django.core.management.base import BaseCommand

from affiliates.services import affiliate_settle


class Command(BaseCommand):
    help = (
        "Accrue commissions of referred deposits, reverse those of refunded or charged-back "
        "deposits, settle those past their hold (what beat runs; docs/affiliates.md)."
    )

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        result = affiliate_settle()
        self.stdout.write(
            f"accrued {result.accrued}, reversed {result.reversed}, settled {result.settled} "
            f"in {time.perf_counter() - started:.2f} s"
        )
