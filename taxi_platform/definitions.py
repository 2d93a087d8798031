"""The code location: assets, checks, jobs and the resources of the deployment picked by TAXI_PLATFORM_DEPLOYMENT.

Loads in about a second and starts no JVM: Spark sessions are started by the Spark resource on first use in a run.
Runs use the in-process executor so that one run (a month or a whole single-run backfill) starts one Spark driver.
"""

from dagster import Definitions, in_process_executor

from taxi_platform.assets.clean import clean_assets
from taxi_platform.assets.core import trips
from taxi_platform.assets.raw import raw_assets
from taxi_platform.assets.reports import revenue_monthly_zone
from taxi_platform.assets.zones import taxi_zones
from taxi_platform.checks import asset_checks
from taxi_platform.jobs.asset_jobs import monthly_revenue_job, reference_job
from taxi_platform.resources.deployments import resources_for

all_assets = [taxi_zones, *raw_assets, *clean_assets, trips, revenue_monthly_zone]

defs = Definitions(
    assets=all_assets,
    asset_checks=asset_checks,
    jobs=[monthly_revenue_job, reference_job],
    resources=resources_for(),
    executor=in_process_executor,
)
