"""The revenue pipeline's job: raw -> clean -> core -> report for a month or a range of months."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from taxi_platform.partitions import monthly_partitions

# raw -> clean/quarantine -> core -> reports for a month or a range of months (single run), with every check.
monthly_revenue_job = define_asset_job(
    "monthly_revenue",
    selection=AssetSelection.groups("raw", "clean", "core", "reports"),
    partitions_def=monthly_partitions,
    description="Raw -> clean -> core/trips -> reports/revenue_monthly_zone for the selected months, with checks.",
)
