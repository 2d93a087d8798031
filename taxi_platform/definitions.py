"""The code location: assets, checks, jobs and the resources of the deployment picked by TAXI_PLATFORM_DEPLOYMENT.

Loads in about a second and starts no JVM: Spark sessions are started by the Spark resource on first use in a run.
Runs use the in-process executor so that one run (a month or a whole single-run backfill) starts one Spark driver.
"""

from dagster import Definitions, in_process_executor

from taxi_platform.assets.answers import answers_assets, answers_checks
from taxi_platform.assets.clean import clean_assets
from taxi_platform.assets.core import trips
from taxi_platform.assets.fhv import fhv_assets, fhv_checks
from taxi_platform.assets.hourly import hourly_assets
from taxi_platform.assets.predictions import prediction_assets
from taxi_platform.assets.raw import raw_assets
from taxi_platform.assets.reports import revenue_monthly_zone
from taxi_platform.assets.zones import taxi_zones
from taxi_platform.checks import asset_checks
from taxi_platform.checks.predictions import prediction_checks
from taxi_platform.checks.rdd import hourly_checks
from taxi_platform.jobs.asset_jobs import course_analytics_job, monthly_revenue_job, reference_job
from taxi_platform.jobs.vacuum import vacuum_lake
from taxi_platform.resources.deployments import report_runs_on_dataproc, resources_for
from taxi_platform.sensors import newest_month_sensor

resources = resources_for()
if report_runs_on_dataproc(resources):  # TAXI_SPARK_TARGET=dataproc: same report key, computed on Dataproc
    from taxi_platform.assets.dataproc import revenue_monthly_zone_on_dataproc as revenue_monthly_zone
    from taxi_platform.assets.reports import REVENUE_MONTHLY_ZONE_KEY

    # The report's checks read it through the local lake IO manager: they cannot see a gs:// report.
    asset_checks = [c for c in asset_checks if all(k.asset_key != REVENUE_MONTHLY_ZONE_KEY for k in c.check_keys)]

all_assets = [taxi_zones, *raw_assets, *clean_assets, trips, revenue_monthly_zone]
jobs = [monthly_revenue_job, reference_job, vacuum_lake]

# The course's other analytics (hourly revenue, homework answers, trip-duration model and predictions) need a Spark
# session in the run's process, which the dataproc target does not have.
analytics_assets, analytics_checks = (
    ([], [])
    if report_runs_on_dataproc(resources)
    else ([*hourly_assets, *answers_assets, *prediction_assets], [*hourly_checks, *answers_checks, *prediction_checks])
)
if analytics_assets:
    jobs.append(course_analytics_job)

if "gcp" in resources:  # TAXI_PLATFORM_DEPLOYMENT=gcp: uploading an existing local lake is one job away
    from taxi_platform.jobs.upload_lake import upload_lake_to_gcs

    jobs.append(upload_lake_to_gcs)

# For-hire vehicles (fhv, fhvhv) and the course's base_id UDF: their own group, beside the green/yellow graph.
defs = Definitions(
    assets=[*all_assets, *analytics_assets, *fhv_assets],
    asset_checks=[*asset_checks, *analytics_checks, *fhv_checks],
    jobs=jobs,
    sensors=[newest_month_sensor],  # materializes the newest months once their source files exist (starts stopped)
    resources=resources,
    executor=in_process_executor,
)
