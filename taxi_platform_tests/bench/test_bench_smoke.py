"""The benchmark itself, at a tiny volume: every variant runs, every figure is recorded, and the variants that claim
to do the same work produce the same report and the same datasets (else their timings would compare nothing)."""

import json
import math
import os
import subprocess
import sys

import pyarrow.dataset as ds
import pytest

from taxi_platform_tests.conftest import REPO_ROOT

pytestmark = pytest.mark.spark

VARIANTS = ("platform", "bare_spark", "course_script", "duckdb", "duckdb_report")
SAME_WORK = ("platform", "bare_spark", "duckdb")  # (a), (b), (d): the same datasets from the same raw months
ROWS_PER_MONTH = 4000


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    cache = tmp_path_factory.mktemp("bench-cache")
    output = cache / "latest.json"
    command = [sys.executable, "-m", "bench", "--months", "1", "--main-months", "1", "--rows-per-month",
               str(ROWS_PER_MONTH), "--repeat", "1", "--variants", ",".join(VARIANTS), "--master", "local[2]",
               "--driver-memory", "1g", "--generator-rows", "20000", "--generator-repeat", "1",
               "--definitions-repeat", "1", "--cache", str(cache), "--output", str(output), "--keep-outputs",
               # a tiny volume is all JVM warm-up: C1 only and the serial GC halve its CPU (never for real figures)
               "--java-options", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(output.read_text()), cache, done.stdout


def report(folder):
    """{(month, zone, service_type): (revenue_month as text, every measure)} of a report, whoever wrote it."""
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    rows = {}
    for row in table.to_pylist():
        when = row.pop("revenue_month")
        key = (str(row.pop("month")), row.pop("revenue_zone"), row.pop("service_type"))
        rows[key] = (when.strftime("%Y-%m-%d %H:%M:%S"), *[row[c] for c in sorted(row)])
    return rows


def test_every_variant_ran_and_every_figure_is_recorded(bench_run):
    result, _, stdout = bench_run
    assert result["failures"] == []
    assert set(result["summary"]) == set(VARIANTS)
    for variant, by_months in result["summary"].items():
        s = by_months["1"]
        assert s["runs"] == 1 and s["median_s"] > 0 and s["median_cpu_s"] > 0 and s["python_peak_rss_mib"] > 20
        assert s["s_per_10m_rows"] == round(s["median_s"] * 1e7 / ROWS_PER_MONTH, 2)  # one month of ROWS_PER_MONTH
        if variant in ("platform", "bare_spark", "course_script"):
            assert s["jvm_peak_rss_mib"] > 100, variant  # the driver JVM was found and sampled
        else:
            assert s["jvm_peak_rss_mib"] is None, variant  # DuckDB: no JVM
    steps = result["summary"]["platform"]["1"]["median_steps_s"]
    assert {"clean_green_trips", "core__trips", "reports__revenue_monthly_zone"} <= set(steps)
    # the first clean month is committed after the raw steps and before the run ends
    assert steps["raw__green_trips"] < steps["time_to_first_clean_month"] < result["summary"]["platform"]["1"]["median_s"]
    figures = result["figures"]
    for key in ("platform_over_course_script", "bare_over_course_script", "platform_over_duckdb"):
        assert figures[key] > 0, key
    assert figures["platform_over_bare"]["1"] > 0
    assert figures["platform_jvm_peak_rss_mib_by_months"]["1"] > 100
    assert all(v > 0 for v in figures["report_step"].values() if v is not None)
    assert figures["report_step"]["duckdb_s"] > 0 and figures["report_step"]["spark_platform_step_s"] > 0
    assert result["generator"]["min_rows_per_s"] > 0
    assert result["definitions_load"]["median_s"] > 0 and result["definitions_load"]["jvm_started"] is False
    machine = result["machine"]
    assert machine["cores"] >= 1 and machine["memory_gib"] > 0 and machine["versions"]["pyspark"]
    assert machine["java"] and machine["versions"]["duckdb"] and machine["versions"]["dagster"]
    assert result["input"]["rows_by_months"] == {"1": ROWS_PER_MONTH}
    assert set(result["targets"]) >= {"platform/bare <= 0.75 at main months", "platform/duckdb <= 3 at main months",
                                      "report step/duckdb report <= 2", "generator >= 2M rows/s"}
    assert result["targets"]["report step/duckdb report <= 2"]["value"] == figures["report_step"]["spark_platform_over_duckdb"]
    assert figures["platform_time_to_first_clean_month_s_by_months"]["1"] == steps["time_to_first_clean_month"]
    assert "platform / bare_spark" in stdout and "targets:" in stdout  # the table was printed


def assert_same_report(got: dict, expected: dict, label: str) -> None:
    """The same keys, revenue months and measures (floating sums equal up to their order of addition)."""
    assert set(got) == set(expected), label
    for key, values in expected.items():
        assert got[key][0] == values[0], (label, key)
        for a, b in zip(got[key][1:], values[1:]):
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6), (label, key)


def test_the_same_work_gives_the_same_report_and_datasets(bench_run):
    result, cache, _ = bench_run
    work = cache / "work"
    reports = {v: report(work / f"{v}-1m" / "reports" / "revenue_monthly_zone") for v in SAME_WORK}
    expected = reports["bare_spark"]
    assert len(expected) > 100  # zones x 2 service types of a month
    for variant in ("platform", "duckdb"):
        assert_same_report(reports[variant], expected, variant)
    # ...and the same clean, quarantine and core rows (the datasets behind the report)
    for dataset in ("clean/green_trips", "clean/yellow_trips", "quarantine/green_trips", "quarantine/yellow_trips",
                    "core/trips"):
        rows = {v: ds.dataset(work / f"{v}-1m" / dataset, format="parquet", partitioning="hive").count_rows()
                for v in SAME_WORK}
        assert len(set(rows.values())) == 1 and rows["platform"] > 0, (dataset, rows)
    # ...and the same quarantine rows per month and reason, the rules the sample never triggers included (the bench
    # input adds exact duplicate rows and fractional passenger counts): read here independently of bench.compare
    reasons = {}
    for variant in SAME_WORK:
        for dataset in ("quarantine/green_trips", "quarantine/yellow_trips"):
            table = ds.dataset(work / f"{variant}-1m" / dataset, format="parquet", partitioning="hive").to_table(
                columns=["month", "quarantine_reason"])
            counted = table.group_by(["month", "quarantine_reason"]).aggregate([("quarantine_reason", "count")])
            reasons.setdefault(variant, {})[dataset] = sorted(
                (str(r["month"]), r["quarantine_reason"], r["quarantine_reason_count"]) for r in counted.to_pylist())
    assert reasons["platform"] == reasons["bare_spark"] == reasons["duckdb"], reasons
    for dataset, rows in reasons["duckdb"].items():
        assert {"duplicate_row", "unparseable:passenger_count"} <= {reason for _, reason, _ in rows}, (dataset, rows)
    assert all(v == "equal" for v in result["comparisons"].values()), result["comparisons"]
    # the course's script reports the same trips without quarantine: it has rows, in its single coalesce(1) file
    assert len(list((work / "course_script-1m" / "report").glob("*.parquet"))) == 1


def test_the_platform_on_a_connect_server_gives_the_same_report_without_a_jvm_of_its_own(bench_run, connect_server,
                                                                                          tmp_path):
    """``--platform-on-connect``: (a) runs on the Spark Connect server named by TAXI_SPARK_REMOTE, which is recorded
    without its parameters (they may hold a token), and writes the same report as on its own local JVM."""
    output = tmp_path / "latest.json"
    remote = f"{connect_server.remote}/;user_id=bench-secret-param"
    command = [sys.executable, "-m", "bench", "--months", "1", "--main-months", "1", "--rows-per-month",
               str(ROWS_PER_MONTH), "--repeat", "1", "--variants", "a", "--platform-on-connect", "--generator-repeat",
               "0", "--definitions-repeat", "0", "--cache", str(tmp_path), "--output", str(output), "--keep-outputs"]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TAXI_SPARK_REMOTE": remote})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(output.read_text())
    assert result["failures"] == []
    assert result["settings"]["platform_spark"] == f"connect {connect_server.remote}"
    assert "bench-secret-param" not in output.read_text() + done.stdout + done.stderr
    for name in ("platform/bare <= 0.75 at main months", "platform/duckdb <= 3 at main months"):
        assert result["targets"][name]["met"] is None and "Spark Connect" in result["targets"][name]["why"], name
    summary = result["summary"]["platform"]["1"]
    assert summary["jvm_peak_rss_mib"] is None  # no driver JVM in the run's process tree: the server did the work
    assert summary["median_steps_s"]["time_to_first_clean_month"] > 0
    _, local_cache, _ = bench_run
    on_connect = report(tmp_path / "work" / "platform-1m" / "reports" / "revenue_monthly_zone")
    assert_same_report(on_connect, report(local_cache / "work" / "platform-1m" / "reports" / "revenue_monthly_zone"),
                       "platform on connect")
    assert len(on_connect) > 100


def test_platform_on_connect_needs_a_remote_in_the_environment():
    env = {k: v for k, v in os.environ.items() if k != "TAXI_SPARK_REMOTE"}
    done = subprocess.run([sys.executable, "-m", "bench", "--platform-on-connect", "--repeat", "0"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2 and "needs TAXI_SPARK_REMOTE=sc://HOST:PORT in the environment" in done.stderr
