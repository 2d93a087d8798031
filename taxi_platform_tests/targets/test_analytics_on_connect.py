"""The analytics assets on a real Spark Connect server give the local results; RDD-only parts say why they cannot run.

One sample month is built locally (zones, raw -> clean -> core, then the analytics: hourly revenue, the trip-duration
model and its predictions, with their checks). The analytics then run again through Spark Connect on a copy of the
local lake's inputs, and must equal the local results:

- reports/hourly_revenue_by_zone: every row (floats within 1e-9);
- analytics/trip_duration_model: the same model (the training sample is chosen by a hash of each trip, not by the
  partitioning), and analytics/trip_duration_predictions with mapInPandas: every row;
- the RDD check ``rdd_matches_dataframe`` reports WARN with the reason, and the run still succeeds;
- predictions with ``method: map_partitions`` fail with an error saying the RDD API is not on Spark Connect and to
  use map_in_pandas.

Like test_cluster_targets.py these switch this process's Spark session (local -> Connect -> local); conftest runs them
after every other test, and the last one shows the local resource (and its Python workers) works again.
"""

import json
import math
import shutil
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from dagster import AssetSelection, materialize

from taxi_platform.defs.revenue.clean import clean_assets, clean_key
from taxi_platform.defs.revenue.core import TRIPS_KEY, trips
from taxi_platform.defs.analytics.hourly import HOURLY_REVENUE_BY_ZONE_KEY, hourly_assets
from taxi_platform.defs.analytics.predictions import TRIP_DURATION_MODEL_KEY, TRIP_DURATION_PREDICTIONS_KEY, prediction_assets
from taxi_platform.defs.revenue.raw import raw_assets
from taxi_platform.defs.reference.zones import TAXI_ZONES_KEY, taxi_zones
from taxi_platform.defs.analytics.prediction_checks import prediction_checks
from taxi_platform.defs.analytics.hourly_checks import hourly_checks
from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.resources.spark import SparkResource
from taxi_platform_tests.conftest import lake_io_managers

pytestmark = [pytest.mark.cluster, pytest.mark.spark]

MONTH = "2020-01"  # the hourly report keeps pickups from 2020-01-01, as the course
ROWS = 2000
FLOAT_TOLERANCE = 1e-9
ASSETS = [taxi_zones, *raw_assets, *clean_assets, trips, *hourly_assets, *prediction_assets]
CHECKS = [*hourly_checks, *prediction_checks]
ANALYTICS = [HOURLY_REVENUE_BY_ZONE_KEY, TRIP_DURATION_MODEL_KEY, TRIP_DURATION_PREDICTIONS_KEY]
INPUTS = [TAXI_ZONES_KEY, clean_key("green"), clean_key("yellow"), TRIPS_KEY]  # what the analytics read


def resources_on(spark: SparkResource, lake: Path) -> dict:
    return {
        "spark": spark,
        **lake_io_managers(LakeIOManager(lake_root=str(lake), spark=spark)),
        "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=ROWS, sample_seed=23),
    }


def run_analytics(resources: dict, predictions: dict | None = None, raise_on_error: bool = True, keys=ANALYTICS):
    config = {"analytics__trip_duration_predictions": {"config": predictions}} if predictions else {}
    return materialize(ASSETS + CHECKS, resources=resources, partition_key=MONTH, selection=AssetSelection.assets(*keys),
                       run_config={"ops": config}, raise_on_error=raise_on_error)


def rows_of(lake: Path, key, sort_by: tuple) -> list[dict]:
    table = ds.dataset(lake.joinpath(*key.path) / f"month={MONTH}", format="parquet").to_table()
    return sorted(table.to_pylist(), key=lambda r: tuple((r[c] is None, r[c]) for c in sort_by))


def assert_same_rows(got: list[dict], expected: list[dict]) -> None:
    assert len(got) == len(expected) > 50
    for g, e in zip(got, expected):
        assert list(g) == list(e)
        for column, value in e.items():
            if isinstance(value, float):
                assert g[column] is not None and math.isclose(g[column], value, rel_tol=0, abs_tol=FLOAT_TOLERANCE), \
                    (column, g, e)
            else:
                assert g[column] == value, (column, g, e)


def assert_plain_python(value) -> None:
    """No numpy scalar reached Dagster metadata (JSON values walked through)."""
    if type(value) is dict:
        for v in value.values():
            assert_plain_python(v)
    elif type(value) in (list, tuple):  # not isinstance: Dagster's records (TableSchema) are tuples
        for v in value:
            assert_plain_python(v)
    else:
        assert type(value).__module__.split(".")[0] != "numpy", repr(value)


def checks_of(result) -> dict:
    """(asset, check name) -> evaluation."""
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


HOURLY_ORDER = ("hour", "zone")
PREDICTION_ORDER = ("service_type", "pickup_datetime", "PULocationID", "DOLocationID", "trip_distance", "VendorID",
                    "actual_duration")


@pytest.fixture(scope="module")
def local_run(spark_resource, tmp_path_factory):
    lake = tmp_path_factory.mktemp("analytics_local")
    resources = resources_on(spark_resource, lake)
    assert materialize([taxi_zones], resources=resources).success
    upstream = [k for a in [*raw_assets, *clean_assets, trips] for k in a.keys]
    result = run_analytics(resources, keys=upstream + ANALYTICS)
    return lake, result


@pytest.fixture(scope="module")
def connect_resource(connect_server) -> SparkResource:
    return SparkResource(target="connect", remote=connect_server.remote,
                         spark_config={"spark.sql.shuffle.partitions": "4"})


@pytest.fixture(scope="module")
def connect_lake(local_run, tmp_path_factory) -> Path:
    """A lake holding only the analytics' inputs, copied from the local lake."""
    local, _ = local_run
    lake = tmp_path_factory.mktemp("analytics_connect")
    for key in INPUTS:
        shutil.copytree(local.joinpath(*key.path), lake.joinpath(*key.path))
    return lake


@pytest.fixture(scope="module")
def connect_run(local_run, connect_resource, connect_lake):
    return run_analytics(resources_on(connect_resource, connect_lake))


def test_local_analytics_pass_their_checks(local_run):
    _, result = local_run
    assert result.success
    checks = checks_of(result)
    assert len(checks) == len(CHECKS) and all(e.passed for e in checks.values()), \
        {n: e.metadata for n, e in checks.items() if not e.passed}


def test_hourly_revenue_on_connect_equals_local(local_run, connect_run, connect_lake, connect_server):
    local, _ = local_run
    assert connect_run.success
    assert_same_rows(rows_of(connect_lake, HOURLY_REVENUE_BY_ZONE_KEY, HOURLY_ORDER),
                     rows_of(local, HOURLY_REVENUE_BY_ZONE_KEY, HOURLY_ORDER))
    mats = {e.asset_key: e.materialization.metadata for e in connect_run.get_asset_materialization_events()}
    assert set(mats) == set(ANALYTICS)
    for metadata in mats.values():
        assert metadata["spark_target"].value == "connect"
        assert metadata["spark_remote"].value == connect_server.remote
        assert_plain_python({k: v.value for k, v in metadata.items()})  # Connect hands back numpy scalars


def test_model_and_predictions_on_connect_equal_local(local_run, connect_run, connect_lake):
    local, _ = local_run
    (local_model,) = rows_of(local, TRIP_DURATION_MODEL_KEY, ("kind",))
    (connect_model,) = rows_of(connect_lake, TRIP_DURATION_MODEL_KEY, ("kind",))
    got, expected = json.loads(connect_model["model_json"]), json.loads(local_model["model_json"])
    assert got["kind"] == expected["kind"] == "trained"
    assert got["training"] == expected["training"] and got["training"]["rows"] > 1000
    assert got["coefficients"] == pytest.approx(expected["coefficients"], abs=1e-9)
    mats = {e.asset_key: e.materialization.metadata for e in connect_run.get_asset_materialization_events()}
    meta = mats[TRIP_DURATION_PREDICTIONS_KEY]
    assert (meta["method"].value, meta["model"].value) == ("map_in_pandas", "trained")
    assert_same_rows(rows_of(connect_lake, TRIP_DURATION_PREDICTIONS_KEY, PREDICTION_ORDER),
                     rows_of(local, TRIP_DURATION_PREDICTIONS_KEY, PREDICTION_ORDER))


def test_checks_on_connect_pass_and_the_rdd_check_warns_with_the_reason(connect_run, connect_server):
    from dagster import AssetCheckSeverity

    checks = checks_of(connect_run)
    assert set(checks) == {(c.asset_key.to_user_string(), c.name) for d in CHECKS for c in d.check_specs}
    rdd = checks.pop(("reports/hourly_revenue_by_zone", "rdd_matches_dataframe"))
    assert not rdd.passed and rdd.severity == AssetCheckSeverity.WARN
    assert rdd.metadata["skipped"].value is True and rdd.metadata["spark_target"].value == "connect"
    reason = rdd.metadata["error"].value
    assert "needs the SparkContext/RDD API, which Spark target 'connect'" in reason
    assert connect_server.remote in reason and "Run it with target 'local' or 'standalone'" in reason
    assert all(e.passed for e in checks.values()), {n: e.metadata for n, e in checks.items() if not e.passed}
    for evaluation in checks.values():
        assert_plain_python({k: v.value for k, v in evaluation.metadata.items()})


def test_map_partitions_on_connect_fails_clearly(connect_run, connect_resource, connect_lake):
    result = run_analytics(resources_on(connect_resource, connect_lake), predictions={"method": "map_partitions"},
                           raise_on_error=False, keys=[TRIP_DURATION_PREDICTIONS_KEY])
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    message = (error.cause or error).message
    assert "RddUnavailableError" in (error.cause or error).cls_name
    assert "method 'map_partitions' uses the RDD API (df.rdd.mapPartitions), which is not available on Spark " \
           "Connect: use method 'map_in_pandas'" in message


def test_local_resource_and_its_python_workers_work_again(connect_run, spark_resource):
    from taxi_platform.transforms.predictions import predict_with_map_in_pandas

    session = spark_resource.get_session()
    assert type(session).__module__ == "pyspark.sql.session" and session.sparkContext.master == "local[2]"
    trips_df = session.createDataFrame(
        [(1, "2021-01-01 10:00:00", "2021-01-01 10:12:00", 1, 2, 2.5)],
        "VendorID int, pickup string, dropoff string, PULocationID int, DOLocationID int, trip_distance double",
    ).selectExpr("VendorID", "cast(pickup as timestamp) pickup_datetime", "cast(dropoff as timestamp) dropoff_datetime",
                 "PULocationID", "DOLocationID", "trip_distance")
    (row,) = predict_with_map_in_pandas(trips_df).collect()
    assert (row["predicted_duration"], row["actual_duration"]) == (12.5, 12.0)
