"""Reads that overlap a rewrite of their months (issue #14, point 4), with Spark reading the files it was handed.

The platform lists a month's files and gives the paths to Spark, which opens them later (lazily). Before versioned
month folders, a writer committing the month in between moved those files away: the Spark job failed with a
file-not-found error. Now the lake resolves each month's pointer once and hands Spark the version's own files, kept
for the grace period after they are superseded. Plain readers (Spark, pyarrow, DuckDB on the dataset folder) follow
the pointers and see each month once.
"""

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest
from dagster import AssetKey, PartitionKeyRange, build_input_context, build_output_context

from taxi_platform.io_managers import local_swap
from taxi_platform.io_managers.gcs_sync import local_files
from taxi_platform.io_managers.lake import LAYOUT_KEY, MONTH_FILES_LAYOUT, LakeIOManager
from taxi_platform.io_managers.local_swap import LocalStore
from taxi_platform.partitions import monthly_partitions
from taxi_platform_tests.conftest import REPO_ROOT
from taxi_platform_tests.io_managers.test_store_promises import write_version

pytestmark = pytest.mark.spark

KEY = AssetKey(["clean", "green_trips"])
DATASET = "clean/green_trips"
MONTHS = ["2021-01", "2021-02"]


def publish(store: LocalStore, month: str, tag: str, rows: int) -> None:
    staging = Path(store.new_staging(tag))
    write_version(staging / f"month={month}", tag, rows)
    try:
        store.publish(str(staging / f"month={month}"), str(store.root / DATASET / f"month={month}"), tag)
    finally:
        store.discard(str(staging))


def range_context(upstream_metadata=None):
    upstream = build_output_context(definition_metadata=upstream_metadata) if upstream_metadata else None
    return build_input_context(asset_key=KEY, asset_partitions_def=monthly_partitions, upstream_output=upstream,
                               asset_partition_key_range=PartitionKeyRange(MONTHS[0], MONTHS[-1]))


def rows_of(loaded) -> list[tuple[str, str]]:
    """(month, tag) of every row a load returned: one DataFrame with ``month``, or {month: DataFrame}."""
    if isinstance(loaded, dict):
        return sorted((month, r["tag"]) for month, df in loaded.items() for r in df.collect())
    return sorted((r["month"], r["tag"]) for r in loaded.collect())


@pytest.mark.parametrize("layout", ["range", "month_files"])
def test_a_platform_read_listed_before_a_rewrite_returns_the_old_version_whole(spark_resource, lake_root, layout):
    """The load lists both months and hands Spark their files; a writer replaces both months; then Spark reads.
    Before: FileNotFoundException (the listed files had been moved away). Now: exactly the old version's rows."""
    store = LocalStore(str(lake_root))
    lake = LakeIOManager(lake_root=str(lake_root), spark=spark_resource)
    for month in MONTHS:
        publish(store, month, f"old{month[-1]}", 6)
    context = range_context({LAYOUT_KEY: MONTH_FILES_LAYOUT} if layout == "month_files" else None)
    loaded = lake.load_input(context)  # lazy: Spark has the paths, not the rows
    for month in MONTHS:
        publish(store, month, "new", 4)
    assert rows_of(loaded) == [("2021-01", "old1")] * 6 + [("2021-02", "old2")] * 6
    assert rows_of(lake.load_input(context)) == [("2021-01", "new")] * 4 + [("2021-02", "new")] * 4


REWRITER = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from taxi_platform.io_managers.local_swap import LocalStore
from test_reads_during_rewrites import publish
store, stop, n = LocalStore(sys.argv[1]), Path(sys.argv[2]), 0
while not stop.exists():
    n += 1
    publish(store, "2021-01", f"v{{n}}", 8)
print(n)
""".format(tests=str(Path(__file__).parent))


def test_platform_reads_stay_whole_while_another_process_rewrites_the_month(spark_resource, lake_root, tmp_path):
    """A writer process rewrites the month without pause; each read here loads, waits a random 0-40 ms, then runs the
    Spark job. Every read returns one version whole (8 rows, one tag), including the reads a commit overtook."""
    store = LocalStore(str(lake_root))
    lake = LakeIOManager(lake_root=str(lake_root), spark=spark_resource)
    publish(store, "2021-01", "v0", 8)
    context = build_input_context(asset_key=KEY, asset_partitions_def=monthly_partitions, partition_key="2021-01")
    month = store.root / DATASET / "month=2021-01"
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", REWRITER, str(store.root), str(stop)], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, text=True)
    random.seed(14)
    overtaken = 0
    try:
        deadline = time.monotonic() + 15
        reads = 0
        while reads < 40 and time.monotonic() < deadline or overtaken < 3 and time.monotonic() < deadline + 10:
            assert writer.poll() is None, "the writer died"
            before = store.files(str(month))
            df = lake.load_input(context)
            time.sleep(random.uniform(0, 0.04))
            rows = [r["tag"] for r in df.collect()]
            overtaken += store.files(str(month)) != before
            assert len(rows) == 8 and len(set(rows)) == 1, rows
            reads += 1
    finally:
        stop.write_text("stop")
        commits = int(writer.communicate(timeout=60)[0].strip() or 0)
    assert writer.returncode == 0 and commits > reads
    assert overtaken >= 3, f"only {overtaken} of {reads} reads overlapped a commit: the test proved nothing"


def test_plain_readers_see_each_current_month_once(spark, lake_root):
    """Spark partition discovery, pyarrow.dataset (hive) and DuckDB's glob on the dataset folder: each month once,
    from its current version, with superseded versions (``_versions``) and a plain folder from before beside it."""
    store = LocalStore(str(lake_root))
    publish(store, "2021-01", "old", 6)
    publish(store, "2021-01", "new", 4)  # 2021-01: two versions, one superseded (within its grace period)
    write_version(store.root / DATASET / "month=2021-02", "plain", 3)  # written before versions existed
    publish(store, "2021-03", "new3", 5)
    dataset = store.root / DATASET
    assert (dataset / "month=2021-01").is_symlink() and not (dataset / "month=2021-02").is_symlink()
    assert len(list((dataset / "_versions" / "month=2021-01").iterdir())) == 2
    # a temporary link that a writer killed inside its pointer swap leaves (until vacuum), naming a version
    os.symlink(os.path.realpath(dataset / "month=2021-03"), dataset / "_versions" / ".month=2021-03.dead.lake-tmp")
    expected = [("2021-01", "new", 4), ("2021-02", "plain", 3), ("2021-03", "new3", 5)]

    found = spark.read.parquet(str(dataset)).groupBy("month", "tag").count().collect()
    assert sorted((r["month"], r["tag"], r["count"]) for r in found) == expected
    table = ds.dataset(dataset, format="parquet", partitioning="hive").to_table()
    pairs = list(zip(table.column("month").to_pylist(), table.column("tag").to_pylist()))
    assert sorted((m, t, pairs.count((m, t))) for m, t in set(pairs)) == expected
    sql = f"SELECT month, tag, count(*) FROM read_parquet('{dataset}/*/*.parquet', hive_partitioning=true) GROUP BY ALL"
    assert sorted(duckdb.execute(sql).fetchall()) == expected
    # upload_lake_to_gcs copies what a plain reader sees: the links' files under the month's own path
    uploaded = sorted(str(p.relative_to(dataset)) for p in local_files(dataset))
    assert uploaded == ["month=2021-01/part-new-0.parquet", "month=2021-01/part-new-1.parquet",
                        "month=2021-02/part-plain-0.parquet", "month=2021-02/part-plain-1.parquet",
                        "month=2021-03/part-new3-0.parquet", "month=2021-03/part-new3-1.parquet"]


def test_a_plain_folder_is_converted_without_a_reader_noticing(spark_resource, lake_root):
    """A month folder written before versions existed: a platform read lists it, ``vacuum`` converts it to a pointer
    (its files hard-linked into a version), and the read still gets its rows; the next rewrite no longer breaks a
    read listed before it."""
    store = LocalStore(str(lake_root))
    lake = LakeIOManager(lake_root=str(lake_root), spark=spark_resource)
    context = build_input_context(asset_key=KEY, asset_partitions_def=monthly_partitions, partition_key="2021-01")
    month = store.root / DATASET / "month=2021-01"
    write_version(month, "plain", 6)
    listed = lake.load_input(context)
    assert str(month) in store.vacuum(grace_seconds=3600, dry_run=True) and not month.is_symlink()
    assert str(month) in store.vacuum(grace_seconds=3600)
    assert month.is_symlink() and os.readlink(month).startswith("_versions/month=2021-01/legacy-")
    assert sorted(r["tag"] for r in listed.collect()) == ["plain"] * 6
    listed = lake.load_input(context)
    publish(store, "2021-01", "new", 2)
    assert sorted(r["tag"] for r in listed.collect()) == ["plain"] * 6
    assert sorted(r["tag"] for r in lake.load_input(context).collect()) == ["new"] * 2
    assert str(month) not in store.vacuum(grace_seconds=3600)  # converted once


def test_vacuum_deletes_superseded_versions_after_the_grace_period_only(lake_root):
    """Superseded versions stay while a reader may hold their paths; ``vacuum`` (dry run: lists) removes those
    superseded longer than the grace period, never the current one, and records a version a killed run left
    unrecorded so that it goes too."""
    store = LocalStore(str(lake_root))
    for tag in ("v1", "v2", "v3"):
        publish(store, "2021-01", tag, 4)
    versions = store.root / DATASET / "_versions" / "month=2021-01"
    current = Path(os.path.realpath(store.root / DATASET / "month=2021-01"))
    old = sorted(p for p in versions.iterdir() if p != current)
    assert len(old) == 2 and not any(str(p) in store.vacuum(grace_seconds=3600) for p in old)  # within grace
    assert sorted(store.vacuum(grace_seconds=0, dry_run=True)) == sorted(map(str, old))
    assert all(p.exists() for p in old)
    assert sorted(store.vacuum(grace_seconds=0)) == sorted(map(str, old))
    assert list(versions.iterdir()) == [current] and not list((store.root / local_swap.RETIRED_DIR).iterdir())
    publish(store, "2021-01", "v4", 4)
    leftover = versions.parent / ".month=2021-01.dead.lake-tmp"  # a writer killed inside its pointer swap
    os.symlink("month=2021-01/x", leftover)
    os.utime(leftover, (time.time() - 3600,) * 2, follow_symlinks=False)
    for record in (store.root / local_swap.RETIRED_DIR).iterdir():  # as if killed before recording it
        record.unlink()
    assert store.vacuum(grace_seconds=3600) == [str(leftover)]  # the version recorded now: its grace starts now
    assert not os.path.lexists(leftover)
    assert len(list((store.root / local_swap.RETIRED_DIR).iterdir())) == 1
    assert store.vacuum(grace_seconds=0) == [str(current)]
    assert sorted(r for p in versions.iterdir() for r in os.listdir(p) if r.endswith(".parquet")) == \
        ["part-v4-0.parquet", "part-v4-1.parquet"]
