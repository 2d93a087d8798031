"""The analytics pipeline: hourly revenue, the homework answers, the trip-duration model and predictions; checks; job.

They need a Spark session in the run's process, which the dataproc target does not have (definitions.py leaves this
pipeline out there).
"""

from dagster import Definitions

from taxi_platform.defs.analytics.answers import answers_assets, answers_checks
from taxi_platform.defs.analytics.hourly import hourly_assets
from taxi_platform.defs.analytics.hourly_checks import hourly_checks
from taxi_platform.defs.analytics.jobs import course_analytics_job
from taxi_platform.defs.metadata import OWNERS, declared
from taxi_platform.defs.analytics.prediction_checks import prediction_checks
from taxi_platform.defs.analytics.predictions import prediction_assets


def analytics_defs() -> Definitions:
    return Definitions(
        assets=declared([*hourly_assets, *answers_assets, *prediction_assets], OWNERS["analytics"]),
        asset_checks=[*hourly_checks, *answers_checks, *prediction_checks],
        jobs=[course_analytics_job],
    )
