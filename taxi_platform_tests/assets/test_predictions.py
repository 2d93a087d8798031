"""analytics/trip_duration_model and analytics/trip_duration_predictions through Dagster on one sample month.

One lake, in order: raw -> clean -> core/trips; predictions alone (no model yet: the course's stand-in, mapInPandas);
predictions asking for a trained model that does not exist (a clear failure); then model + predictions with the
course's mapPartitions and every check.
"""

import json
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from dagster import AssetSelection, materialize

from taxi_platform.defs.revenue.clean import clean_assets
from taxi_platform.defs.revenue.core import TRIPS_KEY, trips
from taxi_platform.defs.analytics.predictions import (
    TRIP_DURATION_MODEL_KEY,
    TRIP_DURATION_PREDICTIONS_KEY,
    prediction_assets,
)
from taxi_platform.defs.revenue.raw import raw_assets
from taxi_platform.defs.analytics.prediction_checks import prediction_checks
from taxi_platform.transforms.duration_model import HOUR_BANDS, TRAINED_FEATURES

pytestmark = pytest.mark.spark

MONTH = "2021-03"
ASSETS = [*raw_assets, *clean_assets, trips, *prediction_assets]
UPSTREAM = AssetSelection.assets(*[a.key for a in [*raw_assets, trips]], *[k for a in clean_assets for k in a.keys])


def run(resources, selection, config=None, checks=False, raise_on_error=True):
    return materialize(
        ASSETS + (prediction_checks if checks else []), resources=resources, partition_key=MONTH,
        selection=selection, run_config={"ops": config or {}}, raise_on_error=raise_on_error,
    )


def predictions_config(**config) -> dict:
    return {"analytics__trip_duration_predictions": {"config": config}}


def stored(lake: Path, key) -> list[dict]:
    return ds.dataset(lake.joinpath(*key.path) / f"month={MONTH}", format="parquet").to_table().to_pylist()


def materialization(result, key):
    (mat,) = [e.materialization for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in mat.metadata.items()}


@pytest.fixture(scope="module")
def lake(spark_resource, tmp_path_factory):
    from taxi_platform.io_managers.lake import LakeIOManager
    from taxi_platform.resources.sources import TaxiSourceResource
    from taxi_platform_tests.conftest import lake_io_managers

    root = tmp_path_factory.mktemp("predictions-lake")
    resources = {
        "spark": spark_resource,
        **lake_io_managers(LakeIOManager(lake_root=str(root), spark=spark_resource)),
        "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=3000, sample_seed=7),
    }
    assert run(resources, UPSTREAM).success
    return root, resources


@pytest.fixture(scope="module")
def stand_in_run(lake):
    root, resources = lake
    result = run(resources, AssetSelection.assets(TRIP_DURATION_PREDICTIONS_KEY))  # defaults: auto, map_in_pandas
    return result, stored(root, TRIP_DURATION_PREDICTIONS_KEY)


@pytest.fixture(scope="module")
def trained_run(lake, stand_in_run):
    root, resources = lake
    result = run(resources, AssetSelection.assets(TRIP_DURATION_MODEL_KEY, TRIP_DURATION_PREDICTIONS_KEY),
                 config=predictions_config(method="map_partitions", model="trained"), checks=True)
    return result, stored(root, TRIP_DURATION_MODEL_KEY), stored(root, TRIP_DURATION_PREDICTIONS_KEY)


def test_without_a_model_predictions_use_the_stand_in(lake, stand_in_run):
    root, _ = lake
    result, rows = stand_in_run
    assert result.success
    meta = materialization(result, TRIP_DURATION_PREDICTIONS_KEY)
    assert (meta["method"], meta["model"]) == ("map_in_pandas", "stand_in")
    assert meta["model_by_month"] == {MONTH: "stand_in"}
    trips_rows = len(stored(root, TRIPS_KEY))
    assert len(rows) == meta["dagster/row_count"] == trips_rows > 4000
    assert all(r["predicted_duration"] == r["trip_distance"] * 5 for r in rows)
    assert {r["service_type"] for r in rows} == {"green", "yellow"}


def test_asking_for_a_trained_model_that_does_not_exist_fails_clearly(lake, stand_in_run):
    _, resources = lake
    result = run(resources, AssetSelection.assets(TRIP_DURATION_PREDICTIONS_KEY),
                 config=predictions_config(model="trained"), raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.cause.message
    assert f"analytics/trip_duration_model has no trained model for months ['{MONTH}']" in message
    assert "materialize it for those months first" in message


def test_model_is_trained_from_the_month_and_stored(trained_run):
    result, model_rows, _ = trained_run
    assert result.success
    (row,) = model_rows
    model = json.loads(row["model_json"])
    assert row["kind"] == model["kind"] == "trained"
    assert model["features"] == list(TRAINED_FEATURES)
    coefficients = dict(zip(model["features"], model["coefficients"]))
    # the sample generator's speeds: 17 mph at night (3.5 min/mile), 10 mph in the day (6 min/mile), plus stops
    assert 2.5 < coefficients["trip_distance"] < 4.5
    assert 4.5 < coefficients["trip_distance"] + coefficients["trip_distance:hour_10_15"] < 7.5
    assert 0 < coefficients["intercept"] < 4
    training = model["training"]
    assert training["month"] == MONTH and training["rows"] == row["trained_rows"]
    assert 0 < training["excluded_by_filter"] < 0.1 * training["candidate_rows"]  # zero distances, mostly
    assert training["rows"] + training["excluded_by_filter"] == training["candidate_rows"]
    metrics = model["metrics"]
    assert metrics["rmse_minutes"] == row["rmse_minutes"] < metrics["stand_in_rmse_minutes"]
    assert metrics["r2"] > 0.6
    meta = materialization(result, TRIP_DURATION_MODEL_KEY)
    assert meta["trained_rows"] == training["rows"] and meta["rmse_minutes"] == metrics["rmse_minutes"]
    assert meta["models"][MONTH]["coefficients"] == model["coefficients"]
    assert "| trip_distance:hour_10_15 |" in meta["coefficients"]


def test_predictions_apply_the_trained_model_with_map_partitions(lake, stand_in_run, trained_run):
    root, _ = lake
    result, model_rows, rows = trained_run
    meta = materialization(result, TRIP_DURATION_PREDICTIONS_KEY)
    assert (meta["method"], meta["model"]) == ("map_partitions", "trained")
    c = dict(zip(TRAINED_FEATURES, json.loads(model_rows[0]["model_json"])["coefficients"]))
    assert len(rows) == len(stored(root, TRIPS_KEY))
    for r in rows:  # the model's formula, written out independently of the numpy code
        d, hour = r["trip_distance"], r["pickup_datetime"].hour
        expected = c["intercept"] + c["trip_distance"] * d
        for band, start, stop in HOUR_BANDS:
            if start <= hour < stop:
                expected += c[band] + c[f"trip_distance:{band}"] * d
        assert r["predicted_duration"] == pytest.approx(max(expected, 0.0), rel=1e-12, abs=1e-9)
        assert 0 <= r["actual_duration"] <= 24 * 60  # clean trips: no dropoff before pickup, none over 24 h
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"schema_matches_contract", "rows_reconcile_with_trips", "predictions_valid",
                           "beats_stand_in"}
    assert all(e.passed for e in checks.values()), {n: e.metadata for n, e in checks.items()}
    valid = {k: v.value for k, v in checks["predictions_valid"].metadata.items()}
    assert valid["rows"] == len(rows) and valid["negative_predictions"] == 0
    # the trained model is closer to the real durations than the course's stand-in was, on the same trips
    stand_in_rows = stand_in_run[1]
    stand_in_mae = sum(abs(r["predicted_duration"] - r["actual_duration"]) for r in stand_in_rows) / len(stand_in_rows)
    assert 0 < valid["mae_minutes"] < 0.8 * stand_in_mae
    reconcile = {k: v.value for k, v in checks["rows_reconcile_with_trips"].metadata.items()}
    assert reconcile["rows"] == reconcile["trips"] == len(rows)
