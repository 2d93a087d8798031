"""The trip-duration model (numpy least squares, JSON) and the two ways to apply it per partition (RDD, Arrow)."""

from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pytest

from taxi_platform.transforms.duration_model import (
    STAND_IN,
    TRAINED,
    TRAINED_FEATURES,
    DurationModel,
    ModelError,
    design_matrix,
    fit_duration_model,
    fit_monthly_models,
    models_from_dataframe,
    models_to_dataframe,
    stand_in_model,
)
from taxi_platform.transforms.predictions import (
    PREDICTIONS_SCHEMA,
    ModelChoice,
    predict_durations,
    predict_with_map_in_pandas,
    predict_with_map_partitions,
)

# duration = 2 min + 3.5 min/mile at night; rush hours slower, late evening a bit faster
TRUE = dict(zip(TRAINED_FEATURES, [2.0, 3.5, 1.0, 1.5, 2.0, 0.5, 1.2, 2.5, 2.0, 0.3]))
OTHER = dict(zip(TRAINED_FEATURES, [1.0, 4.0, 0.0, 3.0, 0.0, 0.0, 0.0, 1.0, 0.5, -0.5]))
TRIPS_DDL = ("VendorID int, pickup_datetime timestamp, dropoff_datetime timestamp, PULocationID int, "
             "DOLocationID int, trip_distance double, service_type string, month string")


def synthetic(coefficients: dict, n: int, seed: int, noise: float = 0.0):
    """(distance, hour, minutes) drawn at random, minutes from the model with the given coefficients."""
    rng = np.random.default_rng(seed)
    distance = rng.uniform(0.2, 15.0, n)
    hour = rng.integers(0, 24, n).astype(float)
    x = design_matrix(TRAINED_FEATURES, distance, hour)
    minutes = x @ np.array([coefficients[f] for f in TRAINED_FEATURES]) + rng.normal(0.0, noise, n)
    return distance, hour, minutes


def trips_rows(coefficients: dict, month: str, n: int, seed: int) -> list[tuple]:
    """Trips of ``month`` whose durations follow ``coefficients`` exactly (to the microsecond)."""
    year, mon = map(int, month.split("-"))
    rng = np.random.default_rng(seed)
    distance, hour, minutes = synthetic(coefficients, n, seed)
    rows = []
    for i in range(n):
        pickup = datetime(year, mon, 1 + int(rng.integers(0, 28)), int(hour[i]), int(rng.integers(0, 60)))
        dropoff = pickup + timedelta(microseconds=round(minutes[i] * 60e6))
        rows.append((1 + i % 2, pickup, dropoff, 1 + i % 263, 1 + (i * 7) % 263, float(distance[i]),
                     ("green", "yellow")[i % 2], month))
    return rows


# ---- the model, numpy only ------------------------------------------------------------------------------------------
def test_least_squares_recovers_known_coefficients():
    distance, hour, minutes = synthetic(TRUE, 5000, seed=1, noise=0.5)
    model = fit_duration_model(distance, hour, minutes, {"month": "2021-01"})
    assert model.kind == TRAINED and model.features == TRAINED_FEATURES
    for feature, value in model.coefficient_table().items():
        assert value == pytest.approx(TRUE[feature], abs=0.15), feature
    assert model.training == {"month": "2021-01", "rows": 5000, "rank": len(TRAINED_FEATURES)}
    assert model.metrics["rmse_minutes"] == pytest.approx(0.5, abs=0.03)  # the noise we added
    assert model.metrics["r2"] > 0.99
    assert model.metrics["stand_in_rmse_minutes"] > 3 * model.metrics["rmse_minutes"]


def test_model_is_plain_json_and_round_trips():
    distance, hour, minutes = synthetic(TRUE, 500, seed=2)
    model = fit_duration_model(distance, hour, minutes)
    text = model.to_json()
    back = DurationModel.from_json(text)
    assert back == model and back.metrics == model.metrics and back.training == model.training
    assert np.array_equal(back.predict(distance, hour), model.predict(distance, hour))
    with pytest.raises(ModelError, match="unknown feature 'trip_distance:hour_25_26'"):
        DurationModel(("intercept", "trip_distance:hour_25_26"), (1.0, 2.0))
    with pytest.raises(ModelError, match="2 features but 1 coefficients"):
        DurationModel(("intercept", "trip_distance"), (1.0,))


def test_stand_in_is_distance_times_five_and_nulls_stay_null():
    distance = np.array([0.0, 1.0, 2.37, 12.5, np.nan])
    predicted = stand_in_model().predict(distance)
    assert np.array_equal(predicted[:4], distance[:4] * 5)
    assert np.isnan(predicted[4])
    trained = DurationModel(TRAINED_FEATURES, tuple(TRUE.values()))
    # a model that uses the hour gives null without one, and never a negative duration
    assert np.isnan(trained.predict([3.0], [None])).all()
    negative = DurationModel(("intercept", "trip_distance"), (-10.0, 1.0))
    assert negative.predict([1.0, 20.0]).tolist() == [0.0, 10.0]


def test_a_prediction_does_not_depend_on_its_batch():
    distance, hour, _ = synthetic(TRUE, 1001, seed=3)
    model = DurationModel(TRAINED_FEATURES, tuple(OTHER.values()))
    whole = model.predict(distance, hour)
    pieces = np.concatenate([model.predict(distance[i:i + 7], hour[i:i + 7]) for i in range(0, 1001, 7)])
    assert np.array_equal(whole, pieces)  # bit for bit


def test_too_few_rows_give_the_stand_in():
    model = fit_duration_model([1.0, 2.0], [3, 4], [5.0, 9.0])
    assert model.kind == STAND_IN and model.coefficient_table() == {"trip_distance": 5.0}
    assert "too few" in model.training["reason"]


# ---- with Spark -----------------------------------------------------------------------------------------------------
JANUARY = 1200  # synthetic January trips
ABSURD = [  # (distance, minutes): rows the training filter must leave out
    (0.0, 12.0),  # zero distance
    (250.0, 170.0),  # odometer error
    (3.0, 0.5),  # under a minute
    (2.0, 600.0),  # meter left running
    (40.0, 10.0),  # 240 mph
]


@pytest.fixture(scope="module")
def trips(spark):
    rows = trips_rows(TRUE, "2021-01", JANUARY, seed=4) + trips_rows(OTHER, "2021-02", 800, seed=5)
    start = datetime(2021, 1, 9, 12, 0)
    for i, (distance, minutes) in enumerate(ABSURD):
        rows.append((9, start, start + timedelta(minutes=minutes), 5, 6, distance, "green", "2021-01"))
    # nulls (no vendor, no distance) must come through both methods; vendor 9 = absurd rows, 3 = special rows
    fits = float(DurationModel(TRAINED_FEATURES, tuple(OTHER.values())).predict([2.0], [start.hour])[0])
    rows.append((None, start, start + timedelta(minutes=fits), 7, 8, 2.0, "yellow", "2021-02"))  # fits February
    rows.append((3, start, start + timedelta(minutes=9), 7, 8, None, "yellow", "2021-02"))
    # a month the models do not cover: the stand-in applies
    rows.append((3, datetime(2021, 3, 2, 8), datetime(2021, 3, 2, 8, 20), 7, 8, 3.0, "green", "2021-03"))
    return spark.createDataFrame(rows, TRIPS_DDL).repartition(3).cache()


@pytest.fixture(scope="module")
def monthly_models(trips):
    return fit_monthly_models(trips, ["2021-01", "2021-02", "2021-04"])


@pytest.mark.spark
def test_one_model_per_month_from_the_filtered_trips(monthly_models):
    january, february, april = (monthly_models[m] for m in ("2021-01", "2021-02", "2021-04"))
    for model, truth in ((january, TRUE), (february, OTHER)):
        assert model.kind == TRAINED
        for feature, value in model.coefficient_table().items():
            assert value == pytest.approx(truth[feature], abs=1e-6), feature  # exact data: exact fit
        assert model.metrics["r2"] == pytest.approx(1.0)
    assert january.training["candidate_rows"] == JANUARY + len(ABSURD)
    assert january.training["excluded_by_filter"] == len(ABSURD)
    assert january.training["rows"] == JANUARY
    assert february.training["excluded_by_filter"] == 1  # the null distance
    assert april.kind == STAND_IN and april.training["rows"] == 0
    assert "no trips of 2021-04" in april.training["reason"]


@pytest.mark.spark
def test_the_training_sample_is_capped_and_deterministic(trips):
    first = fit_monthly_models(trips, ["2021-01"], max_rows_per_month=400)["2021-01"]
    again = fit_monthly_models(trips.repartition(5), ["2021-01"], max_rows_per_month=400)["2021-01"]
    assert 300 <= first.training["rows"] <= 500
    assert again.training["rows"] == first.training["rows"] and again.coefficients == first.coefficients
    assert first.coefficient_table()["trip_distance"] == pytest.approx(TRUE["trip_distance"], abs=1e-6)


@pytest.mark.spark
def test_models_round_trip_through_a_dataframe(spark, monthly_models):
    df = models_to_dataframe(spark, monthly_models)
    assert df.columns == ["kind", "trained_rows", "rmse_minutes", "r2", "stand_in_rmse_minutes", "model_json", "month"]
    rows = {r["month"]: r for r in df.collect()}
    assert (rows["2021-01"]["kind"], rows["2021-01"]["trained_rows"]) == (TRAINED, JANUARY)
    assert rows["2021-04"]["kind"] == STAND_IN and rows["2021-04"]["rmse_minutes"] is None
    back = models_from_dataframe(df)
    assert back == monthly_models
    assert back["2021-02"].metrics == monthly_models["2021-02"].metrics


@pytest.fixture(scope="module")
def both_methods(trips, monthly_models):
    choice = ModelChoice(by_month=monthly_models)
    return (
        predict_with_map_partitions(trips, choice).collect(),
        predict_with_map_in_pandas(trips, choice).collect(),
    )


@pytest.mark.spark
def test_map_partitions_and_map_in_pandas_agree_on_every_row(both_methods, trips):
    by_rdd, by_arrow = both_methods
    assert len(by_rdd) == len(by_arrow) == trips.count()
    assert list(by_rdd[0].asDict()) == [n for n, _ in PREDICTIONS_SCHEMA] + ["month"]
    assert Counter(tuple(r) for r in by_rdd) == Counter(tuple(r) for r in by_arrow)  # every value, bit for bit


@pytest.mark.spark
def test_predictions_are_the_months_models(both_methods):
    _, rows = both_methods
    for r in rows:
        if r["trip_distance"] is None:
            assert r["predicted_duration"] is None
        elif r["month"] == "2021-03":  # no model for March: the course's stand-in
            assert r["predicted_duration"] == r["trip_distance"] * 5
        elif r["VendorID"] in (1, 2):  # the synthetic trips: the trained model reproduces their durations
            assert r["predicted_duration"] == pytest.approx(r["actual_duration"], abs=1e-6), r
    vendorless = [r for r in rows if r["VendorID"] is None]
    assert len(vendorless) == 1 and vendorless[0]["predicted_duration"] is not None


@pytest.mark.spark
def test_stand_in_through_spark_is_distance_times_five(trips):
    for method in ("map_in_pandas", "map_partitions"):
        rows = predict_durations(trips, method=method).select("trip_distance", "predicted_duration").collect()
        assert all(r[1] == (None if r[0] is None else r[0] * 5) for r in rows), method
    with pytest.raises(ValueError, match="method must be one of"):
        predict_durations(trips, method="udf")
