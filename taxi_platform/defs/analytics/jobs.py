"""The analytics pipeline's job."""

from dagster import AssetSelection, define_asset_job

from taxi_platform.partitions import monthly_partitions

# The rest of the course (hourly revenue per zone, green vs yellow, with the zone names): needs ref/taxi_zones.
course_analytics_job = define_asset_job(
    "course_analytics",
    selection=AssetSelection.groups("analytics"),
    partitions_def=monthly_partitions,
    description="reports/hourly_revenue_by_zone (and its RDD check) and reports/monthly_answers (the course's "
    "homework answers; its config picks the taxi type) for the selected months; needs clean trips and ref/taxi_zones. "
    "Also analytics/trip_duration_model and analytics/trip_duration_predictions (need core/trips).",
)
