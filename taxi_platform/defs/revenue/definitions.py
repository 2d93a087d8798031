"""The revenue pipeline: raw -> clean/quarantine -> core/trips -> reports/revenue_monthly_zone, checks, job, automation."""

from dagster import Definitions

from taxi_platform.defs.revenue.automation import newest_month_sensor
from taxi_platform.defs.revenue.checks import asset_checks
from taxi_platform.defs.revenue.clean import clean_assets
from taxi_platform.defs.revenue.core import trips
from taxi_platform.defs.revenue.jobs import monthly_revenue_job
from taxi_platform.defs.revenue.raw import raw_assets
from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY, revenue_monthly_zone

# the local graph of the pipeline (the report computed in this process)
revenue_assets = [*raw_assets, *clean_assets, trips, revenue_monthly_zone]


def revenue_defs(report_on_dataproc: bool = False) -> Definitions:
    """The pipeline; ``report_on_dataproc``: the report (same key) is computed on Dataproc by the job script."""
    assets, checks = revenue_assets, asset_checks
    if report_on_dataproc:
        from taxi_platform.defs.revenue.reports_on_dataproc import revenue_monthly_zone_on_dataproc

        assets = [a for a in revenue_assets if a is not revenue_monthly_zone] + [revenue_monthly_zone_on_dataproc]
        # The report's checks read it through the local lake IO manager: they cannot see a gs:// report.
        checks = [c for c in asset_checks if all(k.asset_key != REVENUE_MONTHLY_ZONE_KEY for k in c.check_keys)]
    return Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[monthly_revenue_job],
        sensors=[newest_month_sensor],  # materializes the newest months once their source files exist (starts stopped)
    )
