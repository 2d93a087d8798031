"""Bad input through the real Dagster graph (real Spark): a clear error naming what is wrong, or a quarantine.

Acceptance (issue): "corrupt parquet, wrong schema, 404, truncated download, empty month: each gives a clear error or
quarantine, and earlier partitions stay intact"; "bad input gets a clear error naming the file/partition and what is
wrong, and nothing already written is lost or half-replaced; bad rows are quarantined and counted, never silently
dropped".

How: one good month (2021-01, local parquet made by the sample generator) is materialized once for the module; every
failure case copies that lake and runs again with a bad input, mostly re-running 2021-01 itself (the harsh case: the
month that would be replaced is the one already stored). Each case asserts that the run fails in the expected step,
that the error (class and message chain of the step failure) names the taxi type, the month, the path/URL and what
is wrong, that every stored file is byte-identical afterwards (the steps that legitimately re-ran for the *good* taxi
type are compared by content instead), and that no staging, trash or download temp files are left behind.

The HTTP cases use a small scripted server on 127.0.0.1 (mirroring ``taxi_platform_tests/sources/conftest.py``).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone, timedelta
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from dagster import materialize

from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.checks import asset_checks
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.definitions import revenue_assets
from taxi_platform.io_managers.local_swap import STAGING_DIR, TRASH_DIR
from taxi_platform.sample.generator import generate_month, write_month
from taxi_platform.schemas import COURSE_SCHEMAS, PICKUP_DROPOFF, arrow_schema
from taxi_platform_tests.conftest import TLC_CSV_HEADS, require_shared
from taxi_platform_tests.http_server import ScriptedServer, scripted_http_server

all_assets = [taxi_zones, *revenue_assets]  # the local green/yellow graph + the zone lookup

pytestmark = pytest.mark.spark

MONTHLY = [a for a in all_assets if a is not taxi_zones]
TAXI_TYPES = ("green", "yellow")
GOOD_MONTH = "2021-01"
NEXT_MONTH = "2021-02"
ROWS = 1500
SEED = 5
DATASETS = (
    "raw/green_trips", "raw/yellow_trips", "clean/green_trips", "clean/yellow_trips",
    "quarantine/green_trips", "quarantine/yellow_trips", "core/trips", "reports/revenue_monthly_zone",
)
LOCAL_TEMPLATE = "{taxi_type}_tripdata_{year}-{month:02d}.parquet"
TLC_PATH = "/trip-data/{taxi_type}_tripdata_{year}-{month:02d}.parquet"
BACKUP_PATH = "/backup/{taxi_type}/{taxi_type}_tripdata_{year}-{month:02d}.csv.gz"


# ---- running the graph and reading what it did ------------------------------------------------------------------
def run_month(resources: dict, month: str):
    return materialize(MONTHLY + asset_checks, resources=resources, partition_key=month, raise_on_error=False)


def check_results(result) -> dict[tuple[str, str], bool]:
    return {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}


def error_chain(error) -> str:
    """Class names and messages of a SerializableErrorInfo and everything it wraps (cause and context)."""
    parts, pending, seen = [], [error], set()
    while pending:
        info = pending.pop(0)
        if info is None or id(info) in seen:
            continue
        seen.add(id(info))
        parts.append(f"{info.cls_name}: {info.message.strip()}")
        pending += [info.cause, info.context]
    return "\n".join(parts)


def step_failures(result) -> dict[str, str]:
    """{step key: the error chain} of every failed step of a run."""
    return {e.step_key: error_chain(e.step_failure_data.error) for e in result.get_step_failure_events()}


def snapshot(lake: Path) -> dict[str, str]:
    """{path relative to the lake: sha256} of every data file. Files and folders whose name starts with '_' or '.'
    are not data, as Spark, pyarrow and DuckDB treat them (the lake's `_staging/`, a month's `_version.json`)."""
    files = {}
    # as those readers list it: month folders are links to their current version (followed), `_versions/` is skipped
    for folder, subfolders, names in os.walk(lake, followlinks=True):
        subfolders[:] = [d for d in subfolders if not d.startswith(("_", "."))]
        for name in names:
            path = Path(folder) / name
            if not name.startswith(("_", ".")):
                files[path.relative_to(lake).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return dict(sorted(files.items()))


def month_folder(lake: Path, dataset: str, month: str) -> Path:
    return lake / dataset / f"month={month}"


def rows_of(folder: Path) -> list[tuple]:
    """The rows of a month folder, sorted (a content comparison that ignores file names and row order)."""
    con = duckdb.connect()
    return con.execute(f"SELECT * FROM read_parquet('{folder}/*.parquet') ORDER BY ALL").fetchall()


def count_rows(folder: Path) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in folder.glob("*.parquet"))


def assert_no_leftovers(lake: Path, workdirs: Path) -> None:
    """Nothing in flight is left: no staged or trashed folders in the lake, no raw work folders or partial downloads."""
    for name in (STAGING_DIR, TRASH_DIR):
        leftovers = [p for p in (lake / name).rglob("*")] if (lake / name).exists() else []
        assert leftovers == [], f"{name} leftovers after the run: {leftovers}"
    leftovers = sorted(p.name for p in workdirs.iterdir())
    assert leftovers == [], f"raw work folders / partial downloads left behind: {leftovers}"


@pytest.fixture
def workdirs(tmp_path, monkeypatch) -> Path:
    """The raw assets' temporary work folders (tempfile.mkdtemp) go here, so the test can see that they are removed."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


# ---- a scripted HTTP server on 127.0.0.1 (taxi_platform_tests/http_server.py) ----------------------------------
@pytest.fixture(scope="module")
def http_server():
    with scripted_http_server("bad-input-http") as state:
        yield state


@pytest.fixture
def server(http_server):
    http_server.reset()
    yield http_server
    http_server.reset()


def url_path(template: str, taxi_type: str, month: str) -> str:
    year, number = month.split("-")
    return template.format(taxi_type=taxi_type, year=int(year), month=int(number))


# ---- the good baseline month ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    lake: Path
    sources: Path  # folder of the good source parquet files (LOCAL_TEMPLATE)
    files: dict[str, str]  # snapshot of the lake
    rows: dict[str, int]  # rows stored per dataset for GOOD_MONTH


@pytest.fixture(scope="module")
def baseline(spark_resource, tmp_path_factory) -> Baseline:
    """2021-01 of every asset, materialized once from good local parquet files (the sample generator's)."""
    from taxi_platform.io_managers.lake import LakeIOManager
    from taxi_platform_tests.conftest import lake_io_managers
    from taxi_platform.resources.sources import TaxiSourceResource

    root = tmp_path_factory.mktemp("baseline")
    sources, lake = root / "sources", root / "lake"
    sources.mkdir()
    for taxi_type in TAXI_TYPES:
        write_month(sources / url_path(LOCAL_TEMPLATE, taxi_type, GOOD_MONTH), taxi_type, GOOD_MONTH, ROWS, SEED)
    resources = {
        "spark": spark_resource,
        **lake_io_managers(LakeIOManager(lake_root=str(lake), spark=spark_resource)),
        "sources": TaxiSourceResource(kind="local", local_path_template=str(sources / LOCAL_TEMPLATE)),
    }
    result = run_month(resources, GOOD_MONTH)
    assert result.success, step_failures(result)
    assert all(check_results(result).values()), check_results(result)
    rows = {d: count_rows(month_folder(lake, d, GOOD_MONTH)) for d in DATASETS}
    assert rows["raw/green_trips"] == rows["raw/yellow_trips"] == ROWS
    assert all(rows.values()), rows  # every dataset holds rows: an emptied folder would be noticed
    return Baseline(lake=lake, sources=sources, files=snapshot(lake), rows=rows)


@pytest.fixture
def lake(baseline, lake_root) -> Path:
    """This test's lake: a copy of the baseline lake (so each case starts from the same stored month)."""
    shutil.copytree(baseline.lake, lake_root, symlinks=True)  # the lake's layout as it is (links stay links)
    assert snapshot(lake_root) == baseline.files and baseline.files
    return lake_root


# ---- bad inputs -------------------------------------------------------------------------------------------------
def good_parquet(baseline: Baseline, taxi_type: str, month: str = GOOD_MONTH) -> bytes:
    if month == GOOD_MONTH:
        return (baseline.sources / url_path(LOCAL_TEMPLATE, taxi_type, month)).read_bytes()
    buffer = io.BytesIO()
    pq.write_table(generate_month(taxi_type, month, ROWS, SEED), buffer)
    return buffer.getvalue()


def parquet_of(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def random_bytes(baseline: Baseline, taxi_type: str) -> bytes:
    return os.urandom(4096)


def truncated_file(baseline: Baseline, taxi_type: str) -> bytes:
    data = good_parquet(baseline, taxi_type)
    return data[: len(data) // 2]


def other_taxi_type(baseline: Baseline, taxi_type: str) -> bytes:
    return good_parquet(baseline, "green" if taxi_type == "yellow" else "yellow")


def file_of_month(month: str) -> Callable[[Baseline, str], bytes]:
    """A good file of another month (its timestamps years off the month it is served for)."""
    def make(baseline: Baseline, taxi_type: str) -> bytes:
        return good_parquet(baseline, taxi_type, month)

    return make


def zero_rows(baseline: Baseline, taxi_type: str) -> bytes:
    return parquet_of(generate_month(taxi_type, GOOD_MONTH, 0, SEED))


def without_pu_location(month: str) -> Callable[[Baseline, str], bytes]:
    def make(baseline: Baseline, taxi_type: str) -> bytes:
        table = pq.read_table(io.BytesIO(good_parquet(baseline, taxi_type, month)))
        return parquet_of(table.drop_columns(["PULocationID"]))

    return make


def csv_with_wrong_header(baseline: Baseline, taxi_type: str) -> bytes:
    """A gzip CSV of the course columns with real values, whose header spells PULocationID 'PU_Location_ID'."""
    table = generate_month(taxi_type, GOOD_MONTH, 20, SEED)
    schema = arrow_schema(COURSE_SCHEMAS[taxi_type])
    columns = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    text = io.BytesIO()
    pacsv.write_csv(pa.table(columns, schema=schema), text)
    lines = text.getvalue().decode().split("\n", 1)
    header = lines[0].replace('"PULocationID"', '"PU_Location_ID"')
    return gzip.compress((header + "\n" + lines[1]).encode())


@dataclass(frozen=True)
class Case:
    """One bad input: which taxi types get it, through which source kind, and what the error must say."""

    id: str
    kind: str  # local | tlc | backup
    bad: dict[str, Callable[[Baseline, str], bytes]]  # taxi type -> bad body (other types get their good bytes)
    error_class: str
    what: tuple[str, ...]  # fragments of the message saying what is wrong
    truncate: bool = False  # tlc: serve the bad types' bodies cut in half (with the full Content-Length)
    settings: dict = field(default_factory=dict)


FAILING_SOURCES = [
    Case("corrupt-parquet-random-bytes", "local", {"yellow": random_bytes}, "CorruptFileError",
         ("is not a parquet file", "4096 bytes")),
    Case("corrupt-parquet-truncated-on-disk", "local", {"green": truncated_file, "yellow": truncated_file},
         "CorruptFileError", ("is not a parquet file", "no parquet footer (truncated?)")),
    Case("wrong-taxi-type", "local", {"yellow": other_taxi_type}, "WrongTaxiTypeError",
         ("has the columns of a green file, not yellow", "expected tpep_pickup_datetime")),
    Case("wrong-taxi-type-yellow-as-green", "local", {"green": other_taxi_type}, "WrongTaxiTypeError",
         ("has the columns of a yellow file, not green", "expected lpep_pickup_datetime")),
    Case("file-of-another-month", "tlc", {"yellow": file_of_month("2011-01")}, "WrongMonthError",
         ("is not a 2021-01 file", f"only 0 of its {ROWS} pickups (tpep_pickup_datetime)", "most are in 2011-01")),
    Case("empty-month", "local", {"yellow": zero_rows}, "EmptyMonthError", ("holds 0 rows",)),
    Case("http-404", "tlc", {"green": None, "yellow": None}, "MonthNotFoundError",
         ("the source has no such month (HTTP 404)",)),
    Case("truncated-download", "tlc", {"yellow": good_parquet}, "CorruptFileError",
         ("truncated: got", "gave up after 2 attempts"), truncate=True,
         settings={"max_attempts": 2, "backoff_seconds": 0.01}),
    Case("csv-wrong-header", "backup", {"green": csv_with_wrong_header, "yellow": csv_with_wrong_header},
         "CorruptFileError", ("CSV header", "missing columns ['PULocationID']", "unexpected columns ['PU_Location_ID']")),
]


def source_settings(case: Case, baseline: Baseline, folder: Path, server: ScriptedServer, month: str) -> tuple[dict, dict]:
    """Place the case's files (bad for case.bad's types, good bytes for the others); -> (settings, where by type)."""
    where: dict[str, str] = {}
    if case.kind == "local":
        folder.mkdir(exist_ok=True)
        for taxi_type in TAXI_TYPES:
            path = folder / url_path(LOCAL_TEMPLATE, taxi_type, month)
            make = case.bad.get(taxi_type, lambda b, t: good_parquet(b, t, month))
            path.write_bytes(make(baseline, taxi_type))
            where[taxi_type] = str(path)
        return {"kind": "local", "local_path_template": str(folder / LOCAL_TEMPLATE)}, where
    template = TLC_PATH if case.kind == "tlc" else BACKUP_PATH
    for taxi_type in TAXI_TYPES:
        path = url_path(template, taxi_type, month)
        where[taxi_type] = server.base_url + path
        if taxi_type in case.bad:
            make = case.bad[taxi_type]
            if make is not None:  # None: nothing served, a 404
                server.add(path, make(baseline, taxi_type), truncate=case.truncate)
        else:
            server.add(path, good_parquet(baseline, taxi_type, month))
    key = "tlc_url_template" if case.kind == "tlc" else "backup_url_template"
    return {"kind": case.kind, key: server.base_url + template, **case.settings}, where


def assert_lake_unchanged(lake: Path, baseline: Baseline, rerun_good_types: tuple[str, ...]) -> None:
    """Every stored file is byte-identical, except the clean/quarantine months of taxi types whose input was good:
    those legitimately re-ran (a new write of the same rows), so they are compared by content."""
    after = snapshot(lake)
    rewritten = {f"{layer}/{t}_trips" for t in rerun_good_types for layer in ("clean", "quarantine")}
    for dataset in DATASETS:
        prefix = f"{dataset}/"
        before_files = {k: v for k, v in baseline.files.items() if k.startswith(prefix)}
        after_files = {k: v for k, v in after.items() if k.startswith(prefix)}
        if dataset in rewritten:
            folder = month_folder(lake, dataset, GOOD_MONTH)
            assert rows_of(folder) == rows_of(month_folder(baseline.lake, dataset, GOOD_MONTH)), dataset
        else:
            changed = sorted(k for k in set(after_files) | set(before_files) if after_files.get(k) != before_files.get(k))
            assert after_files == before_files, f"{dataset} changed (added, removed or rewritten): {changed}"
    stray = [k for k in after if not k.startswith(tuple(f"{d}/month={GOOD_MONTH}/" for d in DATASETS))]
    assert stray == [], f"files outside the stored month folders: {stray}"
    for dataset in DATASETS:
        assert count_rows(month_folder(lake, dataset, GOOD_MONTH)) == baseline.rows[dataset], dataset


# ---- 2: a bad input fails the run with a clear error, and the stored month is untouched -------------------------
@pytest.mark.parametrize("case", FAILING_SOURCES, ids=lambda c: c.id)
def test_bad_source_month_fails_clearly_and_leaves_the_stored_month_intact(
    case, baseline, lake, make_resources, server, workdirs, tmp_path
):
    """Re-run the stored month 2021-01 with a bad input: the raw step of each bad taxi type fails with an error naming
    the type, the month, the path/URL and what is wrong; nothing stored is lost or replaced; nothing is left over."""
    settings, where = source_settings(case, baseline, tmp_path / "incoming", server, GOOD_MONTH)
    result = run_month(make_resources(**settings), GOOD_MONTH)

    assert result.success is False
    failures = step_failures(result)
    bad_types = tuple(sorted(case.bad))
    assert sorted(failures) == [f"raw__{t}_trips" for t in bad_types], failures
    for taxi_type in bad_types:
        text = failures[f"raw__{taxi_type}_trips"]
        assert f"{case.error_class}: " in text, text
        assert f"{taxi_type} {GOOD_MONTH}: " in text, text  # the taxi type and month, as the message's subject
        assert where[taxi_type] in text, text  # the file or URL
        for fragment in case.what:
            assert fragment in text, f"{fragment!r} not in:\n{text}"

    good_types = tuple(t for t in TAXI_TYPES if t not in case.bad)
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    expected = {f"{layer}/{t}_trips" for t in good_types for layer in ("raw", "clean", "quarantine")}
    assert materialized == expected  # the good type still runs; nothing downstream of the bad one does
    assert_lake_unchanged(lake, baseline, rerun_good_types=good_types)
    assert_no_leftovers(lake, workdirs)
    if case.truncate:
        for taxi_type in bad_types:
            assert server.requests(url_path(TLC_PATH, taxi_type, GOOD_MONTH)) == 2  # retried once, then gave up


def test_missing_required_column_fails_in_clean_naming_the_raw_dataset_and_month(
    baseline, lake, make_resources, server, workdirs, tmp_path
):
    """A yellow 2021-02 file of the right type that lacks PULocationID is refused by the raw step (before anything
    is stored) with an error naming the file, the month and the missing column; green 2021-02 goes through; no yellow,
    core or report month is written for 2021-02 and 2021-01 is untouched. (The clean step's ContractError for the same
    case is the second line of defence, tested in transforms/test_conform_and_quarantine.py.)"""
    case = Case("missing-column", "local", {"yellow": without_pu_location(NEXT_MONTH)}, "CorruptFileError", ())
    settings, _ = source_settings(case, baseline, tmp_path / "incoming", server, NEXT_MONTH)
    result = run_month(make_resources(**settings), NEXT_MONTH)

    assert result.success is False
    failures = step_failures(result)
    assert sorted(failures) == ["raw__yellow_trips"], failures
    text = failures["raw__yellow_trips"]
    assert "CorruptFileError: " in text, text
    assert f"yellow {NEXT_MONTH}" in text, text
    assert "lacks the required yellow columns ['PULocationID']" in text, text

    after = snapshot(lake)
    assert {k: after.get(k) for k in baseline.files} == baseline.files  # 2021-01 of every dataset byte-identical
    for dataset in ("raw/yellow_trips", "clean/yellow_trips", "quarantine/yellow_trips", "core/trips",
                    "reports/revenue_monthly_zone"):
        assert not month_folder(lake, dataset, NEXT_MONTH).exists(), dataset  # nothing half-written
    for dataset in ("raw/green_trips", "clean/green_trips", "quarantine/green_trips"):
        assert month_folder(lake, dataset, NEXT_MONTH).is_dir(), dataset
    assert_no_leftovers(lake, workdirs)


def test_rerun_with_missing_required_column_keeps_the_stored_raw_month(
    baseline, lake, make_resources, server, workdirs, tmp_path
):
    """Re-running a stored month with a file that lacks a required column must not replace the good raw month."""
    case = Case("missing-column-rerun", "local", {"yellow": without_pu_location(GOOD_MONTH)}, "CorruptFileError", ())
    settings, _ = source_settings(case, baseline, tmp_path / "incoming", server, GOOD_MONTH)
    result = run_month(make_resources(**settings), GOOD_MONTH)
    assert result.success is False
    assert "lacks the required yellow columns ['PULocationID']" in "\n".join(step_failures(result).values())
    assert_lake_unchanged(lake, baseline, rerun_good_types=("green",))


# ---- 3: bad rows are quarantined and counted, never dropped -----------------------------------------------------
QUARANTINE_MONTH = "2021-03"
MONTH_START, MONTH_END = datetime(2021, 3, 1), datetime(2021, 4, 1)


def clean_only(table: pa.Table, taxi_type: str) -> pa.Table:
    """The rows of a generated month that break no quarantine rule (an oracle written independently of Spark's)."""
    pickup_name, dropoff_name = PICKUP_DROPOFF[taxi_type]
    pickup, dropoff = table.column(pickup_name), table.column(dropoff_name)
    start = pa.scalar(MONTH_START, pickup.type)
    end = pa.scalar(MONTH_END, pickup.type)
    seconds = pc.divide(pc.cast(pc.subtract(dropoff, pickup), pa.int64()), 1_000_000_000)
    keep = [
        pc.is_valid(pickup), pc.is_valid(dropoff),
        pc.greater_equal(pickup, start), pc.less(pickup, end),
        pc.greater_equal(dropoff, pickup), pc.less_equal(seconds, 24 * 3600),
    ]
    for zone in ("PULocationID", "DOLocationID"):
        keep += [pc.greater_equal(table.column(zone), 1), pc.less_equal(table.column(zone), 265)]
    keep += [pc.greater_equal(table.column(c), 0) for c in ("fare_amount", "total_amount", "trip_distance")]
    keep.append(pc.less_equal(table.column("total_amount"), 5000))
    mask = keep[0]
    for condition in keep[1:]:
        mask = pc.and_kleene(mask, pc.fill_null(condition, False))
    return table.filter(pc.fill_null(mask, False))


def bad_rows(template: list[dict], taxi_type: str) -> list[tuple[str, dict]]:
    """(expected reason, row) for rows that each break a rule, made from clean template rows."""
    pickup, dropoff = PICKUP_DROPOFF[taxi_type]
    mid = datetime(2021, 3, 15, 12, 0, 0)
    edits = [
        ("unknown_zone", {"PULocationID": 0}),
        ("unknown_zone", {"DOLocationID": 300}),
        ("unknown_zone", {"PULocationID": None}),
        ("negative_amount", {"fare_amount": -12.5, "total_amount": -13.8}),
        ("negative_amount", {"fare_amount": -2.0}),
        ("absurd_amount", {"fare_amount": 9000.0, "total_amount": 9001.3}),
        ("absurd_amount", {"total_amount": 998310.03}),
        ("pickup_outside_month", {pickup: datetime(2008, 12, 31, 23, 50), dropoff: datetime(2009, 1, 1, 0, 10)}),
        ("pickup_outside_month", {pickup: datetime(2009, 1, 1, 0, 5), dropoff: datetime(2009, 1, 1, 0, 20)}),
        ("pickup_outside_month", {pickup: datetime(2031, 3, 15, 8, 0), dropoff: datetime(2031, 3, 15, 8, 20)}),
        # breaks two rules: labelled with the first one (pickup_outside_month comes before unknown_zone)
        ("pickup_outside_month", {pickup: datetime(2008, 6, 1, 8, 0), dropoff: datetime(2008, 6, 1, 8, 9),
                                  "PULocationID": 0}),
        ("dropoff_before_pickup", {pickup: mid, dropoff: mid - timedelta(minutes=7)}),
        ("trip_longer_than_24h", {pickup: mid, dropoff: mid + timedelta(hours=30)}),
        ("missing_timestamp", {dropoff: None}),
        ("negative_distance", {"trip_distance": -1.25}),
    ]
    return [(reason, {**template[i], **edit}) for i, (reason, edit) in enumerate(edits)]


def test_bad_rows_are_quarantined_with_their_reason_and_counted(make_resources, lake_root, tmp_path):
    """A month whose rows include out-of-range zones, negative and absurd fares, 2008 pickups, dropoffs before
    pickups (and the other rules' cases): the run succeeds, every check passes, quarantine holds exactly those rows
    with the right reasons, clean holds exactly the rest, and the report sums exactly the clean trips."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    injected: dict[str, list[tuple[str, dict]]] = {}
    clean_counts: dict[str, int] = {}
    clean_totals: dict[str, float] = {}
    for taxi_type in TAXI_TYPES:
        generated = generate_month(taxi_type, QUARANTINE_MONTH, 600, SEED)
        clean = clean_only(generated, taxi_type)
        assert clean.num_rows > 400
        injected[taxi_type] = bad_rows(clean.slice(0, 20).to_pylist(), taxi_type)
        bad = pa.Table.from_pylist([row for _, row in injected[taxi_type]], schema=generated.schema)
        pq.write_table(pa.concat_tables([clean, bad]), folder / url_path(LOCAL_TEMPLATE, taxi_type, QUARANTINE_MONTH))
        clean_counts[taxi_type] = clean.num_rows
        clean_totals[taxi_type] = pc.sum(clean.column("total_amount")).as_py()

    result = run_month(
        make_resources(kind="local", local_path_template=str(folder / LOCAL_TEMPLATE)), QUARANTINE_MONTH
    )
    assert result.success, step_failures(result)
    checks = check_results(result)
    assert len(checks) == len(asset_checks) and all(checks.values()), checks

    mats = {e.asset_key.to_user_string(): e.materialization for e in result.get_asset_materialization_events()}
    con = duckdb.connect()
    for taxi_type in TAXI_TYPES:
        expected = Counter(reason for reason, _ in injected[taxi_type])
        raw = count_rows(month_folder(lake_root, f"raw/{taxi_type}_trips", QUARANTINE_MONTH))
        clean = count_rows(month_folder(lake_root, f"clean/{taxi_type}_trips", QUARANTINE_MONTH))
        quarantine = month_folder(lake_root, f"quarantine/{taxi_type}_trips", QUARANTINE_MONTH)
        got = dict(con.execute(
            f"SELECT quarantine_reason, count(*) FROM read_parquet('{quarantine}/*.parquet') GROUP BY 1"
        ).fetchall())
        assert got == dict(expected), taxi_type
        assert raw == clean + sum(got.values()) == clean_counts[taxi_type] + len(injected[taxi_type])
        assert clean == clean_counts[taxi_type]  # nothing good was quarantined, nothing bad slipped through

        # the quarantined rows are exactly the injected ones, each with its own reason
        stored = sorted(con.execute(
            f"SELECT quarantine_reason, PULocationID, DOLocationID, fare_amount, total_amount, trip_distance "
            f"FROM read_parquet('{quarantine}/*.parquet')").fetchall(), key=repr)
        want = sorted(((reason, row["PULocationID"], row["DOLocationID"], row["fare_amount"], row["total_amount"],
                        row["trip_distance"]) for reason, row in injected[taxi_type]), key=repr)
        assert stored == want, taxi_type

        # Dagster metadata counts them too
        assert mats[f"quarantine/{taxi_type}_trips"].metadata["quarantined_rows"].value == len(injected[taxi_type])
        assert mats[f"quarantine/{taxi_type}_trips"].metadata["quarantine_reasons"].value == dict(expected)

        # and the report sums exactly the clean trips of this type
        report = con.execute(
            f"SELECT sum(revenue_monthly_total_amount) FROM read_parquet("
            f"'{lake_root}/reports/revenue_monthly_zone/month={QUARANTINE_MONTH}/*.parquet') "
            f"WHERE service_type = '{taxi_type}'").fetchone()[0]
        assert report == pytest.approx(clean_totals[taxi_type], abs=0.005)


# ---- 4: the real TLC CSV format, stray out-of-month rows included ------------------------------------------------
REAL_MONTH = "2019-01"


def test_real_tlc_csv_heads_run_end_to_end_with_out_of_month_rows_quarantined(make_resources, lake_root, server):
    """The real TLC CSV heads of 2019-01 (green and yellow), gzip'd and served as the course backup: the run succeeds,
    the 2018 pickups the TLC files carry land in quarantine as pickup_outside_month, and the report's totals equal the
    in-month rows' total_amount summed straight from the CSV."""
    heads = require_shared(TLC_CSV_HEADS)
    expected: dict[str, dict] = {}
    for taxi_type in TAXI_TYPES:
        head = heads / f"{taxi_type}_tripdata_{REAL_MONTH}.csv"
        if not head.exists():
            pytest.skip(f"{head} is absent from the shared reference data")
        text = head.read_text()
        rows = list(csv.DictReader(io.StringIO(text)))
        pickup, _ = PICKUP_DROPOFF[taxi_type]
        inside = [r for r in rows if r[pickup].startswith(REAL_MONTH)]
        expected[taxi_type] = {
            "raw": len(rows),
            "clean": len(inside),
            "outside": len(rows) - len(inside),
            "total": sum(float(r["total_amount"]) for r in inside),
        }
        server.add(url_path(BACKUP_PATH, taxi_type, REAL_MONTH), gzip.compress(text.encode()))
    assert all(e["outside"] > 0 for e in expected.values()), expected  # the heads carry 2018 pickups

    resources = make_resources(kind="backup", backup_url_template=server.base_url + BACKUP_PATH,
                               max_attempts=1, backoff_seconds=0.01)
    result = run_month(resources, REAL_MONTH)
    assert result.success, step_failures(result)
    checks = check_results(result)
    assert len(checks) == len(asset_checks) and all(checks.values()), checks

    con = duckdb.connect()
    for taxi_type, want in expected.items():
        assert count_rows(month_folder(lake_root, f"raw/{taxi_type}_trips", REAL_MONTH)) == want["raw"]
        assert count_rows(month_folder(lake_root, f"clean/{taxi_type}_trips", REAL_MONTH)) == want["clean"]
        quarantine = month_folder(lake_root, f"quarantine/{taxi_type}_trips", REAL_MONTH)
        got = dict(con.execute(
            f"SELECT quarantine_reason, count(*) FROM read_parquet('{quarantine}/*.parquet') GROUP BY 1").fetchall())
        assert got == {"pickup_outside_month": want["outside"]}, taxi_type
        years = {y for (y,) in con.execute(
            f"SELECT DISTINCT year(pickup_datetime) FROM read_parquet('{quarantine}/*.parquet')").fetchall()}
        assert years == {2018}
        report = con.execute(
            f"SELECT sum(revenue_monthly_total_amount), min(revenue_month), max(revenue_month) FROM read_parquet("
            f"'{lake_root}/reports/revenue_monthly_zone/month={REAL_MONTH}/*.parquet') "
            f"WHERE service_type = '{taxi_type}'").fetchone()
        assert report[0] == pytest.approx(want["total"], abs=0.005), taxi_type
        # the lake stores UTC-adjusted TIMESTAMP_MICROS: readers see the instant 2019-01-01 00:00 UTC
        assert report[1] == report[2] == datetime(2019, 1, 1, tzinfo=timezone.utc)
