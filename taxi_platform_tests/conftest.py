"""Shared fixtures: one local Spark session for the whole test session, a fresh lake per test, resources to match."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from taxi_platform_tests import network_guard

# Loopback only, for the whole suite and from the first import on (network_guard.py says what is wrapped).
network_guard.install()

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# Tests (and the dagster CLI they start) use a throw-away Dagster instance, never the user's DAGSTER_HOME.
os.environ["DAGSTER_HOME"] = tempfile.mkdtemp(prefix="taxi_platform-dagster-home-")
atexit.register(shutil.rmtree, os.environ["DAGSTER_HOME"], True)
os.environ.setdefault("NO_GCE_CHECK", "True")
# Every JVM the tests start (the Spark drivers of the suite and of the runs and servers it launches, the standalone
# master, worker and executors, the Spark Connect server) works on a few thousand rows: C2 compilation and the parallel
# GC cost more CPU than they save there. C1 only and the serial GC halve a small Spark application's CPU (measured
# on 2 cores: 52 -> 28 CPU s, 32 -> 23 s wall); the suite is CPU-bound (2 cores ~99% busy under pytest-xdist): serial
# 1739 -> 1693 s. Never set for the product or the bench's figures (bench/run.py --java-options).
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
TLC_CSV_HEADS = SHARED_DATA / "tlc_csv_heads"

TEST_SPARK_CONFIG = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
}


def lake_io_managers(lake) -> dict:
    """The lake serves both IO manager keys of the local deployment: the datasets and the reports."""
    return {"lake_io_manager": lake, "report_io_manager": lake}


def require_shared(path: Path) -> Path:
    """Skip (with the reason) when the reference data beside the clone is absent."""
    if not path.exists():
        pytest.skip(f"{path} is absent: the real TLC reference data lives in ../shared beside the clone")
    return path


GCP_PROJECT = "taxi-test"


@pytest.fixture(autouse=True)
def only_loopback():
    """Fail the test if it (or a fixture it started) tried to reach a non-loopback address, even when the code
    under test swallowed the ``NonLoopbackConnection`` the guard raised. Yields the attempts list (for assertions)."""
    before = len(network_guard.attempts())
    yield network_guard.attempts
    new = network_guard.attempts()[before:]
    assert not new, f"non-loopback network attempts during this test: {new}"


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory):
    """A real fake-gcs-server on a free loopback port for the whole test session (about half a second to start)."""
    from taxi_platform_tests.emulators import start_fake_gcs, stop

    server = start_fake_gcs(tmp_path_factory.mktemp("fake-gcs"))
    yield server
    stop(server.process)


@pytest.fixture(scope="session")
def spark_resource(fake_gcs):
    """local[2], with the GCS connector pointed at the session's fake-gcs-server (so gs:// tests share this JVM)."""
    from taxi_platform.resources.gcp import GcpResource
    from taxi_platform.resources.spark import SparkResource

    gcp = GcpResource(project=GCP_PROJECT, gcs_endpoint=fake_gcs.endpoint)
    resource = SparkResource(master="local[2]", driver_memory="1g", spark_config=TEST_SPARK_CONFIG, gcp=gcp)
    yield resource
    if resource._spark_session is not None:
        resource._spark_session.stop()


@pytest.fixture(scope="session")
def spark(spark_resource):
    return spark_resource.get_session()


@pytest.fixture
def lake_root(tmp_path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def make_resources(spark_resource, lake_root):
    """resources(**source_settings) -> the local deployment's resources on this test's lake and the shared session."""
    from taxi_platform.io_managers.lake import LakeIOManager
    from taxi_platform.resources.sources import TaxiSourceResource

    def _make(**source_settings):
        settings = {"kind": "sample", "sample_rows_per_month": 3000, "sample_volumes": "equal", **source_settings}
        return {
            "spark": spark_resource,
            **lake_io_managers(LakeIOManager(lake_root=str(lake_root), spark=spark_resource)),
            "sources": TaxiSourceResource(**settings),
        }

    return _make


# ---- real Spark clusters (marker "cluster"): started lazily, once per session, stopped by PID at the end ----------
def pytest_collection_modifyitems(config, items):
    """Run the `cluster` tests last, in their own order.

    They switch this process's Spark session (local -> standalone -> Spark Connect -> local): a process holds one
    SparkContext, and pyspark's Connect mode is process-wide. Running them after every other test leaves the shared
    local `spark` session undisturbed for the rest of the suite; they restore the local session at their end.
    """
    cluster = [item for item in items if item.get_closest_marker("cluster") is not None]
    if cluster:
        items[:] = [item for item in items if item.get_closest_marker("cluster") is None] + cluster


def _started_and_checked(daemons, before_stop=None):
    """Yield started daemons; at the end stop them by PID and fail if any process of theirs is still alive."""
    try:
        daemons.start()
    except BaseException:
        daemons.stop()
        raise
    try:
        yield daemons
    finally:
        if before_stop is not None:
            before_stop()
        daemons.stop()
        leftovers = daemons.leftover_processes()
        assert not leftovers, f"{type(daemons).__name__} left processes behind: {leftovers}"


@pytest.fixture(scope="session")
def standalone_cluster(tmp_path_factory):
    """A real standalone master + one worker (--cores 1 --memory 1g) from the installed pyspark, on free ports."""
    from taxi_platform_tests.clusters import StandaloneCluster

    yield from _started_and_checked(StandaloneCluster(tmp_path_factory.mktemp("standalone")))


@pytest.fixture(scope="session")
def connect_server(tmp_path_factory):
    """A real Spark Connect server (--master local[2]) from the installed pyspark, on a free loopback port."""
    from taxi_platform.resources.spark import stop_connect_sessions
    from taxi_platform_tests.clusters import ConnectServer

    # client sessions first: one left open would retry releasing itself against the stopped server at exit
    yield from _started_and_checked(ConnectServer(tmp_path_factory.mktemp("connect")), stop_connect_sessions)
