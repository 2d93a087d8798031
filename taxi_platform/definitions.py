"""The code location: each pipeline of ``defs/`` merged with the resources of the deployment, decided here once.

``TAXI_PLATFORM_DEPLOYMENT`` (local | gcp) picks the resources (``resources/deployments.py``); ``TAXI_SPARK_TARGET=
dataproc`` computes ``reports/revenue_monthly_zone`` on Dataproc and leaves out the analytics pipeline (it needs a
Spark session in the run's process); the gcp deployment adds the ``gcp/`` jobs.

Loads in about a second and starts no JVM: Spark sessions are started by the Spark resource on first use in a run.
Runs use the in-process executor so that one run (a month or a whole single-run backfill) starts one Spark driver.
"""

from dagster import Definitions, in_process_executor

from taxi_platform.defs.analytics.definitions import analytics_defs
from taxi_platform.defs.for_hire.definitions import for_hire_defs
from taxi_platform.defs.gcp.definitions import gcp_defs
from taxi_platform.defs.lake.definitions import lake_defs
from taxi_platform.defs.reference.definitions import reference_defs
from taxi_platform.defs.revenue.definitions import revenue_defs
from taxi_platform.resources.deployments import report_runs_on_dataproc, resources_for

resources = resources_for()
on_dataproc = report_runs_on_dataproc(resources)  # TAXI_SPARK_TARGET=dataproc

defs = Definitions.merge(
    reference_defs(),
    revenue_defs(report_on_dataproc=on_dataproc),
    for_hire_defs(),
    lake_defs(),
    *([] if on_dataproc else [analytics_defs()]),
    *([gcp_defs()] if "gcp" in resources else []),
    Definitions(resources=resources, executor=in_process_executor),
)
