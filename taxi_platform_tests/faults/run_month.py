"""A real ``monthly_revenue`` run in a process of its own, for the fault tests.

    python -m taxi_platform_tests.faults.run_month 2021-02

Configured the way a user's run is: the local deployment's resources from the ``TAXI_*`` env vars (the same settings
``resources/deployments.py`` reads), the Dagster instance of ``DAGSTER_HOME``, the ``monthly_revenue`` job with all
its checks. It prints one line ``FAULTS_RESULT {json}`` (success, run id, check results, failed steps) and exits 0
only when the run and every check succeeded. Test-only switches, all env vars:

- ``FAULTS_PAUSE_AT=<lake folder>`` and ``FAULTS_PAUSED=<file>``: inside the commit of that folder, just before its
  swap (journal and lock held, new version staged), create the file and sleep. The test kills the process group
  there. Nothing in the product knows about this: the harness wraps ``local_swap._swap_in`` of this process.
- ``FAULTS_KEYFILE_ENV=<NAME>``: the Spark resource gets a GCP resource reading its service-account keyfile from the
  env var ``NAME``, as the gcp deployment's Spark resource does; the keyfile path then sits in Spark's configuration
  (the GCS connector's settings), the one place a run holds it.
- ``FAULTS_SPARK_EVENTS=<dir>``: Spark writes its event log there (it records every Spark setting).
"""

import json
import os
import sys
import time
from pathlib import Path

PAUSE_AT, PAUSED = "FAULTS_PAUSE_AT", "FAULTS_PAUSED"


def pause_inside_swap(destination: str, paused_file: str) -> None:
    """Stop this process inside the commit that replaces ``destination``, just before its swap: the new version is
    staged and verified, the commit's journal and the destination's lock are held, the old version still in place."""
    from taxi_platform.io_managers import local_swap

    real_swap_in = local_swap._swap_in

    def swap_in(item):
        if item.destination == destination:
            Path(paused_file).write_text(str(os.getpid()))
            while True:  # mid-commit: wait for SIGKILL
                time.sleep(60)
        return real_swap_in(item)

    local_swap._swap_in = swap_in


def resources(env) -> dict:
    """The local deployment's resources (``deployments.local_resources``), plus the test switches' Spark settings."""
    from taxi_platform.io_managers.lake import LakeIOManager
    from taxi_platform.resources.deployments import sources_from_env
    from taxi_platform.resources.gcp import GcpResource
    from taxi_platform.resources.spark import SparkResource

    spark_config = {}
    if env.get("FAULTS_SPARK_EVENTS"):
        spark_config = {"spark.eventLog.enabled": "true", "spark.eventLog.compress": "false",  # plain JSON lines
                        "spark.eventLog.dir": Path(env["FAULTS_SPARK_EVENTS"]).as_uri()}
    gcp = None
    if env.get("FAULTS_KEYFILE_ENV"):
        gcp = GcpResource(project="taxi-faults", keyfile_env_var=env["FAULTS_KEYFILE_ENV"])
    spark = SparkResource(
        master=env.get("TAXI_SPARK_MASTER", "local[*]"),
        driver_memory=env.get("TAXI_SPARK_DRIVER_MEMORY", "2g"),
        spark_config=spark_config,
        gcp=gcp,
    )
    lake = LakeIOManager(lake_root=env.get("TAXI_LAKE_ROOT", "data/lake"), spark=spark)
    return {"spark": spark, "lake_io_manager": lake, "report_io_manager": lake, "sources": sources_from_env(env)}


def main(month: str) -> int:
    from dagster import DagsterInstance, Definitions

    from taxi_platform.definitions import defs as code_location

    if os.environ.get(PAUSE_AT):
        pause_inside_swap(os.environ[PAUSE_AT], os.environ[PAUSED])
    run_resources = resources(os.environ)
    spark = run_resources["spark"]
    try:
        # the code location's assets, checks, jobs and executor, with these resources
        defs = Definitions(assets=code_location.assets, asset_checks=code_location.asset_checks,
                           jobs=code_location.jobs, resources=run_resources, executor=code_location.executor)
        result = defs.resolve_job_def("monthly_revenue").execute_in_process(
            partition_key=month, instance=DagsterInstance.get(), raise_on_error=False
        )
    finally:
        if spark._spark_session is not None:
            spark._spark_session.stop()  # flushes Spark's event log
    checks = {f"{e.asset_key.to_user_string()}:{e.check_name}": bool(e.passed)
              for e in result.get_asset_check_evaluations()}
    failures = {e.step_key: e.step_failure_data.error.to_string() for e in result.get_step_failure_events()}
    summary = {"success": result.success, "run_id": result.run_id, "checks": checks, "failures": failures}
    print("FAULTS_RESULT " + json.dumps(summary), flush=True)
    return 0 if result.success and checks and all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
