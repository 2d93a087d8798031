"""Green + yellow -> one trips dataset (the course's ``trips_data``): the 18 common columns + service_type."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from taxi_platform.schemas import MONTH_COLUMN, TRIPS_COLUMNS


def with_service_type(clean: DataFrame, service_type: str) -> DataFrame:
    """The common columns of one clean taxi type, tagged with its service_type (``month`` kept when present)."""
    extra = [MONTH_COLUMN] if MONTH_COLUMN in clean.columns else []
    return clean.select(*TRIPS_COLUMNS, F.lit(service_type).alias("service_type"), *extra)


def combine_trips(green: DataFrame, yellow: DataFrame) -> DataFrame:
    """Union all of clean green and clean yellow trips, in the course's column order."""
    return with_service_type(green, "green").unionByName(with_service_type(yellow, "yellow"))
