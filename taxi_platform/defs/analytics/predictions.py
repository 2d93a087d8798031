"""analytics/trip_duration_model and analytics/trip_duration_predictions: the course's mapPartitions with a real model.

- ``analytics/trip_duration_model``: one tiny linear model per month (duration in minutes on trip distance and pickup
  hour band, ``transforms/duration_model.py``), least squares with numpy on a deterministic sample of that month's
  ``core/trips`` (green + yellow) after a training filter. Stored in the lake as one row per month: ``model_json``
  (features, coefficients, what it was trained on, fit metrics) beside readable ``kind``, ``trained_rows``,
  ``rmse_minutes``, ``r2`` and ``stand_in_rmse_minutes`` columns.
- ``analytics/trip_duration_predictions``: every trip of the month with ``predicted_duration`` (and the actual one),
  computed per Spark partition in pandas (``transforms/predictions.py``). Config:

  - ``method``: ``map_in_pandas`` (default: Arrow batches, every target, Spark Connect included) or
    ``map_partitions`` (the course's ``df.rdd.mapPartitions``: classic Spark only; on Spark Connect the run fails
    with an error saying the RDD API is not available there and to use ``map_in_pandas``).
  - ``model``: ``auto`` (default): each month's trained model where the lake holds one, else the course's stand-in
    ``duration = trip_distance * 5``; ``trained``: fail unless every month of the run has a trained model;
    ``stand_in``: the stand-in for every month.

  The model is an *optional* input: the lake IO manager hands over only the months it holds (``lake/optional``), so
  predictions can be materialized on their own before any model exists. In the ``course_analytics`` job the model is
  materialized first, in the same run, so ``auto`` uses it.
"""

from typing import Literal

from dagster import AssetExecutionContext, AssetIn, AssetKey, Config, MetadataValue, Output
from pydantic import Field

from taxi_platform.defs.monthly import monthly_lake_asset
from taxi_platform.defs.revenue.core import TRIPS_KEY
from taxi_platform.io_managers.lake import OPTIONAL_INPUT_KEY
from taxi_platform.transforms.duration_model import (
    DEFAULT_MAX_TRAINING_ROWS,
    MODEL_SCHEMA,
    STAND_IN,
    TRAINED,
    stand_in_model,
)
from taxi_platform.transforms.predictions import PREDICTIONS_SCHEMA

TRIP_DURATION_MODEL_KEY = AssetKey(["analytics", "trip_duration_model"])
TRIP_DURATION_PREDICTIONS_KEY = AssetKey(["analytics", "trip_duration_predictions"])


class TripDurationModelConfig(Config):
    max_training_rows_per_month: int = Field(
        default=DEFAULT_MAX_TRAINING_ROWS,
        description="At most this many trips per month (a deterministic sample of those passing the training "
        "filter) are collected to the driver and fitted.",
    )


def _coefficients_markdown(models: dict) -> str:
    months = sorted(models)
    features = list(dict.fromkeys(f for m in months for f in models[m].features))
    lines = ["| feature | " + " | ".join(months) + " |", "|---|" + "---|" * len(months)]
    for feature in features:
        cells = [models[m].coefficient_table().get(feature) for m in months]
        lines.append(f"| {feature} | " + " | ".join("" if c is None else f"{c:.4f}" for c in cells) + " |")
    return "\n".join(lines)


@monthly_lake_asset(
    key=TRIP_DURATION_MODEL_KEY,
    ins={"trips": AssetIn(key=TRIPS_KEY)},
    contract=MODEL_SCHEMA,
    files_per_partition=1,
    group_name="analytics",
    kinds={"spark", "numpy"},
    description="A tiny trip-duration model per month: duration (minutes) = intercept + minutes per mile x "
    "trip_distance, each adjusted per pickup-hour band; least squares (numpy) on a sample of the month's core/trips "
    "without absurd durations, distances and speeds. One row per month: model_json plus RMSE, R2 and rows trained on.",
)
def trip_duration_model(context: AssetExecutionContext, config: TripDurationModelConfig, trips) -> Output:
    from taxi_platform.transforms.duration_model import fit_monthly_models, models_to_dataframe

    months = list(context.partition_keys)
    models = fit_monthly_models(trips, months, max_rows_per_month=config.max_training_rows_per_month)
    for month, model in models.items():
        if model.kind == STAND_IN:
            context.log.warning(f"{month}: no model trained ({model.training.get('reason')}); stored the stand-in")
        else:
            context.log.info(
                f"{month}: trained on {model.training['rows']} trips, RMSE {model.metrics['rmse_minutes']:.2f} min "
                f"(stand-in {model.metrics['stand_in_rmse_minutes']:.2f} min), R2 {model.metrics['r2']:.3f}"
            )
    trained = [m for m in models.values() if m.kind == TRAINED]
    metadata = {
        "coefficients": MetadataValue.md(_coefficients_markdown(models)),
        "models": MetadataValue.json({m: model.as_dict() for m, model in sorted(models.items())}),
        "trained_rows": sum(int(m.training.get("rows", 0)) for m in models.values()),
        "months_trained": len(trained),
        "months_stand_in": len(models) - len(trained),
    }
    if trained:  # for a range of months: the worst month
        metadata["rmse_minutes"] = max(float(m.metrics["rmse_minutes"]) for m in trained)
        metadata["stand_in_rmse_minutes"] = max(float(m.metrics["stand_in_rmse_minutes"]) for m in trained)
        metadata["r2"] = min(float(m.metrics["r2"] or 0.0) for m in trained)
    return Output(models_to_dataframe(trips.sparkSession, models), metadata=metadata)


class TripDurationPredictionsConfig(Config):
    method: Literal["map_in_pandas", "map_partitions"] = Field(
        default="map_in_pandas",
        description="map_in_pandas: Arrow batches, works on every Spark target (use this). map_partitions: the "
        "course's df.rdd.mapPartitions, rows pickled one by one; classic Spark only (not Spark Connect).",
    )
    model: Literal["auto", "trained", "stand_in"] = Field(
        default="auto",
        description="auto: each month's trained model where analytics/trip_duration_model holds one, else the "
        "course's stand-in (trip_distance * 5). trained: fail unless every month has one. stand_in: always the stand-in.",
    )


def choose_models(config: TripDurationPredictionsConfig, months: list, stored):
    """The ModelChoice for the run and, per month, which model it uses; ``stored`` is the optional model input."""
    from taxi_platform.transforms.duration_model import models_from_dataframe
    from taxi_platform.transforms.predictions import ModelChoice

    if config.model == STAND_IN:
        return ModelChoice(), {m: STAND_IN for m in months}
    by_month = models_from_dataframe(stored) if stored is not None else {}
    by_month = {m: model for m, model in by_month.items() if m in months}
    if config.model == TRAINED:
        missing = [m for m in months if m not in by_month or by_month[m].kind != TRAINED]
        if missing:
            raise ValueError(
                f"trip_duration_predictions: model 'trained' was asked for, but "
                f"{TRIP_DURATION_MODEL_KEY.to_user_string()} has no trained model for months {missing}: materialize "
                "it for those months first (it needs trips that pass the training filter), or use model 'auto'"
            )
    choice = ModelChoice(by_month=by_month, default=stand_in_model())
    return choice, {m: (by_month[m].kind if m in by_month else STAND_IN) for m in months}


@monthly_lake_asset(
    key=TRIP_DURATION_PREDICTIONS_KEY,
    ins={
        "trips": AssetIn(key=TRIPS_KEY),
        # optional: the lake hands over only the months it holds (None if none); see the module docstring
        "model": AssetIn(key=TRIP_DURATION_MODEL_KEY, metadata={OPTIONAL_INPUT_KEY: True}),
    },
    contract=PREDICTIONS_SCHEMA,
    files_per_partition=8,  # as core/trips, whose splits it keeps (a file per split of a month)
    group_name="analytics",
    kinds={"spark", "pandas"},
    description="Every trip of core/trips (VendorID, pickup, zones, distance, service_type) with predicted_duration "
    "in minutes, computed per Spark partition in pandas (config method: map_in_pandas, the default, or the course's "
    "map_partitions) by the month's trained model, or the course's stand-in trip_distance * 5 where none exists "
    "(config model: auto | trained | stand_in); actual_duration beside it.",
)
def trip_duration_predictions(
    context: AssetExecutionContext, config: TripDurationPredictionsConfig, trips, model
) -> Output:
    from taxi_platform.transforms.predictions import predict_durations

    months = list(context.partition_keys)
    models, used = choose_models(config, months, model)
    context.log.info(f"trip-duration predictions with {config.method}: models {used}")
    predictions = predict_durations(trips, models, method=config.method)
    kinds = set(used.values())
    return Output(
        predictions,
        metadata={
            "method": config.method,
            "model": kinds.pop() if len(kinds) == 1 else "mixed",
            "model_by_month": MetadataValue.json(used),
            "coefficients": MetadataValue.json(
                {m: (models.by_month.get(m) or models.default).coefficient_table() for m in months}
            ),
        },
    )


prediction_assets = [trip_duration_model, trip_duration_predictions]
