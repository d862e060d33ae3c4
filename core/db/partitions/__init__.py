"""Monthly partitions of the tables that grow without end (docs/scaling.md, "Monthly
partitions"): orders by ranges of their id, their events and the ledger by the month of their
subject (`period`, YYYYMM; 0 for the rows from before partitioning).

Modules:

- `periods`: the month of a row from its id (`period_of`, `current_period`), read from the
  registry the months are recorded in, and of a row from the subject it names, as SQL the
  database evaluates (`period_of_subject_sql`, `period_of_subject_expression` for the ORM's
  save; the subjects registered by the app that owns them; `period_own` for a row with none),
  and the `PeriodField` that has no default;
- `months`: the partitions created ahead, the order id sequence moved at a month's start and the
  DEFAULT partitions watched (`partitions_prepare`; `partitions_in_place` for a caller that
  must first know the tables are partitioned);
- `convert`: a plain table turned into a partitioned one in place, its rows kept (migrations);
- `keys`: unique keys a partitioned table cannot hold itself, kept in small plain tables by
  triggers (migrations), and which of them the installed trigger skips when taken (the check
  of core.db.inserts).
"""

from core.db.partitions.months import (
    PartitionsBusy,
    Prepared,
    partitions_in_place,
    partitions_prepare,
)
from core.db.partitions.periods import (
    LEGACY_PERIOD,
    PeriodField,
    PeriodMissing,
    Sql,
    current_period,
    next_period,
    period_of,
    period_of_sql,
    period_of_subject_columns_sql,
    period_of_subject_expression,
    period_of_subject_sql,
    period_own,
    period_subject_register,
    period_subject_table,
)

__all__ = [
    "LEGACY_PERIOD",
    "PeriodField",
    "PartitionsBusy",
    "PeriodMissing",
    "Prepared",
    "Sql",
    "current_period",
    "next_period",
    "partitions_in_place",
    "partitions_prepare",
    "period_of",
    "period_of_sql",
    "period_of_subject_columns_sql",
    "period_of_subject_expression",
    "period_of_subject_sql",
    "period_own",
    "period_subject_register",
    "period_subject_table",
]
