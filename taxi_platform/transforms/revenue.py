"""The course's monthly revenue per zone report (``revenue_monthly_zone``)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from taxi_platform.schemas import MONTH_COLUMN

# (report column, aggregate, trips column): the course's report SQL, with "monthly" spelled correctly.
REVENUE_MONTHLY_ZONE_AGGREGATES: tuple[tuple[str, str, str], ...] = (
    ("revenue_monthly_fare", "sum", "fare_amount"),
    ("revenue_monthly_extra", "sum", "extra"),
    ("revenue_monthly_mta_tax", "sum", "mta_tax"),
    ("revenue_monthly_tip_amount", "sum", "tip_amount"),
    ("revenue_monthly_tolls_amount", "sum", "tolls_amount"),
    ("revenue_monthly_improvement_surcharge", "sum", "improvement_surcharge"),
    ("revenue_monthly_total_amount", "sum", "total_amount"),
    ("revenue_monthly_congestion_surcharge", "sum", "congestion_surcharge"),
    ("avg_monthly_passenger_count", "avg", "passenger_count"),
    ("avg_monthly_trip_distance", "avg", "trip_distance"),
)

REVENUE_MONTHLY_ZONE_SQL = """
SELECT
    PULocationID AS revenue_zone,
    date_trunc('month', pickup_datetime) AS revenue_month,
    service_type,
{aggregates}
FROM trips_data
GROUP BY 1, 2, 3
"""


def revenue_monthly_zone_sql(table: str = "trips_data") -> str:
    """The report as the course writes it in Spark SQL (for users who prefer SQL; equal to the DataFrame version)."""
    aggregates = ",\n".join(f"    {agg}({col}) AS {name}" for name, agg, col in REVENUE_MONTHLY_ZONE_AGGREGATES)
    return REVENUE_MONTHLY_ZONE_SQL.format(aggregates=aggregates).replace("trips_data", table)


def revenue_monthly_zone(trips: DataFrame, pickups_in_month: bool = False) -> DataFrame:
    """Group trips by pickup zone, pickup month and service type, with the course's revenue sums and averages.

    A ``month`` column on the input (the lake partition) is carried through. ``pickups_in_month=True`` promises
    that every trip's pickup falls in its ``month`` (true of the platform's clean and core trips: the quarantine's
    ``pickup_outside_month`` rule removes the others): the rows are then grouped by ``month`` and ``revenue_month``
    is computed once per group instead of truncating every pickup timestamp (the same rows, about 20% faster).
    """
    aggregates = [getattr(F, agg)(F.col(col)).alias(name) for name, agg, col in REVENUE_MONTHLY_ZONE_AGGREGATES]
    zone = F.col("PULocationID").alias("revenue_zone")
    if pickups_in_month:
        if MONTH_COLUMN not in trips.columns:
            raise ValueError(f"pickups_in_month needs a '{MONTH_COLUMN}' column; got {trips.columns}")
        grouped = trips.groupBy(zone, F.col("service_type"), F.col(MONTH_COLUMN)).agg(*aggregates)
        revenue_month = F.to_timestamp(F.concat(F.col(MONTH_COLUMN), F.lit("-01")), "yyyy-MM-dd")
        names = [name for name, _, _ in REVENUE_MONTHLY_ZONE_AGGREGATES]
        return grouped.select("revenue_zone", revenue_month.alias("revenue_month"), "service_type", MONTH_COLUMN, *names)
    keys = [zone, F.date_trunc("month", F.col("pickup_datetime")).alias("revenue_month"), F.col("service_type")]
    if MONTH_COLUMN in trips.columns:
        keys.append(F.col(MONTH_COLUMN))
    return trips.groupBy(*keys).agg(*aggregates)
