"""lake.SplitWrite: two publish-together outputs (like clean + quarantine) written by ONE Spark job over their rows.

Proved with real Dagster runs on the local lake: each output holds exactly its rows and its own schema (the label
column only in the labelled output, its values intact whatever characters they hold), months without rows of one
output are still written, the input is computed once (not once per output), and a failure keeps both old.
"""

import pyarrow.dataset as ds
import pytest
from dagster import AssetKey, AssetOut, BackfillPolicy, Output, materialize, multi_asset

from taxi_platform.io_managers.lake import PUBLISH_TOGETHER_KEY, LakeIOManager, SplitWrite, Together
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.spark import SparkResource

pytestmark = pytest.mark.spark

ROWS = [  # (trip, reason, month)
    (1, None, "2021-01"), (2, "unparseable:fare_amount", "2021-01"), (3, None, "2021-01"),
    (4, "duplicate_row", "2021-02"), (5, "pickup_outside_month", "2021-02"),  # 2021-02: no clean row
    (6, None, "2021-03"), (7, None, "2021-03"),  # 2021-03: nothing quarantined
]


def split_step(rows, counter=None, bad_month=None, observations=None):
    @multi_asset(outs={n: AssetOut(key=AssetKey(["test", n]), io_manager_key="lake_io_manager",
                                   metadata={PUBLISH_TOGETHER_KEY: True}) for n in ("kept", "set_aside")},
                 partitions_def=monthly_partitions, backfill_policy=BackfillPolicy.single_run(), name="split_step")
    def step(context, spark: SparkResource):
        from pyspark.sql import functions as F

        session = spark.get_session()
        df = session.createDataFrame(rows, "trip int, reason string, month string")
        if counter is not None:  # counts every row the job computes: once per row if the input is computed once
            accumulator = counter(session)

            @F.udf("int")
            def seen(trip):
                accumulator.add(1)
                return trip

            df = df.withColumn("trip", seen("trip"))
        if bad_month:
            df = df.withColumn("month", F.when(F.col("trip") == 7, F.lit(bad_month)).otherwise(F.col("month")))
        observe = None
        if observations is not None:  # what the labelled rows alone add up to (like clean's quarantine reasons)
            from pyspark.sql import Observation

            observations.append(Observation(f"set_aside_{len(observations)}"))
            observe = lambda labelled: labelled.observe(observations[-1], F.count(F.lit(1)).alias("rows"),  # noqa: E731
                                                        F.count(F.when(F.col("reason") == "duplicate_row", 1)).alias("copies"))
        split = SplitWrite(df, label="reason", unlabelled="kept", labelled="set_aside", observe_labelled=observe)
        together = Together({"kept": split.part("kept"), "set_aside": split.part("set_aside")})
        yield Output(together, "kept")
        yield Output(together, "set_aside")

    return step


@pytest.fixture
def resources(spark_resource, lake_root):
    return {"spark": spark_resource, "lake_io_manager": LakeIOManager(lake_root=str(lake_root), spark=spark_resource)}


def tags(start, end):
    return {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}


def month(lake_root, name, m):
    return ds.dataset(lake_root / f"test/{name}/month={m}", format="parquet").to_table()


def test_each_output_holds_its_rows_with_its_own_schema_in_one_job(resources, lake_root, spark_resource):
    made = []

    def counter(session):
        made.append(session.sparkContext.accumulator(0))
        return made[0]

    result = materialize([split_step(ROWS, counter)], resources=resources, tags=tags("2021-01", "2021-03"))
    assert result.success
    assert made[0].value == len(ROWS)  # every row computed once for both outputs, not once per output
    kept = {m: sorted(month(lake_root, "kept", m).column("trip").to_pylist()) for m in ("2021-01", "2021-02", "2021-03")}
    assert kept == {"2021-01": [1, 3], "2021-02": [], "2021-03": [6, 7]}
    assert month(lake_root, "kept", "2021-01").schema.names == ["trip"]  # no label column, as if written alone
    aside = {m: sorted(month(lake_root, "set_aside", m).to_pylist(), key=lambda r: r["trip"])
             for m in ("2021-01", "2021-02", "2021-03")}
    assert aside == {
        "2021-01": [{"trip": 2, "reason": "unparseable:fare_amount"}],  # ':' survives the folder name round trip
        "2021-02": [{"trip": 4, "reason": "duplicate_row"}, {"trip": 5, "reason": "pickup_outside_month"}],
        "2021-03": [],
    }
    assert month(lake_root, "set_aside", "2021-03").schema.names == ["trip", "reason"]
    rows = {m.asset_key.to_user_string(): m.metadata["rows_by_month"].data
            for m in (e.event_specific_data.materialization for e in result.get_asset_materialization_events())}
    assert rows == {"test/kept": {"2021-01": 2, "2021-02": 0, "2021-03": 2},
                    "test/set_aside": {"2021-01": 1, "2021-02": 2, "2021-03": 0}}
    assert not [p for p in (lake_root / "_staging").iterdir() if not p.name.endswith(".lock")]


def test_a_failed_split_write_keeps_both_outputs_old(resources, lake_root):
    assert materialize([split_step(ROWS)], resources=resources, tags=tags("2021-01", "2021-03")).success
    failed = materialize([split_step([(9, None, "2021-03"), (7, "x", "2021-03")], bad_month="2020-12")],
                         resources=resources, partition_key="2021-03", raise_on_error=False)
    assert not failed.success
    assert "outside this run's partitions" in str(failed.get_step_failure_events()[0].step_failure_data.error)
    assert sorted(month(lake_root, "kept", "2021-03").column("trip").to_pylist()) == [6, 7]
    assert month(lake_root, "set_aside", "2021-03").num_rows == 0


def test_observe_labelled_sees_the_labelled_rows_alone_and_fires_without_any(resources, lake_root):
    observations = []
    assert materialize([split_step(ROWS, observations=observations)], resources=resources,
                       tags=tags("2021-01", "2021-03")).success
    assert observations[0].get == {"rows": 3, "copies": 1}  # the 3 labelled rows of ROWS, not all 7
    nothing_labelled = [(8, None, "2021-03"), (9, None, "2021-03")]
    assert materialize([split_step(nothing_labelled, observations=observations)], resources=resources,
                       partition_key="2021-03").success
    assert observations[1].get == {"rows": 0, "copies": 0}  # delivered (no wait for metrics that never come)
    assert sorted(month(lake_root, "kept", "2021-03").column("trip").to_pylist()) == [8, 9]
