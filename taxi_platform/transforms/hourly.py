"""The course's hourly revenue per pickup zone, green vs yellow (plain DataFrame functions, no Dagster).

- ``hourly_revenue(clean, service)``: per hour (``date_trunc('hour', pickup_datetime)``) and pickup zone
  (``PULocationID``), ``{service}_amount`` = sum(total_amount) and ``{service}_number_records`` = count(*), only
  pickups on or after ``cutoff`` (the course's 2020-01-01).
- ``hourly_revenue_by_zone(green, yellow, zones)``: the two full-outer-joined on (hour, zone), then the zone lookup
  joined on zone = LocationID with an explicit broadcast (265 rows: sent to every executor, the trips never shuffled
  for it). A zone present on one side only has nulls on the other side's columns.

The lookup's ``Zone`` is renamed ``zone_name`` (and ``Borough`` ``borough``): Spark resolves column names
case-insensitively, so ``zone`` (the id) and ``Zone`` (the name) could not live in one DataFrame or parquet file.

``month`` (the lake partition, "YYYY-MM") is the month of ``hour`` in the session time zone.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from taxi_platform.schemas import MONTH_COLUMN, Contract

# The course keeps only pickups on or after this instant (the files carry stray trips from years before).
COURSE_CUTOFF = datetime(2020, 1, 1)
SERVICES = ("green", "yellow")

HOURLY_REVENUE_BY_ZONE_SCHEMA: Contract = (
    ("hour", "timestamp"),
    ("zone", "int"),
    ("borough", "string"),
    ("zone_name", "string"),
    ("service_zone", "string"),
    ("green_amount", "double"),
    ("green_number_records", "long"),
    ("yellow_amount", "double"),
    ("yellow_number_records", "long"),
)


def cutoff_column(cutoff: datetime):
    """The cutoff as a Spark timestamp: a naive datetime is a wall-clock time in the session time zone (like the
    trips' own timestamps), not in the Python process's zone (which is what ``F.lit(naive_datetime)`` would use)."""
    if cutoff.tzinfo is None:
        return F.lit(cutoff.strftime("%Y-%m-%d %H:%M:%S.%f")).cast("timestamp")
    return F.lit(cutoff)


def hourly_revenue(clean: DataFrame, service_type: str, cutoff: datetime = COURSE_CUTOFF) -> DataFrame:
    """(hour, zone, {service}_amount, {service}_number_records) of one service's clean trips, pickups >= cutoff."""
    return (
        clean.where(F.col("pickup_datetime") >= cutoff_column(cutoff))
        .groupBy(F.date_trunc("hour", F.col("pickup_datetime")).alias("hour"), F.col("PULocationID").alias("zone"))
        .agg(
            F.sum("total_amount").alias(f"{service_type}_amount"),
            F.count(F.lit(1)).alias(f"{service_type}_number_records"),
        )
    )


def hourly_revenue_by_zone(
    green: DataFrame, yellow: DataFrame, zones: DataFrame, cutoff: datetime = COURSE_CUTOFF
) -> DataFrame:
    """Green and yellow hourly revenue side by side per (hour, zone), with the zone's names (broadcast join)."""
    g = hourly_revenue(green, "green", cutoff).alias("g")
    y = hourly_revenue(yellow, "yellow", cutoff).alias("y")
    joined = g.join(y, on=["hour", "zone"], how="full_outer")  # USING: hour and zone are coalesced from both sides
    lookup = F.broadcast(
        zones.select(
            F.col("LocationID"),
            F.col("Borough").alias("borough"),
            F.col("Zone").alias("zone_name"),
            F.col("service_zone"),
        )
    )
    result = joined.join(lookup, joined["zone"] == lookup["LocationID"], "left")
    return result.select(
        *[F.col(name) for name, _ in HOURLY_REVENUE_BY_ZONE_SCHEMA],
        F.date_format(F.col("hour"), "yyyy-MM").alias(MONTH_COLUMN),
    )
