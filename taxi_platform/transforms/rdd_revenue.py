"""The course's RDD version of the green hourly revenue per zone (needs the RDD API: classic Spark targets only).

From the clean green trips (pickup_datetime, PULocationID, total_amount): keep pickups >= cutoff, key each trip by
(hour, zone), value (amount, 1), ``reduceByKey`` adding both, back to a DataFrame
(hour timestamp, zone int, revenue double, count int). It must equal ``transforms.hourly.hourly_revenue``.

The hour is truncated in Python exactly as Spark's ``date_trunc('hour', ...)`` does: in the session time zone
(``spark.sql.session.timeZone``), whatever the Python process's own time zone is. Rows come back from Spark as naive
datetimes in the process's local zone; they are made aware, moved to the session zone, truncated there, and handed
back aware (so Spark stores the exact instant).

Spark Connect has no SparkContext/RDD: pass the SparkContext from ``SparkResource.require_spark_context(...)`` so the
caller gets a clear error naming the target; without one, ``df.rdd`` is used and Connect fails in
:func:`rdd_of` with :class:`RddUnavailableError`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Optional
from zoneinfo import ZoneInfo

from pyspark.sql import DataFrame
from pyspark.sql.types import DoubleType, IntegerType, StructField, StructType, TimestampType

from taxi_platform.transforms.hourly import COURSE_CUTOFF

RDD_REVENUE_SCHEMA = StructType(
    [
        StructField("hour", TimestampType()),
        StructField("zone", IntegerType()),
        StructField("revenue", DoubleType()),
        StructField("count", IntegerType()),
    ]
)


class RddUnavailableError(RuntimeError):
    """The DataFrame's session has no RDD API (Spark Connect)."""


def rdd_of(df: DataFrame):
    """``df.rdd``, or a clear error when the session has no RDD API (Spark Connect)."""
    try:
        from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame
    except ImportError:  # pyspark without the Connect extras
        ConnectDataFrame = ()  # type: ignore[assignment]
    if isinstance(df, ConnectDataFrame):
        raise RddUnavailableError(
            "the RDD revenue needs the SparkContext/RDD API, which a Spark Connect session does not have: "
            "run it with Spark target 'local' or 'standalone'"
        )
    return df.rdd


def truncate_to_hour(pickup: datetime, session_zone: ZoneInfo) -> datetime:
    """date_trunc('hour', pickup) in ``session_zone``; a naive ``pickup`` is in the process's local zone (pyspark)."""
    return pickup.astimezone(session_zone).replace(minute=0, second=0, microsecond=0)


def _hourly_pairs(rows: Iterable[Any], cutoff_utc: datetime, session_zone: str):
    zone_info = ZoneInfo(session_zone)
    for pickup, zone, amount in rows:
        if pickup is None:
            continue
        if pickup.astimezone(timezone.utc) < cutoff_utc:
            continue
        yield (truncate_to_hour(pickup, zone_info), zone), (amount, 1)


def _add(a, b):
    # sum(total_amount) in SQL skips nulls and is null only when every value is null; count(*) counts every row
    amount = b[0] if a[0] is None else a[0] if b[0] is None else a[0] + b[0]
    return amount, a[1] + b[1]


def hourly_revenue_rdd(green: DataFrame, sc: Optional[Any] = None, cutoff: datetime = COURSE_CUTOFF) -> DataFrame:
    """(hour, zone, revenue, count) per pickup hour and zone of the green trips with pickup >= cutoff, via RDDs.

    ``sc``: the SparkContext (``SparkResource.require_spark_context(...)``); only used to fail early and clearly on
    targets without one, the RDD itself comes from ``green``.
    """
    rdd = rdd_of(green.select("pickup_datetime", "PULocationID", "total_amount"))
    spark = green.sparkSession
    session_zone = spark.conf.get("spark.sql.session.timeZone")
    # a naive cutoff is a wall-clock time in the session zone, as in transforms.hourly.cutoff_column
    if cutoff.tzinfo is None:
        cutoff = cutoff.replace(tzinfo=ZoneInfo(session_zone))
    cutoff_utc = cutoff.astimezone(timezone.utc)
    reduced = (
        rdd.mapPartitions(lambda rows: _hourly_pairs(rows, cutoff_utc, session_zone))
        .reduceByKey(_add)
        .map(lambda kv: (kv[0][0], kv[0][1], kv[1][0], kv[1][1]))
    )
    return spark.createDataFrame(reduced, RDD_REVENUE_SCHEMA)
