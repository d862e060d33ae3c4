import time

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from affiliates.services import affiliate_settle
from core.commands import OperatorCommand


class Command(OperatorCommand):
    summary = _(
        "Accrue commissions of referred deposits, reverse those of refunded or charged-back "
        "deposits, settle those past their hold (what beat runs; docs/affiliates.md)."
    )

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        result = affiliate_settle()
        # Commissions counted, whatever their number: one wording (no plural to choose).
        self.stdout.write(
            gettext(
                "accrued %(accrued)s, reversed %(reversed)s, settled %(settled)s in %(seconds)s s"
            )
            % {
                "accrued": result.accrued,
                "reversed": result.reversed,
                "settled": result.settled,
                "seconds": f"{time.perf_counter() - started:.2f}",
            }
        )
