"""Published month -> the course's explicit schema, whatever types the TLC published that month.

The TLC's monthly files drift: passenger_count is int64 one year and double another, ``SR_Flag`` is double in one
FHV month, an all-null column in the next and text in the CSV backup, ``airport_fee`` becomes ``Airport_fee``,
``ehail_fee`` is sometimes an all-null column of no type, files written by pandas store nanoseconds (which Spark
reads as longs, see ``resources/spark.py``), some conversions publish every column as text, FHV files spell
``PUlocationID``. Every month is conformed on its own with the one canonical conversion per contract column that
``taxi_platform.conversions`` decides from the published type (the same decision raw's checks make), so the same
trip gives the same clean row whatever its month's physical types, and months union into one schema.

A value that cannot be converted (``"abc"`` for a fare, ``1.5`` for a count) never fails the month: it becomes null
and the row's first such column is named in the hidden column ``UNPARSEABLE_COLUMN``, which
``transforms/quarantine.classify`` turns into the quarantine reason ``unparseable:<column>`` (and drops).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional

from taxi_platform.conversions import FALLIBLE, spark_conversion
from taxi_platform.schemas import CLEAN_SCHEMAS, COURSE_SCHEMAS, MONTH_COLUMN, required_columns

if TYPE_CHECKING:  # the SQL text builders below need no Spark: the DuckDB bench variant reuses them
    from pyspark.sql import DataFrame


class ContractError(ValueError):
    """A month's published columns cannot be conformed to the contract (a required column is missing, or a column
    is published in a type with no canonical conversion)."""


# Contract kinds (schemas.py) as Spark SQL types.
SQL_TYPES = {"int": "INT", "long": "BIGINT", "double": "DOUBLE", "string": "STRING", "timestamp": "TIMESTAMP",
             "date": "DATE"}
_MONTH_KEY = re.compile(r"^\d{4}-\d{2}$")

# The clean name of a row's first column whose published value could not be converted (null when none).
UNPARSEABLE_COLUMN = "_unparseable_column"


def quoted(name: str) -> str:
    """A column name as a Spark SQL identifier (any character allowed)."""
    return "`" + name.replace("`", "``") + "`"


def _whole(number: str, target: str) -> str:
    """``number`` (a DOUBLE expression) as ``target`` when it is whole and in range, else null."""
    return f"CASE WHEN {number} = floor({number}) THEN try_cast({number} AS {target}) END"


def converted(column: str, how: str, kind: str) -> str:
    """The SQL expression converting the published ``column`` (quoted) by the conversion ``how`` to ``kind``.

    Fallible conversions give null for a value they cannot convert (``conversions.FALLIBLE``).
    """
    target = SQL_TYPES[kind]
    text = f"nullif(trim({column}), '')"  # text (text parquet, every CSV month): blanks ignored, '' is null
    if how == "all_null":
        return f"CAST(NULL AS {target})"
    if how == "integer":
        return f"try_cast({column} AS {target})"
    if how == "whole_number":
        return _whole(f"CAST({column} AS DOUBLE)", target)
    if how == "parse_whole":
        return _whole(f"try_cast({text} AS DOUBLE)", target)
    if how == "number":
        return f"CAST({column} AS DOUBLE)"
    if how == "parse_number":
        return f"try_cast({text} AS DOUBLE)"
    if how == "text":
        return f"nullif({column}, '')"
    if how == "code_text":  # the TLC's text of a code: 1.0 -> '1', 2 -> '2', 1.5 -> '1.5'
        number = f"CAST({column} AS DOUBLE)"
        return (f"coalesce(CASE WHEN {number} = floor({number}) THEN CAST(try_cast({number} AS BIGINT) AS STRING) END, "
                f"CAST({column} AS STRING))")
    if how == "text_of":
        return f"CAST({column} AS STRING)"
    if how == "wall_clock":
        # TIMESTAMP_NTZ (and INT96, read as an instant) in the UTC session: the wall clock is kept as it is.
        return f"CAST({column} AS TIMESTAMP)"
    if how == "nanos":
        # Nanoseconds since the epoch (TIMESTAMP(NANOS) read as longs): integer division, exact to the microsecond.
        return f"timestamp_micros({column} div 1000 - CASE WHEN {column} % 1000 < 0 THEN 1 ELSE 0 END)"
    if how == "parse_timestamp":
        return f"CAST(try_cast({text} AS TIMESTAMP_NTZ) AS TIMESTAMP)"
    raise ValueError(f"unknown conversion {how!r}")


def failed(column: str, how: str, value: str) -> str:
    """True where the published value is there but its conversion gave nothing."""
    present = f"nullif(trim({column}), '') IS NOT NULL" if how.startswith("parse_") else f"{column} IS NOT NULL"
    return f"({present} AND ({value}) IS NULL)"


def conform_expressions(published_dtypes: list[tuple[str, str]], taxi_type: str, source: str = "") -> list[str]:
    """The SQL expressions (``DataFrame.selectExpr``) that conform a month of these (name, Spark type) columns:
    the clean contract columns in contract order, then ``UNPARSEABLE_COLUMN``.

    Spelled as SQL text, parsed once by Spark: building the same expressions as Python Column objects costs about
    a hundred JVM calls a month, which on a 24-month backfill is seconds of driver time while the cluster waits.
    Raises ``ContractError`` naming ``source`` when a required column is missing or a column's published type has
    no canonical conversion.
    """
    from taxi_platform.conversions import UnsupportedTypeError

    published_types = {name.lower(): (name, kind) for name, kind in published_dtypes}
    where = f" in {source}" if source else ""

    missing = [name for name in required_columns(taxi_type) if name.lower() not in published_types]
    if missing:
        published_names = [name for name, _ in published_dtypes if name != MONTH_COLUMN]
        raise ContractError(
            f"{taxi_type} trips{where}: required columns {missing} are missing; published columns are {published_names}"
        )

    expressions, failures = [], []
    for (name, _), (clean_name, kind) in zip(COURSE_SCHEMAS[taxi_type], CLEAN_SCHEMAS[taxi_type]):
        if name.lower() not in published_types:
            expressions.append(f"CAST(NULL AS {SQL_TYPES[kind]}) AS {quoted(clean_name)}")
            continue
        published_name, published_type = published_types[name.lower()]
        column = quoted(published_name)
        try:
            how = spark_conversion(kind, published_type, column=published_name, where=f"{taxi_type} trips{where}")
        except UnsupportedTypeError as error:
            raise ContractError(str(error)) from None
        value = converted(column, how, kind)
        expressions.append(f"{value} AS {quoted(clean_name)}")
        if how in FALLIBLE:
            failures.append(f"WHEN {failed(column, how, value)} THEN '{clean_name}'")
    unparseable = f"CASE {' '.join(failures)} END" if failures else "CAST(NULL AS STRING)"
    expressions.append(f"{unparseable} AS {UNPARSEABLE_COLUMN}")
    return expressions


def conform_month(published: DataFrame, taxi_type: str, source: str = "", month: Optional[str] = None) -> DataFrame:
    """One published month of ``taxi_type`` -> the clean contract columns (renamed pickup/dropoff), in contract order,
    then ``UNPARSEABLE_COLUMN`` (the first column whose value could not be converted; ``classify`` consumes it).

    Column names match case-insensitively (``Airport_fee``/``airport_fee``, ``PUlocationID``). Columns the contract
    does not know (``airport_fee``, ``cbd_congestion_fee``, fhvhv's fare details) are dropped; a ``month`` column, if
    present, is kept, and ``month`` ("YYYY-MM"), if given, is added as that column. ``source`` names the
    file/partition in errors.
    """
    expressions = conform_expressions(published.dtypes, taxi_type, source)
    if month is not None:
        if not _MONTH_KEY.match(month):
            raise ValueError(f"not a month key: {month!r} (expected 'YYYY-MM')")
        expressions.append(f"'{month}' AS {MONTH_COLUMN}")
    elif MONTH_COLUMN in published.columns:
        expressions.append(quoted(MONTH_COLUMN))
    return published.selectExpr(*expressions)


def conform_months(published_by_month: dict[str, DataFrame], taxi_type: str, dataset: str = "") -> DataFrame:
    """Conform each month on its own (their published types may differ), tag it with its month, and union them.

    ``published_by_month`` may carry ``groups`` (``io_managers.month_files.PublishedMonths``: months of one
    published schema read together, with a ``month`` column): such a group is conformed as ONE projection of its one
    scan (the same rows as its months one by one; a union of 12 month projections costs Spark 12 generated copies
    to compile and warm up). An error of a group names all its months (they share the columns and types at fault).
    A group is used only while the mapping holds each of its months (a consumer may have dropped one).
    """
    if not published_by_month:
        raise ValueError(f"{dataset or taxi_type}: no months to conform")
    groups, grouped = [], set()
    for months, df in getattr(published_by_month, "groups", ()):
        # a group stands for its months only while the mapping still holds each of them, and no other group does
        if set(months) <= published_by_month.keys() and not grouped & set(months):
            groups.append((tuple(months), df))
            grouped |= set(months)
    conformed = [
        conform_month(df, taxi_type, source=f"{dataset} {', '.join(months)}".strip())
        for months, df in sorted(groups, key=lambda group: group[0])
    ] + [
        conform_month(df, taxi_type, source=f"{dataset} {month}".strip(), month=month)
        for month, df in sorted(published_by_month.items()) if month not in grouped
    ]
    combined = conformed[0]
    for df in conformed[1:]:
        combined = combined.unionByName(df)
    return combined
