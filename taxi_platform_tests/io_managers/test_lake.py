"""The lake IO manager through real Dagster runs: ranges, idempotency, atomic replacement, crash recovery, errors."""

import os
import shutil
from datetime import datetime

import pyarrow.dataset as ds
import pytest
from dagster import AssetIn, AssetKey, BackfillPolicy, asset, materialize

from taxi_platform.io_managers import local_swap
from taxi_platform.io_managers.lake import LakeError, LakeIOManager, MissingPartitionError
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.spark import SparkResource

pytestmark = pytest.mark.spark

KEY = AssetKey(["test", "events"])


def range_tags(start, end):
    return {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}


def make_assets(rows_for_month, *, month_override=None):
    """A partitioned asset writing `rows_for_month(month)` rows per month, and one that reads it back."""

    @asset(key=KEY, partitions_def=monthly_partitions, backfill_policy=BackfillPolicy.single_run(),
           io_manager_key="lake_io_manager")
    def events(context, spark: SparkResource):
        data = []
        for month in context.partition_keys:
            for i in range(rows_for_month(month)):
                data.append((i, float(i), datetime.strptime(month, "%Y-%m"), month_override or month))
        return spark.get_session().createDataFrame(data, "id int, amount double, at timestamp, month string")

    @asset(ins={"events": AssetIn(key=KEY)}, partitions_def=monthly_partitions,
           backfill_policy=BackfillPolicy.single_run(), io_manager_key="mem")
    def event_counts(context, events):
        return {r["month"]: r["count"] for r in events.groupBy("month").count().collect()}

    return events, event_counts


@pytest.fixture
def resources(spark_resource, lake_root):
    from dagster import InMemoryIOManager

    return {
        "spark": spark_resource,
        "lake_io_manager": LakeIOManager(lake_root=str(lake_root), spark=spark_resource, files_per_partition=2),
        "mem": InMemoryIOManager(),
    }


def parquet_files(lake_root, month):
    return sorted((lake_root / "test" / "events" / f"month={month}").glob("*.parquet"))


def test_range_written_in_one_run_reads_back_by_month(resources, lake_root):
    events, counts = make_assets(lambda m: {"2021-01": 5, "2021-02": 7, "2021-03": 0}[m])
    result = materialize([events, counts], resources=resources, tags=range_tags("2021-01", "2021-03"))
    assert result.success
    assert result.output_for_node("event_counts") == {"2021-01": 5, "2021-02": 7}
    # the empty month exists as an empty file that still carries the schema
    empty = ds.dataset(lake_root / "test/events/month=2021-03", format="parquet")
    assert empty.count_rows() == 0 and empty.schema.names == ["id", "amount", "at"]
    # any parquet reader sees the months from the Hive-style folders
    table = ds.dataset(lake_root / "test/events", format="parquet", partitioning="hive").to_table()
    assert sorted(set(table.column("month").to_pylist())) == ["2021-01", "2021-02"]
    assert table.num_rows == 12
    mats = [e.materialization for e in result.get_asset_materialization_events() if e.asset_key == KEY]
    assert sorted(m.partition for m in mats) == ["2021-01", "2021-02", "2021-03"]
    mat = mats[0]
    assert mat.metadata["dagster/row_count"].value == 12
    assert mat.metadata["rows_by_month"].value == {"2021-01": 5, "2021-02": 7, "2021-03": 0}
    assert "| id | amount | at |" in mat.metadata["preview"].value


def test_rows_spread_over_many_tasks_still_give_at_most_files_per_partition_files(resources, lake_root):
    """Writes do not shuffle; a month whose rows came from more tasks than files_per_partition is compacted."""

    @asset(key=KEY, partitions_def=monthly_partitions, backfill_policy=BackfillPolicy.single_run(),
           io_manager_key="lake_io_manager")
    def events(context, spark: SparkResource):
        data = [(i, float(i), datetime(2021, 1 + i % 2, 1), f"2021-0{1 + i % 2}") for i in range(60)]
        # 6 tasks, each holding rows of both months: 6 files a month before compaction
        return spark.get_session().createDataFrame(data, "id int, amount double, at timestamp, month string").repartition(6)

    assert materialize([events], resources=resources, tags=range_tags("2021-01", "2021-02")).success
    for month in ("2021-01", "2021-02"):
        assert 1 <= len(parquet_files(lake_root, month)) <= 2  # files_per_partition=2
    table = ds.dataset(lake_root / "test/events", format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("id").to_pylist()) == list(range(60))
    assert {(r["id"] % 2, r["month"]) for r in table.to_pylist()} == {(0, "2021-01"), (1, "2021-02")}
    assert not any((lake_root / "_staging").iterdir())


def test_a_monthly_input_is_one_scan_and_its_months_keep_their_file_count(resources, lake_root):
    """A step reading several months gets ONE Spark scan of their files (no union of per-month reads, whose generated
    code Spark compiles and warms up once per branch), and writing its rows by month gives no month more files than
    it had: a task writes one file per month it holds, so nothing needs compacting."""
    from taxi_platform.io_managers.lake import FILES_PER_PARTITION_KEY

    events, _ = make_assets(lambda m: {"2021-01": 5, "2021-02": 7, "2021-03": 3}[m])
    copy_key = AssetKey(["test", "events_copy"])

    @asset(key=copy_key, ins={"events": AssetIn(key=KEY)}, partitions_def=monthly_partitions,
           backfill_policy=BackfillPolicy.single_run(), io_manager_key="lake_io_manager",
           metadata={FILES_PER_PARTITION_KEY: 2})
    def events_copy(context, events):
        plan = events._jdf.queryExecution().executedPlan().toString()
        context.add_output_metadata({"scans": plan.count("FileScan parquet"), "union": "Union" in plan})
        return events

    result = materialize([events, events_copy], resources=resources, tags=range_tags("2021-01", "2021-03"))
    assert result.success
    mat = next(e.materialization for e in result.get_asset_materialization_events() if e.asset_key == copy_key)
    assert mat.metadata["scans"].value == 1 and mat.metadata["union"].value is False
    assert mat.metadata["rows_by_month"].value == {"2021-01": 5, "2021-02": 7, "2021-03": 3}
    write_ids = set()
    for month in ("2021-01", "2021-02", "2021-03"):
        copied = sorted((lake_root / "test" / "events_copy" / f"month={month}").glob("*.parquet"))
        assert 1 <= len(copied) <= len(parquet_files(lake_root, month))
        write_ids |= {f.name.split("-", 2)[2] for f in copied}  # part-NNNNN-<write id>...
    assert len(write_ids) == 1  # every month as the one write left it: none compacted (a compaction is another write)


def test_writing_a_month_twice_leaves_one_copy(resources, lake_root):
    events, _ = make_assets(lambda m: 50)
    for _ in range(2):
        assert materialize([events], resources=resources, partition_key="2021-01").success
    table = ds.dataset(lake_root / "test/events", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 50
    assert 1 <= len(parquet_files(lake_root, "2021-01")) <= 2  # files_per_partition=2
    assert not any((lake_root / "_staging").iterdir()) and not any((lake_root / "_trash").iterdir())


def test_other_months_are_untouched_by_a_rewrite(resources, lake_root):
    events, _ = make_assets(lambda m: 10)
    assert materialize([events], resources=resources, tags=range_tags("2021-01", "2021-02")).success
    before = {p.name: p.stat().st_mtime_ns for p in parquet_files(lake_root, "2021-01")}
    events20, _ = make_assets(lambda m: 20)
    assert materialize([events20], resources=resources, partition_key="2021-02").success
    assert {p.name: p.stat().st_mtime_ns for p in parquet_files(lake_root, "2021-01")} == before
    assert ds.dataset(lake_root / "test/events/month=2021-02", format="parquet").count_rows() == 20


def test_rows_outside_the_run_range_are_refused_and_nothing_is_replaced(resources, lake_root):
    events, _ = make_assets(lambda m: 3)
    assert materialize([events], resources=resources, partition_key="2021-01").success
    stray, _ = make_assets(lambda m: 4, month_override="2020-12")
    with pytest.raises(LakeError, match=r"test/events: rows for months \['2020-12'\] are outside"):
        materialize([stray], resources=resources, partition_key="2021-01")
    assert ds.dataset(lake_root / "test/events/month=2021-01", format="parquet").count_rows() == 3
    assert not (lake_root / "test/events/month=2020-12").exists()


def test_month_files_load_month_by_month_whatever_their_published_schemas(resources, lake_root, tmp_path):
    """Raw-like months: two share a schema (read together, split by month), one drifted (read alone)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from taxi_platform.io_managers.lake import LAYOUT_KEY, MONTH_FILES_LAYOUT
    from taxi_platform.io_managers.month_files import MonthFiles

    raw_key = AssetKey(["test", "raw_months"])
    tables = {"2021-01": pa.table({"n": pa.array([1, 2], pa.int64()), "x": [0.5, 1.5]}),
              "2021-02": pa.table({"n": pa.array([3, 4, 5], pa.int64()), "x": [2.5, 3.5, 4.5]}),
              "2021-03": pa.table({"n": pa.array([6.0]), "x": [5.5]})}  # n drifted to double

    @asset(key=raw_key, partitions_def=monthly_partitions, backfill_policy=BackfillPolicy.single_run(),
           io_manager_key="lake_io_manager", metadata={LAYOUT_KEY: MONTH_FILES_LAYOUT})
    def raw_months(context):
        files = {}
        for month in context.partition_keys:
            files[month] = tmp_path / f"{month}.parquet"
            pq.write_table(tables[month], files[month])
        return MonthFiles(files=files)

    @asset(ins={"raw": AssetIn(key=raw_key)}, partitions_def=monthly_partitions,
           backfill_policy=BackfillPolicy.single_run(), io_manager_key="mem")
    def by_month(context, raw: dict):
        groups = [(months, df.dtypes, sorted(tuple(r) for r in df.collect())) for months, df in raw.groups]
        context.add_output_metadata({"groups": repr(groups)})
        return {m: (df.dtypes, sorted(tuple(r) for r in df.collect())) for m, df in raw.items()}

    result = materialize([raw_months, by_month], resources=resources, tags=range_tags("2021-01", "2021-03"))
    assert result.success
    # the two months of one schema are also handed over as their one read, with the month of each row
    mat = next(e.materialization for e in result.get_asset_materialization_events()
               if e.asset_key == AssetKey("by_month"))
    assert mat.metadata["groups"].value == repr([(("2021-01", "2021-02"), [("n", "bigint"), ("x", "double"), ("month", "string")],
                                                  [(1, 0.5, "2021-01"), (2, 1.5, "2021-01"), (3, 2.5, "2021-02"),
                                                   (4, 3.5, "2021-02"), (5, 4.5, "2021-02")])])
    assert result.output_for_node("by_month") == {
        "2021-01": ([("n", "bigint"), ("x", "double")], [(1, 0.5), (2, 1.5)]),
        "2021-02": ([("n", "bigint"), ("x", "double")], [(3, 2.5), (4, 3.5), (5, 4.5)]),
        "2021-03": ([("n", "double"), ("x", "double")], [(6.0, 5.5)]),
    }


def test_raw_months_of_one_run_are_committed_all_or_nothing(resources, lake_root, tmp_path):
    """#14 (left open, point 4): a single-run backfill of raw months whose month k is broken replaces NO month (before,
    months < k were already new and months > k old)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from taxi_platform.io_managers.lake import LAYOUT_KEY, MONTH_FILES_LAYOUT
    from taxi_platform.io_managers.month_files import MonthFiles

    raw_key = AssetKey(["test", "raw_months"])
    months = ["2021-01", "2021-02", "2021-03"]

    def build(version: int, broken: str = ""):
        @asset(key=raw_key, partitions_def=monthly_partitions, backfill_policy=BackfillPolicy.single_run(),
               io_manager_key="lake_io_manager", metadata={LAYOUT_KEY: MONTH_FILES_LAYOUT})
        def raw_months(context):
            files = {}
            for month in context.partition_keys:
                files[month] = tmp_path / f"v{version}-{month}.parquet"
                if month == broken:  # a download cut short: not parquet
                    files[month].write_bytes(b"PAR1 truncated")
                else:
                    pq.write_table(pa.table({"v": [version] * 3}), files[month])
            return MonthFiles(files=files)

        return raw_months

    assert materialize([build(1)], resources=resources, tags=range_tags(months[0], months[-1])).success
    with pytest.raises(LakeError, match=r"test/raw_months 2021-02: the file .* is not readable parquet"):
        materialize([build(2, broken="2021-02")], resources=resources, tags=range_tags(months[0], months[-1]))
    for month in months:
        assert ds.dataset(lake_root / f"test/raw_months/month={month}", format="parquet").to_table() \
            .column("v").to_pylist() == [1, 1, 1], month
    assert materialize([build(3)], resources=resources, tags=range_tags(months[0], months[-1])).success
    for month in months:
        assert ds.dataset(lake_root / f"test/raw_months/month={month}", format="parquet").to_table() \
            .column("v").to_pylist() == [3, 3, 3], month


def test_missing_month_is_a_clear_error(resources):
    _, counts = make_assets(lambda m: 1)
    from dagster import AssetSpec

    with pytest.raises(MissingPartitionError, match=r"test/events has no data for months \['2021-05'\]"):
        # an unmaterialized upstream, loaded through the lake (external assets load with the default io_manager)
        materialize([counts, AssetSpec(KEY, partitions_def=monthly_partitions)],
                    resources={**resources, "io_manager": resources["lake_io_manager"]},
                    partition_key="2021-05", selection=[counts])


def test_a_month_emptied_outside_the_lake_is_a_clear_error_not_a_month_without_rows(resources, lake_root):
    events, counts = make_assets(lambda m: 5)
    tags = range_tags("2021-01", "2021-02")
    assert materialize([events], resources=resources, tags=tags).success
    for path in parquet_files(lake_root, "2021-02"):
        path.unlink()
    with pytest.raises(LakeError, match=r"test/events months \['2021-02'\] under .*: the current version holds no "
                                        r"data files"):
        materialize([events, counts], resources=resources, tags=tags, selection=[counts])


def test_a_staged_month_removed_under_the_write_fails_the_run_and_keeps_the_month(resources, lake_root, monkeypatch):
    """#14.2: another host's recovery removed the run's staged month while Spark wrote: before, the lake took the
    missing folder for "no rows" and published an empty month (10 rows became 0) and the run succeeded."""
    events, _ = make_assets(lambda m: 10)
    assert materialize([events], resources=resources, partition_key="2021-01").success
    real = local_swap.LocalStore.staged_subfolders

    def removed_under_the_write(self, staging):
        shutil.rmtree(os.path.join(staging, "month=2021-01"))
        return real(self, staging)

    monkeypatch.setattr(local_swap.LocalStore, "staged_subfolders", removed_under_the_write)
    with pytest.raises(LakeError, match=r"test/events: the write produced 10 rows for 2021-01..2021-01 but its staged "
                                        r"month folders .* hold 0 .*months without a staged folder: \['2021-01'\]"):
        materialize([events], resources=resources, partition_key="2021-01")
    assert ds.dataset(lake_root / "test/events/month=2021-01", format="parquet").count_rows() == 10


def test_a_staged_month_given_extra_rows_under_the_write_fails_the_run_and_keeps_the_month(resources, lake_root,
                                                                                           monkeypatch):
    """The staged folders must hold exactly the rows Spark counted while writing them: a file added under the write
    (here a copy of one the write made) is refused, not published as part of the month."""
    events, _ = make_assets(lambda m: 10)
    assert materialize([events], resources=resources, partition_key="2021-01").success
    real = local_swap.LocalStore.staged_subfolders

    def added_under_the_write(self, staging):
        folder = os.path.join(staging, "month=2021-01")
        first = sorted(f for f in os.listdir(folder) if f.endswith(".parquet"))[0]
        shutil.copyfile(os.path.join(folder, first), os.path.join(folder, "part-extra.parquet"))
        return real(self, staging)

    monkeypatch.setattr(local_swap.LocalStore, "staged_subfolders", added_under_the_write)
    with pytest.raises(LakeError, match=r"test/events: the write produced 10 rows for 2021-01..2021-01 but its staged "
                                        r"month folders .* hold (1[1-9]|20) "):
        materialize([events], resources=resources, partition_key="2021-01")
    assert ds.dataset(lake_root / "test/events/month=2021-01", format="parquet").count_rows() == 10


def test_outputs_published_together_stay_old_together_when_the_step_fails(resources, lake_root):
    """#14.7: a step's two outputs (like clean + quarantine) are one commit: the second one failing (rows outside
    the run's months) leaves BOTH with their old version; before, the first was already replaced.
    And the run's event log records NO materialization of either for the month (before, the first output was
    recorded as materialized although the lake kept its old month)."""
    from dagster import AssetOut, DagsterInstance, Output, multi_asset

    from taxi_platform.io_managers.lake import PUBLISH_TOGETHER_KEY, Together

    def step(value: float, bad_month: str = None):
        @multi_asset(outs={n: AssetOut(key=AssetKey(["test", n]), io_manager_key="lake_io_manager",
                                       metadata={PUBLISH_TOGETHER_KEY: True}) for n in ("first", "second")},
                     partitions_def=monthly_partitions, name="pair")
        def pair(context, spark: SparkResource):
            month = context.partition_key
            session = spark.get_session()
            together = Together({
                "first": session.createDataFrame([(value, month)], "x double, month string"),
                "second": session.createDataFrame([(value, bad_month or month)], "x double, month string"),
            })
            yield Output(together, "first")
            yield Output(together, "second")

        return pair

    def recorded(instance, run_id: str) -> list[str]:
        return sorted(e.asset_materialization.asset_key.to_user_string()
                      for e in instance.all_logs(run_id) if e.is_dagster_event and e.dagster_event.is_step_materialization)

    instance = DagsterInstance.ephemeral()
    good = materialize([step(1.0)], resources=resources, partition_key="2021-01", instance=instance)
    assert good.success and recorded(instance, good.run_id) == ["test/first", "test/second"]
    failed = materialize([step(2.0, bad_month="2020-12")], resources=resources, partition_key="2021-01",
                         instance=instance, raise_on_error=False)
    assert not failed.success
    error = failed.get_step_failure_events()[0].step_failure_data.error
    assert "test/second: rows for months ['2020-12'] are outside" in str(error.cause or error), error
    assert recorded(instance, failed.run_id) == []  # neither output recorded as materialized
    for name in ("first", "second"):
        table = ds.dataset(lake_root / f"test/{name}/month=2021-01", format="parquet").to_table()
        assert table.column("x").to_pylist() == [1.0], name
        latest = instance.get_latest_materialization_event(AssetKey(["test", name]))
        assert latest.run_id == good.run_id, name  # the instance's latest is the version the lake holds
    assert not [p for p in (lake_root / "_staging").iterdir() if not p.name.endswith(".lock")]
    assert materialize([step(3.0)], resources=resources, partition_key="2021-01").success
    for name in ("first", "second"):
        assert ds.dataset(lake_root / f"test/{name}/month=2021-01", format="parquet").to_table().column("x").to_pylist() == [3.0]


def test_publish_together_outputs_need_together(resources):
    """A publish-together output given a plain value fails before anything is staged, naming the outputs."""
    from dagster import AssetOut, Output, multi_asset

    from taxi_platform.io_managers.lake import PUBLISH_TOGETHER_KEY

    @multi_asset(outs={n: AssetOut(key=AssetKey(["test", n]), io_manager_key="lake_io_manager",
                                   metadata={PUBLISH_TOGETHER_KEY: True}) for n in ("first", "second")},
                 partitions_def=monthly_partitions, name="pair")
    def pair(context, spark: SparkResource):
        frame = spark.get_session().createDataFrame([(1.0, context.partition_key)], "x double, month string")
        yield Output(frame, "first")
        yield Output(frame, "second")

    with pytest.raises(LakeError, match=r"\['first', 'second'\]\) must each be given the same lake.Together"):
        materialize([pair], resources=resources, partition_key="2021-01")


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A real 1 MiB filesystem (tmpfs) in the test's folder; skipped where mounting is not allowed."""
    import subprocess

    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs CAP_SYS_ADMIN)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_names_the_dataset_and_months_and_keeps_the_month(spark_resource, tiny_filesystem):
    """#15's part in the lake: ENOSPC while staging a month names the dataset, the months and the OS error."""
    lake = LakeIOManager(lake_root=str(tiny_filesystem / "lake"), spark=spark_resource, files_per_partition=1)
    resources = {"spark": spark_resource, "lake_io_manager": lake}
    small, _ = make_assets(lambda m: 5)
    assert materialize([small], resources=resources, partition_key="2021-01").success
    big, _ = make_assets(lambda m: 150_000)  # several MB of parquet: more than the filesystem holds
    with pytest.raises(LakeError, match=r"test/events 2021-01\.\.2021-01: .*failed \(No space left on device\); "
                                        r"nothing was replaced"):
        materialize([big], resources=resources, partition_key="2021-01")
    assert ds.dataset(tiny_filesystem / "lake/test/events/month=2021-01", format="parquet").count_rows() == 5
