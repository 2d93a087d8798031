"""The revenue pipeline's job: raw -> clean -> core -> report for a month or a range of months."""

from __future__ import annotations

from dagster import AssetCheckKey, AssetSelection, define_asset_job

from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY

from taxi_platform.partitions import monthly_partitions

FRESHNESS_CHECK = "newest_month_fresh"  # freshness.py

# raw -> clean/quarantine -> core -> reports for a month or a range of months (single run), with every check.
monthly_revenue_job = define_asset_job(
    "monthly_revenue",
    # the report's freshness check looks at the newest month, not the run's: the automation evaluates it hourly
    selection=AssetSelection.groups("raw", "clean", "core", "reports")
    - AssetSelection.checks(AssetCheckKey(REVENUE_MONTHLY_ZONE_KEY, FRESHNESS_CHECK)),
    partitions_def=monthly_partitions,
    description="Raw -> clean -> core/trips -> reports/revenue_monthly_zone for the selected months, with checks.",
)
