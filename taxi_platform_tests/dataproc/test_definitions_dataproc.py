"""TAXI_SPARK_TARGET=dataproc swaps the report's compute at load time, offline, without building a Google client."""

import os
import subprocess
import sys
import textwrap

from taxi_platform.resources.deployments import resources_for
from taxi_platform.resources.dataproc import DataprocResource

from ..conftest import REPO_ROOT

DATAPROC_ENV = {
    "TAXI_SPARK_TARGET": "dataproc",
    "TAXI_DATAPROC_PROJECT": "taxi-proj",
    "TAXI_DATAPROC_REGION": "europe-west4",
    "TAXI_DATAPROC_CLUSTER": "taxi-cluster",
    "TAXI_DATAPROC_JOB_SCRIPT": "gs://taxi-code/jobs/revenue_report.py",
    "TAXI_DATAPROC_LAKE_ROOT": "gs://taxi-lake/prod",
    "TAXI_DATAPROC_PY_FILES": "gs://taxi-code/dist/taxi_platform.zip",
    "TAXI_DATAPROC_PROPERTIES": "spark.executor.memory=4g, spark.executor.cores=2",
    "TAXI_DATAPROC_LABELS": "team=data",
    "NO_GCE_CHECK": "True",
    "SPARK_LOCAL_IP": "127.0.0.1",
}

# Runs before the definitions import: any Google client, ADC lookup or non-loopback connection is an error.
GUARD = textwrap.dedent("""
    import socket
    def _refuse(*a, **k):
        raise AssertionError(f"network or Google client used at load time: {a!r}")
    _connect, _getaddrinfo = socket.socket.connect, socket.getaddrinfo
    def _connect_local(self, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "localhost", "::1"):
            _refuse(address)
        return _connect(self, address)
    def _getaddrinfo_local(host, *a, **k):
        if host not in ("127.0.0.1", "localhost", "::1", None):
            _refuse(host)
        return _getaddrinfo(host, *a, **k)
    socket.socket.connect, socket.getaddrinfo = _connect_local, _getaddrinfo_local
    import google.auth
    google.auth.default = _refuse
    from google.cloud import dataproc_v1
    dataproc_v1.JobControllerClient.__init__ = _refuse
    dataproc_v1.BatchControllerClient.__init__ = _refuse
""")


def run_python(code: str, env: dict) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TAXI_", "GOOGLE_APPLICATION"))}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", GUARD + textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=REPO_ROOT, env=full_env, timeout=180)


def test_dataproc_target_swaps_the_report_compute_at_load_offline():
    out = run_python("""
        import taxi_platform.definitions as d
        from dagster import AssetKey
        from pyspark import SparkContext
        graph = d.defs.resolve_asset_graph()
        keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
        assert keys == {"ref/taxi_zones", "raw/green_trips", "raw/yellow_trips", "clean/green_trips",
                        "clean/yellow_trips", "quarantine/green_trips", "quarantine/yellow_trips", "core/trips",
                        "reports/revenue_monthly_zone", "raw/fhv_trips", "raw/fhvhv_trips", "clean/fhv_trips",
                        "clean/fhvhv_trips", "quarantine/fhv_trips", "quarantine/fhvhv_trips",
                        "analytics/fhvhv_base_ids", "source/green_trips", "source/yellow_trips",
                        "source/fhv_trips", "source/fhvhv_trips"}, keys
        report = graph.get(AssetKey(["reports", "revenue_monthly_zone"]))
        assert "dataproc" in report.kinds, report.kinds
        assert {p.to_user_string() for p in report.parent_keys} == {"raw/green_trips", "raw/yellow_trips"}
        assert report.backfill_policy.max_partitions_per_run is None
        on_report = {k.name for k in graph.asset_check_keys if k.asset_key == report.key}
        # the green/yellow graph's 11 remaining checks (2 of them likely_duplicates) + the for-hire group's 5 (the hourly report is not on Dataproc)
        # + the report's freshness check (it reads the instance, not the report, so it holds on Dataproc too)
        assert on_report == {"newest_month_fresh"} and len(list(graph.asset_check_keys)) == 11 + 5 + 1
        assert "dataproc" in d.defs.resources
        job = d.defs.resolve_job_def("monthly_revenue")
        assert SparkContext._active_spark_context is None
        r = d.defs.resources["dataproc"]
        print(r.mode, r.cluster_name, r.region, sorted(r.properties.items()), r.labels, r.py_files)
    """, DATAPROC_ENV)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert ("cluster taxi-cluster europe-west4 [('spark.executor.cores', '2'), ('spark.executor.memory', '4g')] "
            "{'team': 'data'} ['gs://taxi-code/dist/taxi_platform.zip']") in out.stdout


def test_local_target_is_unchanged_and_has_no_dataproc_resource():
    assert "dataproc" not in resources_for(env={})
    assert set(resources_for(env={"TAXI_SPARK_TARGET": "dataproc", **DATAPROC_ENV})) == {
        "spark", "lake_io_manager", "report_io_manager", "sources", "dataproc"}
    resources = resources_for(env=DATAPROC_ENV)
    assert isinstance(resources["dataproc"], DataprocResource)
    assert resources["spark"].master == "local[*]"  # the local chain keeps its local Spark


def test_dataproc_target_with_missing_settings_fails_at_load_naming_the_env_vars():
    env = {k: v for k, v in DATAPROC_ENV.items() if k not in ("TAXI_DATAPROC_PROJECT", "TAXI_DATAPROC_CLUSTER")}
    out = run_python("import taxi_platform.definitions", env)
    assert out.returncode != 0
    assert "TAXI_SPARK_TARGET=dataproc needs TAXI_DATAPROC_PROJECT, TAXI_DATAPROC_CLUSTER" in out.stderr
    out = run_python("import taxi_platform.definitions", {**DATAPROC_ENV, "TAXI_DATAPROC_LAKE_ROOT": "data/lake"})
    assert out.returncode != 0 and "lake_root must be a gs:// URI, got 'data/lake'" in out.stderr


def test_serverless_target_needs_no_cluster():
    env = {k: v for k, v in DATAPROC_ENV.items() if k != "TAXI_DATAPROC_CLUSTER"}
    env.update({"TAXI_DATAPROC_MODE": "serverless", "TAXI_DATAPROC_SERVICE_ACCOUNT": "spark@taxi-proj.iam.gserviceaccount.com",
                "TAXI_DATAPROC_RUNTIME_VERSION": "2.3"})
    resource = resources_for(env=env)["dataproc"]
    assert (resource.mode, resource.service_account, resource.runtime_version) == (
        "serverless", "spark@taxi-proj.iam.gserviceaccount.com", "2.3")


def test_dagster_cli_validates_the_dataproc_workspace():
    dagster = REPO_ROOT / ".venv" / "bin" / "dagster"
    cmd = [str(dagster)] if dagster.exists() else [sys.executable, "-m", "dagster"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXI_")}
    out = subprocess.run(cmd + ["definitions", "validate", "-w", "workspace.yaml"], capture_output=True, text=True,
                         cwd=REPO_ROOT, timeout=300, env={**env, **DATAPROC_ENV})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Validation successful" in out.stdout + out.stderr
