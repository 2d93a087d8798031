"""The monthly partitions every trip dataset shares: keys "YYYY-MM" from 2019-01 up to the current month."""

from __future__ import annotations

import warnings
from datetime import datetime

from dagster import BetaWarning, MonthlyPartitionsDefinition

# Every monthly asset runs a backfill as one run (BackfillPolicy.single_run()), a Dagster beta parameter: it is the
# platform's design (one Spark session per backfill), not something to warn about at every import.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")

START_MONTH = "2019-01"
MONTH_FMT = "%Y-%m"

# end_offset=1 includes the month in progress, so the newest published month can be materialized as soon as it exists.
monthly_partitions = MonthlyPartitionsDefinition(start_date=START_MONTH, fmt=MONTH_FMT, end_offset=1)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a "YYYY-MM" month as naive datetimes (TLC timestamps are naive New York local time)."""
    start = datetime.strptime(month, MONTH_FMT)
    end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def parse_month(month: str) -> tuple[int, int]:
    """("2021-01") -> (2021, 1), with a clear error on anything else."""
    try:
        start = datetime.strptime(month, MONTH_FMT)
    except ValueError:
        raise ValueError(f"not a month key: {month!r} (expected 'YYYY-MM', e.g. '2021-01')") from None
    return start.year, start.month


def check_month_in_range(month: str, now: datetime | None = None) -> None:
    """Raise ``ValueError`` naming the valid range when ``month`` ("YYYY-MM") is not a partition: before
    ``START_MONTH`` or after the month in progress (``now``, default the current time)."""
    parse_month(month)
    keys = monthly_partitions.get_partition_keys(current_time=now)
    if month not in keys:
        where = "before the first" if month < keys[0] else "after the last"
        raise ValueError(
            f"month {month} is {where} monthly partition: valid months are {keys[0]} .. {keys[-1]} "
            f"(the platform starts at {START_MONTH}; the newest month is the one in progress)"
        )
