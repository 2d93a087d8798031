"""newest_month_sensor: materialize the newest months once their source files exist.

The TLC publishes a month a few weeks after it ends, on no fixed day, so a calendar schedule would either run too
early (and fail on a 404) or waste weeks. This sensor asks the ``sources`` resource instead, about once an hour:

- it looks at the newest ``lookback_months`` partitions (the month in progress and the ones before it);
- it skips months whose report (``reports/revenue_monthly_zone``) is already materialized, and months it already
  asked for (kept in the sensor's cursor);
- for each remaining month it asks ``sources.exists`` for green, then yellow (a path check for local files, an HTTP
  HEAD for the TLC and the backup, always true for the sample), and when both are there it requests one
  ``monthly_revenue`` run for that partition, with ``run_key`` ``monthly_revenue:YYYY-MM`` so that the daemon never
  launches the same month twice either.

A month fires once: if its run fails, re-run the partition from the UI (the sensor will not retry it). A source
that cannot answer right now (timeout, 5xx) only means "not yet": the month is asked about again on the next tick.
The sensor starts stopped; turn it on in the UI (Automation) or with ``dagster sensor start newest_month_sensor``.
"""

import json

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from taxi_platform.defs.revenue.raw import RAW_TAXI_TYPES
from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY
from taxi_platform.defs.revenue.jobs import monthly_revenue_job
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sources.base import SourceError

NEWEST_MONTH_SENSOR = "newest_month_sensor"
LOOKBACK_MONTHS = 3
CHECK_EVERY_SECONDS = 3600


def run_key_for(month: str) -> str:
    return f"{monthly_revenue_job.name}:{month}"


def build_newest_month_sensor(
    lookback_months: int = LOOKBACK_MONTHS,
    minimum_interval_seconds: int = CHECK_EVERY_SECONDS,
    name: str = NEWEST_MONTH_SENSOR,
):
    """The sensor (module docstring); the window and the tick interval are arguments so tests and users can pick."""
    if lookback_months < 1:
        raise ValueError(f"lookback_months must be >= 1, got {lookback_months}")

    @sensor(
        name=name,
        job=monthly_revenue_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=DefaultSensorStatus.STOPPED,
        description=f"Requests a monthly_revenue run for each of the newest {lookback_months} months whose green "
        "and yellow source files exist and whose report is not materialized yet (once per month).",
    )
    def _sensor(context: SensorEvaluationContext, sources: TaxiSourceResource) -> SensorResult:
        window = monthly_partitions.get_partition_keys()[-lookback_months:]
        requested = set(json.loads(context.cursor)) if context.cursor else set()
        materialized = context.instance.get_materialized_partitions(REVENUE_MONTHLY_ZONE_KEY)

        run_requests: list[RunRequest] = []
        notes: list[str] = []
        for month in window:
            if month in materialized:
                notes.append(f"{month}: materialized")
                continue
            if month in requested:
                notes.append(f"{month}: already requested")
                continue
            missing = None  # the first taxi type not there yet (the others are not asked: a tick stays short)
            for taxi_type in RAW_TAXI_TYPES:
                try:
                    if not sources.exists(taxi_type, month):
                        missing = f"{taxi_type} not published yet"
                except SourceError as error:  # the source cannot tell right now: ask again on the next tick
                    missing = f"{taxi_type} unknown ({error})"
                if missing:
                    break
            if missing:
                notes.append(f"{month}: {missing}")
                continue
            context.log.info(f"{month}: green and yellow exist at the source; requesting {run_key_for(month)}")
            requested.add(month)
            run_requests.append(
                RunRequest(
                    run_key=run_key_for(month),
                    partition_key=month,
                    tags={"taxi_platform/trigger": name},
                )
            )

        # Only months still in the window need remembering: the cursor stays a handful of keys forever.
        cursor = json.dumps(sorted(m for m in requested if m in window))
        if run_requests:
            return SensorResult(run_requests=run_requests, cursor=cursor)
        return SensorResult(skip_reason=f"nothing to run ({sources.kind} source): " + "; ".join(notes), cursor=cursor)

    return _sensor


newest_month_sensor = build_newest_month_sensor()
