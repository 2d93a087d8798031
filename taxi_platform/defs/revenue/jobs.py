"""Dagster jobs over the assets (the spark-submit entry scripts live beside this module)."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from taxi_platform.assets.zones import TAXI_ZONES_KEY
from taxi_platform.partitions import monthly_partitions

# raw -> clean/quarantine -> core -> reports for a month or a range of months (single run), with every check.
monthly_revenue_job = define_asset_job(
    "monthly_revenue",
    selection=AssetSelection.groups("raw", "clean", "core", "reports"),
    partitions_def=monthly_partitions,
    description="Raw -> clean -> core/trips -> reports/revenue_monthly_zone for the selected months, with checks.",
)

# The rest of the course (hourly revenue per zone, green vs yellow, with the zone names): needs ref/taxi_zones.
course_analytics_job = define_asset_job(
    "course_analytics",
    selection=AssetSelection.groups("analytics"),
    partitions_def=monthly_partitions,
    description="reports/hourly_revenue_by_zone (and its RDD check) and reports/monthly_answers (the course's "
    "homework answers; its config picks the taxi type) for the selected months; needs clean trips and ref/taxi_zones. "
    "Also analytics/trip_duration_model and analytics/trip_duration_predictions (need core/trips).",
)

reference_job = define_asset_job(
    "reference_data",
    selection=AssetSelection.assets(TAXI_ZONES_KEY),
    description="The unpartitioned reference tables (the TLC zone lookup).",
)
