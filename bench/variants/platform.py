"""(a) The platform: one single-run backfill of the months through Dagster, raw -> clean -> core -> report.

Exactly what a user's run does: the definitions are loaded from ``taxi_platform.definitions`` with the ``local``
source pointed at the cached raw months (``TAXI_SOURCE=local``, ``TAXI_LOCAL_PATH_TEMPLATE``) and the lake at
``--out`` (``TAXI_LAKE_ROOT``); the run is recorded in a real (sqlite) Dagster instance in a fresh DAGSTER_HOME, and
executes in-process (one Spark session for every step). ``--checks`` adds the job's 12 asset checks (the
``monthly_revenue`` job as launched from the UI); without it, the assets alone, the same work as variant (b).

Figures written: definitions load time, run time, each step's duration from the run's own events, and
``time_to_first_clean_month``: from the run's start to its first clean month committed (the fixed cost a one-month
run pays before any trips are written).
"""

from __future__ import annotations

import os
import shutil
import tempfile

from bench.variants.common import Timer, months_of, parser, write_result


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--checks", action="store_true", help="run the job's asset checks too")
    args = p.parse_args(argv)
    months = months_of(args)
    shutil.rmtree(args.out, ignore_errors=True)
    home = tempfile.mkdtemp(prefix="bench-dagster-home-")
    os.environ.update({
        "DAGSTER_HOME": home,
        "TAXI_PLATFORM_DEPLOYMENT": "local",
        "TAXI_SOURCE": "local",
        "TAXI_LOCAL_PATH_TEMPLATE": args.raw,
        "TAXI_LAKE_ROOT": str(args.out.resolve()),
        "TAXI_SPARK_MASTER": args.master,
        "TAXI_SPARK_DRIVER_MEMORY": args.driver_memory,
    })
    timer = Timer()
    try:
        with timer.section("definitions"):
            from dagster import AssetSelection, DagsterEventType, DagsterInstance, Definitions, define_asset_job

            from taxi_platform.definitions import defs
            from taxi_platform.defs.revenue.jobs import monthly_revenue_job
            from taxi_platform.partitions import monthly_partitions

            if args.checks:
                job = defs.resolve_job_def(monthly_revenue_job.name)
            else:
                selection = AssetSelection.groups("raw", "clean", "core", "reports").without_checks()
                bench_job = define_asset_job("bench_assets_only", selection=selection, partitions_def=monthly_partitions)
                job = Definitions.merge(defs, Definitions(jobs=[bench_job])).resolve_job_def("bench_assets_only")
            instance = DagsterInstance.get()
        tags = {"dagster/asset_partition_range_start": months[0], "dagster/asset_partition_range_end": months[-1]}
        with timer.section("run"):
            result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
        if not result.success:
            failures = [f"{e.step_key}: {e.step_failure_data.error.message.strip()}"
                        for e in result.get_step_failure_events()]
            raise SystemExit(f"the platform run failed: {failures}")
        steps: dict[str, float] = {}
        started: dict[str, float] = {}
        run_started, first_clean = None, None
        for record in instance.all_logs(result.run_id):
            event = record.dagster_event
            if event is not None and event.event_type == DagsterEventType.RUN_START:
                run_started = record.timestamp
            if (event is not None and event.event_type == DagsterEventType.ASSET_MATERIALIZATION and first_clean is None
                    and event.asset_key.path[0] == "clean"):
                first_clean = record.timestamp  # the first clean month committed: the run's first trips written
            if event is None or event.step_key is None:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                started[event.step_key] = record.timestamp
            elif event.event_type == DagsterEventType.STEP_SUCCESS and event.step_key in started:
                steps[event.step_key] = round(record.timestamp - started[event.step_key], 4)
        if run_started is not None and first_clean is not None:
            # not a step: seconds from the run's start to its first clean month committed (session start included)
            steps["time_to_first_clean_month"] = round(first_clean - run_started, 4)
        checks = {f"{e.asset_key.to_user_string()}:{e.check_name}": bool(e.passed)
                  for e in result.get_asset_check_evaluations()}
        from pyspark.sql import SparkSession

        session = SparkSession._instantiatedSession  # the run's session (the resource leaves it running)
        version = session.version if session is not None else None
        with timer.section("stop"):
            if session is not None:
                session.stop()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    write_result(args.result, sections=timer.sections, steps=steps, checks=checks, spark_version=version)
    return 0 if all(checks.values()) else 3


if __name__ == "__main__":
    raise SystemExit(main())
