"""The same asset graph on local, a real standalone cluster and a real Spark Connect server: the same report.

One month of the sample source (fixed seed) is materialized three times, each into its own lake: on the session's
local[2] resource, on a standalone master + one worker started from the installed pyspark, and through a Spark Connect
server. The three reports must be identical row for row (floats within 1e-9: sums of the same values in another
partitioning may differ in the last bits) and every check must pass on each. The spark-submit job script, run on the
standalone cluster against the raw months the graph wrote, must give the asset's report.

These tests switch this process's Spark session (local -> standalone -> Connect -> local again); conftest runs them
after every other test, and the last one proves the local resource works again afterwards.
"""

from __future__ import annotations

import math
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from dagster import AssetKey, materialize

from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.checks import asset_checks
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.definitions import revenue_assets
from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform_tests.conftest import lake_io_managers
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.resources.spark import SparkResource, SparkTargetError
from taxi_platform_tests.clusters import free_port, spark_submit_env, spark_submit_path
from taxi_platform_tests.conftest import REPO_ROOT

all_assets = [taxi_zones, *revenue_assets]  # the local green/yellow graph + the zone lookup

pytestmark = [pytest.mark.cluster, pytest.mark.spark]

MONTH = "2021-01"
ROWS = 2000
SEED = 11
FLOAT_TOLERANCE = 1e-9
MONTHLY = [a for a in all_assets if a is not taxi_zones]
REPORT = AssetKey(["reports", "revenue_monthly_zone"])
SPARK_ASSETS = {"ref/taxi_zones", "clean/green_trips", "clean/yellow_trips", "quarantine/green_trips",
                "quarantine/yellow_trips", "core/trips", "reports/revenue_monthly_zone"}


@dataclass
class GraphRun:
    lake: Path
    metadata: dict  # asset key -> {name: value} of its materialization
    checks: dict  # (asset key, check name) -> passed
    check_metadata: list
    seconds: float


def materialize_graph(spark: SparkResource, lake: Path) -> GraphRun:
    """ref/taxi_zones, then raw -> clean -> core -> report for MONTH with every check, on ``spark``."""
    resources = {
        "spark": spark,
        **lake_io_managers(LakeIOManager(lake_root=str(lake), spark=spark)),
        "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=ROWS, sample_seed=SEED),
    }
    started = time.monotonic()
    results = [materialize([taxi_zones], resources=resources),
               materialize(MONTHLY + asset_checks, resources=resources, partition_key=MONTH)]
    seconds = round(time.monotonic() - started, 1)
    assert all(r.success for r in results)
    metadata, checks, check_metadata = {}, {}, []
    for result in results:
        for event in result.get_asset_materialization_events():
            mat = event.materialization
            metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
        for evaluation in result.get_asset_check_evaluations():
            checks[(evaluation.asset_key.to_user_string(), evaluation.check_name)] = evaluation.passed
            check_metadata.append({k: v.value for k, v in evaluation.metadata.items()})
    return GraphRun(lake, metadata, checks, check_metadata, seconds)


def report_rows(folder: Path) -> list[dict]:
    """The report rows of MONTH under a lake's (or the job's) report folder, sorted by zone and service type."""
    table = ds.dataset(folder / f"month={MONTH}", format="parquet").to_table()
    return sorted(table.to_pylist(), key=lambda r: (r["revenue_zone"], r["service_type"], r["revenue_month"]))


def assert_same_report(got: list[dict], expected: list[dict]) -> None:
    assert len(got) == len(expected) > 50
    assert list(got[0]) == list(expected[0])  # same columns, same order
    for g, e in zip(got, expected):
        for column, value in e.items():
            if isinstance(value, float):
                assert g[column] is not None and math.isclose(g[column], value, rel_tol=0, abs_tol=FLOAT_TOLERANCE), \
                    (column, g, e)
            else:
                assert g[column] == value, (column, g, e)


def assert_plain_python(value, where: str) -> None:
    """No numpy scalar (or other foreign type) reached Dagster metadata."""
    if type(value) is dict:
        for k, v in value.items():
            assert_plain_python(k, where)
            assert_plain_python(v, where)
    elif type(value) in (list, tuple):
        for v in value:
            assert_plain_python(v, where)
    else:
        assert type(value).__module__.split(".")[0] != "numpy", f"numpy value {value!r} in {where}"


def assert_graph_ok(run: GraphRun) -> None:
    assert len(run.checks) == len(asset_checks) == 14
    assert all(run.checks.values()), run.checks
    for key, meta in run.metadata.items():
        assert ("spark_target" in meta) == (key in SPARK_ASSETS), key  # raw assets never touch Spark


# ---- local: the reference ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_run(spark_resource, tmp_path_factory) -> GraphRun:
    return materialize_graph(spark_resource, tmp_path_factory.mktemp("lake_local"))


# ---- standalone ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def standalone_resource(standalone_cluster) -> SparkResource:
    return SparkResource(
        target="standalone", master=standalone_cluster.master_url, app_name="taxi_platform_standalone_test",
        driver_memory="1g", executor_memory="512m", executor_cores=1,
        spark_config={"spark.ui.enabled": "true", "spark.ui.port": str(free_port()),
                      "spark.sql.shuffle.partitions": "4",
                      # file splits prefer host "localhost", the executor is "127.0.0.1": don't wait 3 s a stage
                      # for a locality that never comes
                      "spark.locality.wait": "0s"},
    )


@pytest.fixture(scope="module")
def standalone_run(local_run, standalone_cluster, standalone_resource, tmp_path_factory) -> GraphRun:
    run = materialize_graph(standalone_resource, tmp_path_factory.mktemp("lake_standalone"))
    # end the application: the worker's single core is free for the spark-submit test, and the master lists the app
    standalone_resource.get_session().stop()
    return run


def completed_apps(cluster, name: str, timeout: float = 20.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        apps = [a for a in cluster.state().get("completedapps", []) if a.get("name") == name]
        if apps or time.monotonic() > deadline:
            return apps
        time.sleep(0.5)


def test_standalone_cluster_has_one_alive_worker(standalone_cluster):
    state = standalone_cluster.state()
    assert state["aliveworkers"] == 1 and state["status"] == "ALIVE"
    assert state["url"] == standalone_cluster.master_url
    (worker,) = [w for w in state["workers"] if w["state"] == "ALIVE"]
    assert (worker["cores"], worker["memory"]) == (1, 1024)


def test_graph_on_standalone_gives_the_local_report(local_run, standalone_run, standalone_cluster):
    assert_graph_ok(local_run)
    assert_graph_ok(standalone_run)
    assert_same_report(report_rows(standalone_run.lake / "reports/revenue_monthly_zone"),
                       report_rows(local_run.lake / "reports/revenue_monthly_zone"))
    for key in SPARK_ASSETS:
        assert standalone_run.metadata[key]["dagster/row_count"] == local_run.metadata[key]["dagster/row_count"], key
    meta = standalone_run.metadata["reports/revenue_monthly_zone"]
    assert meta["spark_target"] == "standalone" and meta["spark_master"] == standalone_cluster.master_url
    assert meta["spark_ui"].startswith("http://")
    assert local_run.metadata["reports/revenue_monthly_zone"]["spark_target"] == "local"
    # it really ran on the cluster: the master lists the application, which got executors from the worker
    (app,) = completed_apps(standalone_cluster, "taxi_platform_standalone_test")
    assert app["id"] == meta["spark_app_id"]
    assert not list(standalone_run.lake.rglob("*.crc"))  # the executors wrote with the no-sidecar file system too


def test_spark_submit_job_script_on_standalone_matches_the_asset_report(standalone_cluster, standalone_run, tmp_path):
    lake, output = standalone_run.lake, tmp_path / "report"
    command = [
        spark_submit_path(), "--master", standalone_cluster.master_url,
        "--conf", "spark.executor.memory=512m", "--conf", "spark.executor.cores=1", "--conf", "spark.ui.enabled=false",
        "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.sql.shuffle.partitions=4", "--conf", "spark.locality.wait=0s",
        str(REPO_ROOT / "taxi_platform" / "spark_jobs" / "revenue_report.py"),
        f"--input_green={lake}/raw/green_trips", f"--input_yellow={lake}/raw/yellow_trips",
        f"--output={output}", f"--months={MONTH}",
    ]
    done = subprocess.run(command, env=spark_submit_env(), cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    assert f"written to {output}" in done.stdout
    job_rows = report_rows(output)
    assert_same_report(job_rows, report_rows(lake / "reports/revenue_monthly_zone"))
    assert len(list((output / f"month={MONTH}").glob("*.parquet"))) == 1  # one file a month, as the course
    assert completed_apps(standalone_cluster, "taxi_platform.revenue_report")  # it ran on the cluster


# ---- Spark Connect -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def connect_resource(connect_server) -> SparkResource:
    return SparkResource(target="connect", remote=connect_server.remote,
                         spark_config={"spark.sql.shuffle.partitions": "4"})


@pytest.fixture(scope="module")
def connect_run(local_run, connect_resource, tmp_path_factory) -> GraphRun:
    return materialize_graph(connect_resource, tmp_path_factory.mktemp("lake_connect"))


def test_graph_on_spark_connect_gives_the_local_report(local_run, connect_run, connect_server, connect_resource):
    assert_graph_ok(connect_run)
    assert_same_report(report_rows(connect_run.lake / "reports/revenue_monthly_zone"),
                       report_rows(local_run.lake / "reports/revenue_monthly_zone"))
    for key in SPARK_ASSETS:
        assert connect_run.metadata[key]["dagster/row_count"] == local_run.metadata[key]["dagster/row_count"], key
    meta = connect_run.metadata["reports/revenue_monthly_zone"]
    assert meta["spark_target"] == "connect" and meta["spark_ui"] == meta["spark_remote"] == connect_server.remote
    for key, values in connect_run.metadata.items():
        assert_plain_python(values, f"{key} metadata")
    for values in connect_run.check_metadata:
        assert_plain_python(values, "check metadata")
    session = connect_resource.get_session()
    assert type(session).__module__ == "pyspark.sql.connect.session"
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"


def test_code_that_needs_rdds_fails_clearly_on_connect(connect_run, connect_resource, connect_server):
    connect_resource.get_session()  # a live Connect session: still a clear error, not pyspark's stack trace
    with pytest.raises(SparkTargetError, match=f"needs the SparkContext/RDD API, which Spark target 'connect' "
                                               f"\\({connect_server.remote}\\) does not have"):
        connect_resource.require_spark_context("the RDD revenue report")


# ---- back to local -------------------------------------------------------------------------------------------------
def test_local_resource_works_again_after_the_cluster_targets(connect_run, spark_resource, make_resources, lake_root):
    session = spark_resource.get_session()
    assert type(session).__module__ == "pyspark.sql.session"
    assert session.sparkContext.master == "local[2]"
    result = materialize([taxi_zones], resources=make_resources())
    assert result.success
    (mat,) = [e.materialization for e in result.get_asset_materialization_events()]
    assert mat.metadata["spark_target"].value == "local" and mat.metadata["dagster/row_count"].value == 265
