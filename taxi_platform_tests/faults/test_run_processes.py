"""Real run processes against one lake: a run SIGKILLed mid-write, runs of other months at the same time, secrets.

Every run here is a process of its own with its own Spark driver JVM, configured like a user's run (env vars, the
``monthly_revenue`` job, a Dagster instance in a temporary DAGSTER_HOME):

1. ``killed``: the lake holds 2021-01 and 2021-02 (the good versions). Run A rewrites 2021-02 from a different source
   (2000 rows a type instead of 3000) and is stopped inside the commit of ``core/trips/month=2021-02``, just before
   its swap: journal and lock held, the new version staged and verified, the old one in place. While A sits there,
   run B (``dagster job execute``) materializes 2021-03 from start to end. Then A's whole process group (the Python
   run process and its Spark JVM) gets SIGKILL.
2. ``rerun``: run C re-materializes 2021-02 with the original settings while run D (``dagster job execute``)
   materializes 2021-04, both at once. C's Spark resource carries a service-account keyfile path (as the gcp
   deployment's does) and writes Spark's event log.

Expected values come from ``oracle``: the same four months written by one in-process backfill on another lake.
"""

import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import AssetIn, AssetSpec, DagsterEventType, DagsterInstance, InMemoryIOManager, RunsFilter, asset, materialize

from taxi_platform.defs.revenue.core import TRIPS_KEY
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.checks import asset_checks
from taxi_platform.defs.revenue.definitions import revenue_assets
from taxi_platform.io_managers.local_swap import STAGING_DIR, TRASH_DIR
from taxi_platform.partitions import monthly_partitions
from taxi_platform_tests.conftest import REPO_ROOT
from taxi_platform_tests.dataproc.fakes import write_service_account_keyfile

all_assets = [taxi_zones, *revenue_assets]  # the local green/yellow graph + the zone lookup

pytestmark = pytest.mark.spark

MONTHLY = [a for a in all_assets if a is not taxi_zones]
ROWS, SEED = 3000, 42
KILLED_ROWS = 2000  # run A's source: a different version of 2021-02, so old and new are told apart
STORED, KILLED, DURING_KILL, RERUN, CONCURRENT = "2021-01", "2021-02", "2021-03", "2021-02", "2021-04"
DATASETS = (
    "raw/green_trips", "raw/yellow_trips", "clean/green_trips", "clean/yellow_trips",
    "quarantine/green_trips", "quarantine/yellow_trips", "core/trips", "reports/revenue_monthly_zone",
)
RUN_TIMEOUT = 420  # seconds; a run takes 20-30 s on a quiet 2-core machine, minutes on a busy one
KEYFILE_ENV = "TAXI_FAULTS_KEYFILE"
KEYFILE_SETTING = "spark.hadoop.google.cloud.auth.service.account.json.keyfile"


# ---- what is in the lake ----------------------------------------------------------------------------------------
def month_folder(lake: Path, dataset: str, month: str) -> Path:
    return lake / dataset / f"month={month}"


def files_of(lake: Path, month: str) -> dict[str, tuple[str, int, int]]:
    """{relative path: (sha256, mtime_ns, inode)} of every file of ``month`` in every dataset."""
    found = {}
    for dataset in DATASETS:
        for path in sorted(month_folder(lake, dataset, month).glob("*.parquet")):  # the data (not _version.json)
            stat = path.stat()
            found[str(path.relative_to(lake))] = (hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_mtime_ns,
                                                  stat.st_ino)
    return found


def hashes(lake: Path, dataset: str, month: str) -> dict[str, str]:
    return {name: sha for name, (sha, _, _) in files_of_dataset(lake, dataset, month).items()}


def files_of_dataset(lake: Path, dataset: str, month: str) -> dict[str, tuple[str, int, int]]:
    return {k: v for k, v in files_of(lake, month).items() if k.startswith(f"{dataset}/")}


def rows(folder: Path) -> list[tuple]:
    """The rows of a month folder, sorted."""
    return duckdb.connect().execute(f"SELECT * FROM read_parquet('{folder}/*.parquet') ORDER BY ALL").fetchall()


def assert_same_rows(lake: Path, expected_lake: Path, dataset: str, month: str) -> None:
    """Row for row equal; doubles to 1e-9 relative (the report's sums and averages may differ in the last bits between
    runs with another number of cores or partitions: Spark then adds in another order)."""
    got, want = rows(month_folder(lake, dataset, month)), rows(month_folder(expected_lake, dataset, month))
    assert len(got) == len(want) > 0, (dataset, month, len(got), len(want))
    for g, w in zip(got, want):
        same = len(g) == len(w) and all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) if isinstance(a, float) and isinstance(b, float) else a == b
            for a, b in zip(g, w))
        assert same, (dataset, month, g, w)


def count(folder: Path) -> int:
    return duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{folder}/*.parquet')").fetchone()[0]


def in_flight(lake: Path) -> list[str]:
    """Everything under _staging and _trash (empty when no write is in flight and nothing is left over)."""
    return sorted(str(p.relative_to(lake)) for name in (STAGING_DIR, TRASH_DIR) if (lake / name).exists()
                  for p in (lake / name).rglob("*"))


def copy_months(source: Path, target: Path, months: tuple[str, ...]) -> None:
    for dataset in DATASETS:
        for month in months:
            shutil.copytree(month_folder(source, dataset, month), month_folder(target, dataset, month))


# ---- run processes ----------------------------------------------------------------------------------------------
@dataclass
class RunProcess:
    name: str
    process: subprocess.Popen
    out: Path
    err: Path
    months: str

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"run {self.name} ({self.months}) did not finish in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return f"--- stdout\n{self.out.read_text()[-6000:]}\n--- stderr\n{self.err.read_text()[-6000:]}"

    def summary(self) -> dict:
        """The harness's FAULTS_RESULT line (run_month.py runs only)."""
        lines = [line for line in self.out.read_text().splitlines() if line.startswith("FAULTS_RESULT ")]
        assert lines, f"run {self.name} printed no result:\n{self.output()}"
        return json.loads(lines[-1].split(" ", 1)[1])


def group_processes(pgid: int) -> dict[int, str]:
    """{pid: command line} of the live (not zombie) processes of a process group, from /proc."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            fields = text[text.rindex(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
    return found


class Runs:
    """Starts run processes (each the leader of its own process group) and kills whatever is left at the end."""

    def __init__(self, workdir: Path, env: dict[str, str]):
        self.workdir, self.env, self.started = workdir, env, []

    def start(self, name: str, command: list[str], months: str, **extra_env: str) -> RunProcess:
        out, err = self.workdir / f"{name}.out", self.workdir / f"{name}.err"
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            process = subprocess.Popen(command, cwd=REPO_ROOT, env={**self.env, **extra_env}, stdout=stdout,
                                       stderr=stderr, start_new_session=True)
        run = RunProcess(name, process, out, err, months)
        self.started.append(run)
        return run

    def harness(self, name: str, month: str, **extra_env: str) -> RunProcess:
        return self.start(name, [sys.executable, "-m", "taxi_platform_tests.faults.run_month", month], month, **extra_env)

    def cli(self, name: str, month: str) -> RunProcess:
        dagster = str(Path(sys.executable).with_name("dagster"))
        command = [dagster, "job", "execute", "-m", "taxi_platform.definitions", "-j", "monthly_revenue",
                   "--tags", json.dumps({"dagster/partition": month})]
        return self.start(name, command, month)

    def kill_all(self) -> None:
        for run in self.started:
            if group_processes(run.process.pid):
                os.killpg(run.process.pid, signal.SIGKILL)
            try:
                run.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass


def run_env(lake: Path, dagster_home: Path, **settings: str) -> dict[str, str]:
    """The environment of a user's run of the local deployment: the lake, the sample source, local Spark."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAXI_", "FAULTS_", "SPARK_REMOTE", "PYSPARK_"))}
    env.update({
        "DAGSTER_HOME": str(dagster_home), "TAXI_PLATFORM_DEPLOYMENT": "local", "TAXI_LAKE_ROOT": str(lake),
        "TAXI_SOURCE": "sample", "TAXI_SAMPLE_ROWS": str(ROWS), "TAXI_SAMPLE_VOLUMES": "equal", "TAXI_SAMPLE_SEED": str(SEED),
        "TAXI_SPARK_MASTER": "local[2]", "TAXI_SPARK_DRIVER_MEMORY": "1g", "SPARK_LOCAL_IP": "127.0.0.1",
        "NO_GCE_CHECK": "True", **settings,
    })
    return env


def wait_for(path: Path, run: RunProcess, timeout: float = RUN_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if run.process.poll() is not None:
            raise AssertionError(f"run {run.name} ended (exit {run.process.returncode}) before {path}:\n{run.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear in {timeout} s:\n{run.output()}")
        time.sleep(0.05)


def cli_run_report(dagster_home: Path, month: str) -> tuple[bool, dict[str, bool]]:
    """(run succeeded, {asset:check: passed}) of the one run of ``month`` recorded in the instance."""
    instance = DagsterInstance.from_config(str(dagster_home))
    runs = instance.get_runs(filters=RunsFilter(tags={"dagster/partition": month}))
    assert len(runs) == 1, [r.run_id for r in runs]
    checks = {}
    for entry in instance.all_logs(runs[0].run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        checks[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"] = bool(evaluation.passed)
    return runs[0].is_success, checks


def assert_checks_passed(checks: dict[str, bool]) -> None:
    """Every check of the graph (taxi_platform.checks) ran for the month, and every check of the run passed."""
    expected = {f"{key.asset_key.to_user_string()}:{key.name}" for check in asset_checks for key in check.check_keys}
    assert expected <= set(checks) and all(checks.values()), checks


# ---- the scenario -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def oracle(spark_resource, tmp_path_factory) -> Path:
    """2021-01..2021-04 written by one in-process single-run backfill: what every run below must leave."""
    from taxi_platform.io_managers.lake import LakeIOManager
    from taxi_platform.resources.sources import TaxiSourceResource

    lake = tmp_path_factory.mktemp("oracle") / "lake"
    manager = LakeIOManager(lake_root=str(lake), spark=spark_resource)
    resources = {"spark": spark_resource, "lake_io_manager": manager, "report_io_manager": manager,
                 "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=ROWS, sample_seed=SEED)}
    result = materialize(MONTHLY + asset_checks, resources=resources, tags={
        "dagster/asset_partition_range_start": STORED, "dagster/asset_partition_range_end": CONCURRENT})
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    return lake


@dataclass
class Killed:
    lake: Path
    home: Path
    before: dict[str, dict]  # month -> files_of() before run A started
    window_before_b: list[str]  # in_flight() when A paused
    window_after_b: list[str]  # in_flight() after B had run from start to end
    core_after_b: dict[str, tuple]  # files_of_dataset() of the core/trips month after B (A still mid-commit)
    group_before_kill: dict[int, str]
    group_after_kill: dict[int, str]
    a_exit: int
    b: RunProcess
    b_exit: int


@pytest.fixture(scope="module")
def killed(oracle, tmp_path_factory) -> Killed:
    root = tmp_path_factory.mktemp("faults")
    lake, home = (root / "lake").resolve(), root / "dagster_home"
    home.mkdir()
    copy_months(oracle, lake, (STORED, KILLED))
    before = {m: files_of(lake, m) for m in (STORED, KILLED)}
    runs = Runs(root, run_env(lake, home))
    try:
        paused = root / "A.paused"
        a = runs.harness("A", KILLED, TAXI_SAMPLE_ROWS=str(KILLED_ROWS),
                         FAULTS_PAUSE_AT=str(month_folder(lake, "core/trips", KILLED)), FAULTS_PAUSED=str(paused))
        wait_for(paused, a)
        window_before_b = in_flight(lake)
        b = runs.cli("B", DURING_KILL)  # a whole run of another month while A is stopped inside its swap
        b_exit = b.wait()
        window_after_b = in_flight(lake)
        core_after_b = files_of_dataset(lake, "core/trips", KILLED)
        group_before = group_processes(a.process.pid)
        os.killpg(a.process.pid, signal.SIGKILL)
        a_exit = a.process.wait(timeout=30)
        deadline = time.monotonic() + 20
        while group_processes(a.process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        group_after = group_processes(a.process.pid)
    finally:
        runs.kill_all()
    return Killed(lake, home, before, window_before_b, window_after_b, core_after_b, group_before,
                  group_after, a_exit, b, b_exit)


def read_back_core(spark_resource, lake: Path, month: str) -> tuple[int, float]:
    """core/trips of ``month`` as the platform reads it (the lake IO manager; reads never recover): rows and total."""
    from taxi_platform.io_managers.lake import LakeIOManager

    @asset(ins={"trips": AssetIn(key=TRIPS_KEY)}, partitions_def=monthly_partitions, io_manager_key="mem")
    def core_read_back(trips):
        from pyspark.sql import functions as F

        return int(trips.count()), float(trips.agg(F.sum("total_amount")).first()[0])

    manager = LakeIOManager(lake_root=str(lake), spark=spark_resource)
    result = materialize([core_read_back, AssetSpec(TRIPS_KEY, partitions_def=monthly_partitions)],
                         resources={"spark": spark_resource, "io_manager": manager, "mem": InMemoryIOManager()},
                         partition_key=month, selection=[core_read_back])
    return result.output_for_node("core_read_back")


def test_sigkill_mid_write_keeps_the_previous_version_and_spares_other_runs(killed, oracle, spark_resource):
    """A run killed with SIGKILL (its Spark JVM too) inside the commit of a month: that month's previous version
    stays in place, whole, for every reader at every instant (no recovery needed); a run of another month during it
    was untouched and correct."""
    lake = killed.lake
    core = f"core/trips/month={KILLED}"
    # A was stopped inside its commit: its journal in _trash, its new version staged (and locked)
    assert any(p.startswith(f"{TRASH_DIR}/") and p.endswith(".json") for p in killed.window_before_b)
    assert any(p.startswith(f"{STAGING_DIR}/") and p.endswith(".lock") for p in killed.window_before_b)
    # B ran from start to end meanwhile: it left A's live swap and staging alone (no "recovery" of a live write)...
    assert killed.b_exit == 0, killed.b.output()
    assert killed.window_after_b == killed.window_before_b
    # the core month was never missing: the previous version, the very files, while A sat mid-commit
    assert killed.core_after_b == {k: v for k, v in killed.before[KILLED].items() if k.startswith("core/")}
    # ...and wrote its month right: equal to the oracle, every check passed
    success, checks = cli_run_report(killed.home, DURING_KILL)
    assert success
    assert_checks_passed(checks)
    for dataset in DATASETS:
        assert_same_rows(lake, oracle, dataset, DURING_KILL)

    # the kill took the whole process group: the run process and its Spark JVM
    assert killed.a_exit == -signal.SIGKILL
    assert any("java" in cmd and "SparkSubmit" in cmd for cmd in killed.group_before_kill.values()), \
        killed.group_before_kill
    assert killed.group_after_kill == {}, killed.group_after_kill

    # each dataset written before the kill holds A's version, whole (clean + quarantine == raw: nothing half-written)
    for taxi_type in ("green", "yellow"):
        raw = count(month_folder(lake, f"raw/{taxi_type}_trips", KILLED))
        assert raw == KILLED_ROWS
        assert raw == (count(month_folder(lake, f"clean/{taxi_type}_trips", KILLED))
                       + count(month_folder(lake, f"quarantine/{taxi_type}_trips", KILLED)))
    # the report was never reached: the same files (bytes, mtime, inode); the stored month untouched
    assert files_of_dataset(lake, "reports/revenue_monthly_zone", KILLED) == \
        {k: v for k, v in killed.before[KILLED].items() if k.startswith("reports/")}
    assert files_of(lake, STORED) == killed.before[STORED]

    # after the kill, too, with no recovery: the previous version, the very files (bytes, mtime, inode)...
    assert files_of_dataset(lake, "core/trips", KILLED) == \
        {k: v for k, v in killed.before[KILLED].items() if k.startswith("core/")}
    left = in_flight(lake)
    # ...and it is what the platform reads (a read changes nothing: A's journal and staging wait for the next write)
    folder = month_folder(oracle, "core/trips", KILLED)
    expected_rows, expected_total = duckdb.connect().execute(
        f"SELECT count(*), sum(total_amount) FROM read_parquet('{folder}/*.parquet')").fetchone()
    got_rows, got_total = read_back_core(spark_resource, lake, KILLED)
    assert got_rows == expected_rows and got_total == pytest.approx(expected_total, abs=1e-6)
    assert in_flight(lake) == left


@dataclass
class Rerun:
    lake: Path
    home: Path
    root: Path
    before: dict[str, dict]  # month -> files_of() before runs C and D
    c: RunProcess
    d: RunProcess
    c_exit: int
    d_exit: int
    keyfile: Path
    spark_events: Path
    c_command_lines: dict[int, str]  # every process of run C's group seen while it ran (its driver JVM too)


@pytest.fixture(scope="module")
def rerun(killed, tmp_path_factory) -> Rerun:
    """Runs C (2021-02 again, original settings, a keyfile in its Spark settings) and D (2021-04), at the same time."""
    import uuid

    lake = killed.lake
    root = tmp_path_factory.mktemp("rerun")
    secret_dir = root / f"very-secret-keydir-{uuid.uuid4().hex[:8]}"
    secret_dir.mkdir()
    keyfile = Path(write_service_account_keyfile(secret_dir / f"sa-key-{uuid.uuid4().hex[:8]}.json"))
    spark_events = root / "spark-events"
    spark_events.mkdir()
    before = {m: files_of(lake, m) for m in (STORED, DURING_KILL)}
    runs = Runs(root, run_env(lake, killed.home))
    try:
        c = runs.harness("C", RERUN, FAULTS_KEYFILE_ENV=KEYFILE_ENV, **{KEYFILE_ENV: str(keyfile)},
                         FAULTS_SPARK_EVENTS=str(spark_events))
        d = runs.cli("D", CONCURRENT)
        command_lines: dict[int, str] = {}
        deadline = time.monotonic() + RUN_TIMEOUT
        while c.process.poll() is None and time.monotonic() < deadline:  # /proc of C's processes while it runs
            command_lines.update(group_processes(c.process.pid))
            time.sleep(0.2)
        c_exit, d_exit = c.wait(), d.wait()
    finally:
        runs.kill_all()
    return Rerun(lake, killed.home, root, before, c, d, c_exit, d_exit, keyfile, spark_events, command_lines)


def test_next_run_and_a_concurrent_month_are_right_and_touch_nothing_else(rerun, oracle):
    """After the crash, the month's next run succeeds and leaves exactly one copy, equal to its first
    materialization; a run of another month at the same time is right too; neither touches any other month."""
    lake = rerun.lake
    assert rerun.c_exit == 0, rerun.c.output()
    assert rerun.d_exit == 0, rerun.d.output()
    summary = rerun.c.summary()
    assert summary["success"], summary
    assert_checks_passed(summary["checks"])
    success, checks = cli_run_report(rerun.home, CONCURRENT)
    assert success
    assert_checks_passed(checks)

    # the two runs really ran at the same time
    instance = DagsterInstance.from_config(str(rerun.home))
    c_record = instance.get_run_record_by_id(summary["run_id"])
    d_record = instance.get_run_records(filters=RunsFilter(tags={"dagster/partition": CONCURRENT}))[0]
    assert c_record.start_time < d_record.end_time and d_record.start_time < c_record.end_time

    for dataset in DATASETS:
        # the re-materialized month: row for row its first materialization (no duplicate, no leftover of run A)
        assert_same_rows(lake, oracle, dataset, RERUN)
        assert_same_rows(lake, oracle, dataset, CONCURRENT)
    for taxi_type in ("green", "yellow"):  # raw months are stored as published: byte for byte
        for month in (RERUN, CONCURRENT):
            assert hashes(lake, f"raw/{taxi_type}_trips", month) == hashes(oracle, f"raw/{taxi_type}_trips", month)
    # the other months: the very same files (bytes, mtime, inode)
    for month, files in rerun.before.items():
        assert files_of(lake, month) == files, month
    # nothing in flight or left over: no staging or trash of either run, nor of the killed one
    assert in_flight(lake) == []
    months = {p.name for dataset in DATASETS for p in (lake / dataset).iterdir() if not p.name.startswith("_")}
    assert months == {f"month={m}" for m in (STORED, KILLED, DURING_KILL, CONCURRENT)}


def test_keyfile_path_never_reaches_logs_metadata_event_logs_or_command_lines(rerun):
    """Run C's Spark resource held a service-account keyfile path: it appears in none of the run's stdout/stderr, the
    Dagster instance (event log with every log line, materialization metadata and check result; run records), Spark's
    event log (which records every Spark and Hadoop setting), the lake, or the command line of any of C's processes
    (pyspark passes Spark settings to the driver JVM as --conf arguments: the keyfile goes on the live session)."""
    needles = [str(rerun.keyfile).encode(), rerun.keyfile.parent.name.encode(), rerun.keyfile.name.encode(),
               b"PRIVATE KEY"]
    places = {
        "C stdout/stderr": [rerun.c.out, rerun.c.err],
        "D stdout/stderr": [rerun.d.out, rerun.d.err],
        "DAGSTER_HOME": [p for p in rerun.home.rglob("*") if p.is_file()],
        "Spark event log": [p for p in rerun.spark_events.rglob("*") if p.is_file()],
        "lake": [p for p in rerun.lake.rglob("*") if p.is_file()],
    }
    contents = {where: b"\n".join(p.read_bytes() for p in paths) for where, paths in places.items()}
    contents["command lines of C's processes"] = "\n".join(rerun.c_command_lines.values()).encode()
    assert any("java" in cmd and "SparkSubmit" in cmd for cmd in rerun.c_command_lines.values()), \
        rerun.c_command_lines  # the scan saw the driver JVM
    for where, blob in contents.items():
        assert blob, f"nothing to look at in {where}"
        for needle in needles:
            assert needle not in blob, f"{needle!r} found in {where}"
    # the greps looked at the right things: the connector was configured for the keyfile (the non-secret switch is in
    # Spark's configuration; the path itself is never a Spark setting), and the instance holds the run's events
    assert b'"spark.hadoop.google.cloud.auth.service.account.enable":"true"' in contents["Spark event log"]
    assert f'"{KEYFILE_SETTING}":"'.encode() not in contents["Spark event log"]
    assert rerun.c.summary()["run_id"].encode() in contents["DAGSTER_HOME"]
    assert b"spark_app_id" in contents["DAGSTER_HOME"] and b"rows_by_month" in contents["DAGSTER_HOME"]
