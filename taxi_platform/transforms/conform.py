"""Published month -> the course's explicit schema, whatever types the TLC published that month.

The TLC's monthly parquet files drift: passenger_count is int64 one year and double another, ``airport_fee`` becomes
``Airport_fee``, ``ehail_fee`` is sometimes an all-null column of no type, older files store timestamps in
nanoseconds (which Spark reads as longs, see ``resources/spark.py``), FHV files spell ``PUlocationID``. Every month is
conformed on its own, so months of different published types union into one schema.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from taxi_platform.schemas import (
    CLEAN_SCHEMAS,
    COURSE_SCHEMAS,
    MONTH_COLUMN,
    PICKUP_DROPOFF,
    required_columns,
    spark_schema,
)


class ContractError(ValueError):
    """A month's published columns cannot be conformed to the contract (a required column is missing)."""


def _timestamp(column: Column, published_type: str) -> Column:
    if published_type in ("bigint", "long"):
        # Nanoseconds since the epoch (TIMESTAMP(NANOS) parquet read with spark.sql.legacy.parquet.nanosAsLong).
        return F.timestamp_micros(F.floor(column / F.lit(1000)).cast("long"))
    if published_type == "string":
        return F.to_timestamp(column)
    return column.cast("timestamp")


def conform_month(published: DataFrame, taxi_type: str, source: str = "") -> DataFrame:
    """One published month of ``taxi_type`` -> the clean contract columns (renamed pickup/dropoff), in contract order.

    Column names match case-insensitively (``Airport_fee``/``airport_fee``, ``PUlocationID``). Columns the contract
    does not know (``airport_fee``, ``cbd_congestion_fee``, fhvhv's fare details) are dropped; a ``month`` column, if
    present, is kept. ``source`` names the file/partition in errors.
    """
    published_types = {name.lower(): (name, kind) for name, kind in published.dtypes}
    contract = COURSE_SCHEMAS[taxi_type]
    clean = CLEAN_SCHEMAS[taxi_type]
    target_types = {f.name: f.dataType for f in spark_schema(clean).fields}
    pickup, dropoff = PICKUP_DROPOFF[taxi_type]

    missing = [name for name in required_columns(taxi_type) if name.lower() not in published_types]
    if missing:
        where = f" in {source}" if source else ""
        published_names = [name for name, _ in published.dtypes if name != MONTH_COLUMN]
        raise ContractError(
            f"{taxi_type} trips{where}: required columns {missing} are missing; published columns are {published_names}"
        )

    columns = []
    for (name, _), (clean_name, _) in zip(contract, clean):
        if name.lower() not in published_types:
            columns.append(F.lit(None).cast(target_types[clean_name]).alias(clean_name))
            continue
        published_name, published_type = published_types[name.lower()]
        column = F.col(f"`{published_name}`")
        if name in (pickup, dropoff):
            column = _timestamp(column, published_type)
        elif published_type in ("float", "double") and target_types[clean_name].simpleString() == "int":
            # 1.0 -> 1; a fractional count is not a count: keep it visible as null rather than truncating it.
            column = F.when(column == F.floor(column), column.cast("int"))
        else:
            column = column.cast(target_types[clean_name])
        columns.append(column.alias(clean_name))
    if MONTH_COLUMN in published.columns:
        columns.append(F.col(MONTH_COLUMN))
    return published.select(*columns)


def conform_months(published_by_month: dict[str, DataFrame], taxi_type: str, dataset: str = "") -> DataFrame:
    """Conform each month on its own (their published types may differ), tag it with its month, and union them."""
    if not published_by_month:
        raise ValueError(f"{dataset or taxi_type}: no months to conform")
    conformed = [
        conform_month(df.withColumn(MONTH_COLUMN, F.lit(month)), taxi_type, source=f"{dataset} {month}".strip())
        for month, df in sorted(published_by_month.items())
    ]
    combined = conformed[0]
    for df in conformed[1:]:
        combined = combined.unionByName(df)
    return combined
