"""Published month -> the course's explicit schema, whatever types the TLC published that month.

The TLC's monthly parquet files drift: passenger_count is int64 one year and double another, ``airport_fee`` becomes
``Airport_fee``, ``ehail_fee`` is sometimes an all-null column of no type, older files store timestamps in
nanoseconds (which Spark reads as longs, see ``resources/spark.py``), FHV files spell ``PUlocationID``. Every month is
conformed on its own, so months of different published types union into one schema.
"""

from __future__ import annotations

import re
from typing import Optional

from pyspark.sql import DataFrame

from taxi_platform.schemas import CLEAN_SCHEMAS, COURSE_SCHEMAS, MONTH_COLUMN, PICKUP_DROPOFF, required_columns


class ContractError(ValueError):
    """A month's published columns cannot be conformed to the contract (a required column is missing)."""


# Contract kinds (schemas.py) as Spark SQL types.
SQL_TYPES = {"int": "INT", "long": "BIGINT", "double": "DOUBLE", "string": "STRING", "timestamp": "TIMESTAMP",
             "date": "DATE"}
_MONTH_KEY = re.compile(r"^\d{4}-\d{2}$")


def quoted(name: str) -> str:
    """A column name as a Spark SQL identifier (any character allowed)."""
    return "`" + name.replace("`", "``") + "`"


def _timestamp(column: str, published_type: str) -> str:
    if published_type in ("bigint", "long"):
        # Nanoseconds since the epoch (TIMESTAMP(NANOS) parquet read with spark.sql.legacy.parquet.nanosAsLong).
        return f"timestamp_micros(CAST(floor({column} / 1000) AS BIGINT))"
    if published_type == "string":
        return f"to_timestamp({column})"
    return f"CAST({column} AS TIMESTAMP)"


def conform_expressions(published_dtypes: list[tuple[str, str]], taxi_type: str, source: str = "") -> list[str]:
    """The SQL expressions (``DataFrame.selectExpr``) that conform a month of these (name, type) columns.

    Spelled as SQL text, parsed once by Spark: building the same expressions as Python Column objects costs about
    a hundred JVM calls a month, which on a 24-month backfill is seconds of driver time while the cluster waits.
    """
    published_types = {name.lower(): (name, kind) for name, kind in published_dtypes}
    pickup, dropoff = PICKUP_DROPOFF[taxi_type]

    missing = [name for name in required_columns(taxi_type) if name.lower() not in published_types]
    if missing:
        where = f" in {source}" if source else ""
        published_names = [name for name, _ in published_dtypes if name != MONTH_COLUMN]
        raise ContractError(
            f"{taxi_type} trips{where}: required columns {missing} are missing; published columns are {published_names}"
        )

    expressions = []
    for (name, _), (clean_name, kind) in zip(COURSE_SCHEMAS[taxi_type], CLEAN_SCHEMAS[taxi_type]):
        target = SQL_TYPES[kind]
        if name.lower() not in published_types:
            expressions.append(f"CAST(NULL AS {target}) AS {quoted(clean_name)}")
            continue
        published_name, published_type = published_types[name.lower()]
        column = quoted(published_name)
        if name in (pickup, dropoff):
            expression = _timestamp(column, published_type)
        elif published_type in ("float", "double") and kind == "int":
            # 1.0 -> 1; a fractional count is not a count: keep it visible as null rather than truncating it.
            expression = f"CASE WHEN {column} = floor({column}) THEN CAST({column} AS INT) END"
        else:
            expression = f"CAST({column} AS {target})"
        expressions.append(f"{expression} AS {quoted(clean_name)}")
    return expressions


def conform_month(published: DataFrame, taxi_type: str, source: str = "", month: Optional[str] = None) -> DataFrame:
    """One published month of ``taxi_type`` -> the clean contract columns (renamed pickup/dropoff), in contract order.

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
    """Conform each month on its own (their published types may differ), tag it with its month, and union them."""
    if not published_by_month:
        raise ValueError(f"{dataset or taxi_type}: no months to conform")
    conformed = [
        conform_month(df, taxi_type, source=f"{dataset} {month}".strip(), month=month)
        for month, df in sorted(published_by_month.items())
    ]
    combined = conformed[0]
    for df in conformed[1:]:
        combined = combined.unionByName(df)
    return combined
