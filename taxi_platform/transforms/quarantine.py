"""Rows that cannot be right are set aside, each with the first rule it breaks, never dropped silently.

The rules, in the order they are applied (a row is labelled with the first one it breaks):

| reason                  | a row is quarantined when                                                           |
|-------------------------|-------------------------------------------------------------------------------------|
| unparseable:<column>    | the value published for <column> cannot be converted to its contract type ("abc"   |
|                         | for a fare, 1.5 for a count; ``taxi_platform.conversions``); the first such column |
| missing_timestamp       | pickup_datetime or dropoff_datetime is null                                         |
| pickup_outside_month    | the pickup is not inside the partition's month (the TLC files carry stray trips     |
|                         | from earlier months and even 2008/2009; the course would report them under their   |
|                         | own month, this platform keeps each month's report to its own month and counts them)|
| dropoff_before_pickup   | dropoff_datetime < pickup_datetime                                                   |
| trip_longer_than_24h    | the trip lasts more than 24 hours (meter left running)                               |
| unknown_zone            | PULocationID or DOLocationID is null or not a LocationID of the TLC zone lookup      |
|                         | (1..265; 264 "NV" and 265 "NA" are the lookup's own unknown zones and are kept)      |
| negative_amount         | fare_amount or total_amount is negative (voids and disputes, not revenue)            |
| negative_distance       | trip_distance is negative                                                            |
| absurd_amount           | total_amount is above MAX_TOTAL_AMOUNT (meter errors like 998310.03)                 |
| duplicate_row           | an exact copy (every conformed column and the month equal) of a row before it: the |
|                         | first copy is kept (or set aside for its own reason), every further copy is counted |

The money and distance rules (negative_amount, negative_distance, absurd_amount) apply only to datasets that have
those columns: the for-hire datasets (fhv, fhvhv) have no fare_amount / total_amount / trip_distance, so their rows
are classified by the timestamp and zone rules alone. Green and yellow have every column and every rule applies.

Kept as they are (real trips, documented quirks): null passenger_count / RatecodeID (store-and-forward rows), zero
trip_distance (cancelled or flat-rate trips), zones 264 and 265.

So every raw row is either clean or quarantined: raw rows == clean rows + quarantined rows, per month (an asset check
verifies it), and the revenue report sums exactly the clean trips.
"""

from __future__ import annotations

from typing import Iterable, Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from taxi_platform.reference import MAX_ZONE_ID, MIN_ZONE_ID
from taxi_platform.schemas import CLEAN_SCHEMAS, MONTH_COLUMN, QUARANTINE_REASON_COLUMN
from taxi_platform.transforms.conform import UNPARSEABLE_COLUMN

MAX_TOTAL_AMOUNT = 5000.0
MAX_TRIP_SECONDS = 24 * 3600


def _month_start(month: Column) -> Column:
    return F.to_timestamp(F.concat(month, F.lit("-01")), "yyyy-MM-dd")


def _outside_zone_lookup(zone: Column) -> Column:
    return zone.isNull() | (zone < MIN_ZONE_ID) | (zone > MAX_ZONE_ID)


# The rules that apply only when the dataset has the columns they read (the for-hire datasets have none of them);
# every other rule always applies (a dataset without its columns is an error, as before).
OPTIONAL_RULE_COLUMNS: dict[str, tuple[str, ...]] = {
    "negative_amount": ("fare_amount", "total_amount"),
    "negative_distance": ("trip_distance",),
    "absurd_amount": ("total_amount",),
}


def quarantine_rules(columns: Optional[Iterable[str]] = None) -> list[tuple[str, Column]]:
    """(reason, condition) in the order applied; conditions are on the conformed clean columns + ``month``.

    With ``columns`` (a dataset's column names), the money/distance rules of ``OPTIONAL_RULE_COLUMNS`` are left out
    when the dataset lacks their columns (fhv, fhvhv). Without it, every rule.
    """
    pickup, dropoff = F.col("pickup_datetime"), F.col("dropoff_datetime")
    start = _month_start(F.col(MONTH_COLUMN))
    end = F.add_months(start, 1).cast("timestamp")
    seconds = F.unix_timestamp(dropoff) - F.unix_timestamp(pickup)
    rules = [
        ("missing_timestamp", pickup.isNull() | dropoff.isNull()),
        ("pickup_outside_month", (pickup < start) | (pickup >= end)),
        ("dropoff_before_pickup", dropoff < pickup),
        ("trip_longer_than_24h", seconds > MAX_TRIP_SECONDS),
        ("unknown_zone", _outside_zone_lookup(F.col("PULocationID")) | _outside_zone_lookup(F.col("DOLocationID"))),
        ("negative_amount", (F.col("fare_amount") < 0) | (F.col("total_amount") < 0)),
        ("negative_distance", F.col("trip_distance") < 0),
        ("absurd_amount", F.col("total_amount") > MAX_TOTAL_AMOUNT),
    ]
    if columns is None:
        return rules
    present = set(columns)
    return [(name, condition) for name, condition in rules
            if all(c in present for c in OPTIONAL_RULE_COLUMNS.get(name, ()))]


# The reasons in rule order, without building Spark columns (that needs a session); a test keeps the two in step.
# ``unparseable:<column>`` comes before them all and ``duplicate_row`` after them all (``classify``).
UNPARSEABLE_PREFIX = "unparseable:"
DUPLICATE_ROW = "duplicate_row"
QUARANTINE_REASONS: tuple[str, ...] = (
    "missing_timestamp",
    "pickup_outside_month",
    "dropoff_before_pickup",
    "trip_longer_than_24h",
    "unknown_zone",
    "negative_amount",
    "negative_distance",
    "absurd_amount",
)


# How many tasks share a month's rows while copies are looked for (so a month is written as at most this many files).
COPY_SEARCH_TASKS_PER_MONTH = 4

# Internal columns of the copy search (dropped before ``classify`` returns).
COPY_NUMBER_COLUMN = "_copy_number"
_COPIES_COLUMN = "_copies"
_NEGATIVE_ZEROS_COLUMN = "_negative_zeros"


def _column(name: str) -> Column:
    """The column ``name`` whatever characters it holds (backticks doubled inside the quoting backticks)."""
    return F.col("`" + name.replace("`", "``") + "`")


def _negative_zero(value: Column) -> Column:
    # -0.0 == 0.0 for every comparison Spark has (and its atan2 adds 0.0 to its arguments); pow(-0.0, -1) is
    # -Infinity, pow(0.0, -1) +Infinity (IEEE 754, java.lang.StrictMath)
    return (value == 0) & (F.pow(value.cast("double"), F.lit(-1.0)) < 0)


def number_copies(conformed: DataFrame) -> DataFrame:
    """``conformed`` with ``COPY_NUMBER_COLUMN`` (int64): 1 for the first copy of each distinct row, 2, 3, ... for
    its exact copies (every column equal, nulls equal, the month and ``UNPARSEABLE_COLUMN`` included), exchanged so
    that each month's rows are in at most ``COPY_SEARCH_TASKS_PER_MONTH`` Spark tasks.

    One shuffle and one hash aggregate: each row goes, by its month and a 64-bit hash of all its columns, to one of
    its month's tasks (so the month is written as that many files at most, never compacted afterwards); the task
    groups equal rows and counts them (n), and each group comes out as its n rows numbered 1..n. Exact for any number
    of copies (equal rows are grouped by value, the hash only picks the task), and the multiset of rows out is the
    multiset in: grouping keys are written back as they were, a double's sign of zero included (Spark's grouping
    treats -0.0 as 0.0 and writes 0.0; here a -0.0 and a 0.0 are different published values, so not copies, and each
    keeps its sign; the reference variant (b) and DuckDB (d) of the bench count them as copies, as this function did
    before 2026-12-01: the bench input has no -0.0). Limits: at most 2^31 - 16 copies of one row (Spark's largest
    array, ``sequence(1, n)``); flat columns (a -0.0 inside a struct or array is written as 0.0, and NaN payloads are
    normalised); the input must not have columns named ``_slot``, ``_copies``, ``_negative_zeros`` or
    ``COPY_NUMBER_COLUMN``. Spark spills the aggregate to disk when a task's rows do not fit in memory.
    """
    columns = list(conformed.columns)
    keys = [_column(c) for c in columns]
    floating = [c for c in columns if conformed.schema[c].dataType.typeName() in ("double", "float")]
    if len(floating) > 62:  # the contracts have at most a dozen; one bit of an int64 each
        raise ValueError(f"number_copies: {len(floating)} floating-point columns, at most 62 are supported")
    if floating:  # one int64 bit mask: which of the floating columns hold -0.0 (0 for almost every row)
        mask = F.lit(0).cast("long")
        for bit, name in enumerate(floating):
            mask = mask + F.when(_negative_zero(_column(name)), F.lit(1 << bit).cast("long")).otherwise(0)
        keys.append(mask.alias(_NEGATIVE_ZEROS_COLUMN))
    slot = F.hash(F.col(MONTH_COLUMN), F.pmod(F.xxhash64(*keys[:len(columns)]), F.lit(COPY_SEARCH_TASKS_PER_MONTH)))
    groups = (conformed.repartition(slot)
              .groupBy(slot.alias("_slot"), *keys).agg(F.count(F.lit(1)).alias(_COPIES_COLUMN)))
    restored = []
    for name in columns:
        value = _column(name)
        if name in floating:
            bit = F.lit(1 << floating.index(name)).cast("long")
            value = F.when((F.col(_NEGATIVE_ZEROS_COLUMN).bitwiseAND(bit)) != 0, -value).otherwise(value)
        restored.append(value.alias(name))
    copy_number = F.explode(F.sequence(F.lit(1).cast("long"), F.col(_COPIES_COLUMN))).alias(COPY_NUMBER_COLUMN)
    return groups.select(*restored, copy_number)


def label(numbered: DataFrame) -> DataFrame:
    """``numbered`` (``number_copies``'s shape) with ``quarantine_reason`` instead of ``COPY_NUMBER_COLUMN`` and
    ``UNPARSEABLE_COLUMN``: ``unparseable:<column>`` first, then the first rule of ``quarantine_rules`` the row
    breaks, then ``duplicate_row`` for every copy beyond the first; null for a clean row."""
    columns = [c for c in numbered.columns if c not in (UNPARSEABLE_COLUMN, COPY_NUMBER_COLUMN)]
    reason = F.when(F.col(COPY_NUMBER_COLUMN) > 1, F.lit(DUPLICATE_ROW)).otherwise(F.lit(None).cast("string"))
    for name, condition in reversed(quarantine_rules(columns)):
        reason = F.when(F.coalesce(condition, F.lit(False)), F.lit(name)).otherwise(reason)
    if UNPARSEABLE_COLUMN in numbered.columns:
        unparseable = F.col(UNPARSEABLE_COLUMN)
        reason = F.when(unparseable.isNotNull(), F.concat(F.lit(UNPARSEABLE_PREFIX), unparseable)).otherwise(reason)
    return numbered.withColumn(QUARANTINE_REASON_COLUMN, reason).drop(UNPARSEABLE_COLUMN, COPY_NUMBER_COLUMN)


def classify(conformed: DataFrame) -> DataFrame:
    """Add ``quarantine_reason``: the first rule the row breaks, or null for a clean row.

    ``conformed`` comes from ``transforms/conform.py``: its ``UNPARSEABLE_COLUMN`` (if present) gives the reason
    ``unparseable:<column>`` before every rule, and is dropped. Exact copies of a row (every column equal, the month
    and the unparseable verdict included) are ``duplicate_row`` after every rule: one copy keeps its verdict, the
    others are set aside (which copy is kept does not matter: they are equal). The copies are found by
    ``number_copies`` (one shuffle, one hash aggregate; its docstring gives the cost and the exactness), the reasons
    given by ``label``. Rows out: the rows in, exchanged by month (at most ``COPY_SEARCH_TASKS_PER_MONTH`` tasks a
    month), in no particular order.
    """
    return label(number_copies(conformed))


def all_reasons() -> tuple[str, ...]:
    """Every reason a row can get: ``unparseable:<column>`` for each clean column of every taxi type, the rules,
    ``duplicate_row``."""
    names = dict.fromkeys(name for contract in CLEAN_SCHEMAS.values() for name, _ in contract)
    return tuple(UNPARSEABLE_PREFIX + n for n in names) + QUARANTINE_REASONS + (DUPLICATE_ROW,)


REASON_COUNT_PREFIX = "quarantined|"


def reason_count_columns() -> list[Column]:
    """Aggregates counting the rows of each quarantine reason (``quarantined|reason``), to observe while the
    quarantined rows are written: the counts cost nothing over the clean rows, which never reach them."""
    return [F.expr(f"count(CASE WHEN `{QUARANTINE_REASON_COLUMN}` = '{name}' THEN 1 END) AS `{REASON_COUNT_PREFIX}{name}`")
            for name in all_reasons()]


def reason_counts(values: dict) -> dict[str, int]:
    """{reason: rows} for the reasons that occur, from the values of ``reason_count_columns``."""
    return {k[len(REASON_COUNT_PREFIX):]: int(v) for k, v in values.items() if k.startswith(REASON_COUNT_PREFIX) and v}


def clean_rows(classified: DataFrame) -> DataFrame:
    return classified.where(F.col(QUARANTINE_REASON_COLUMN).isNull()).drop(QUARANTINE_REASON_COLUMN)


def quarantined_rows(classified: DataFrame) -> DataFrame:
    return classified.where(F.col(QUARANTINE_REASON_COLUMN).isNotNull())


# The course's key of a trip: two clean rows sharing it are likely the same trip published twice (with a differing
# amount or flag, so not an exact duplicate_row).
COURSE_KEY: tuple[str, ...] = ("VendorID", "pickup_datetime", "dropoff_datetime", "PULocationID", "DOLocationID")


def likely_duplicates_by_month(trips: DataFrame, key: Iterable[str] = COURSE_KEY) -> dict[str, dict]:
    """{month: {"rows", "likely_duplicates", "share"}} of ``trips`` (with ``month``), in one Spark job.

    ``likely_duplicates`` counts the rows beyond the first of each group sharing ``key`` (rows - distinct keys);
    ``share`` = likely_duplicates / rows (0.0 for a month without rows).
    """
    key = list(key)
    groups = trips.groupBy(MONTH_COLUMN, *key).agg(F.count(F.lit(1)).alias("copies"))
    months = groups.groupBy(MONTH_COLUMN).agg(F.sum("copies").alias("rows"), F.count(F.lit(1)).alias("keys")).collect()
    result = {}
    for row in months:
        rows, extra = int(row["rows"]), int(row["rows"]) - int(row["keys"])
        result[row[MONTH_COLUMN]] = {"rows": rows, "likely_duplicates": extra, "share": extra / rows if rows else 0.0}
    return result
