"""A tiny trip-duration model: linear least squares on trip distance and pickup hour, serialisable as plain JSON.

The model (``DurationModel``) predicts the trip's duration in minutes (dropoff - pickup) from ``trip_distance``
(miles) and ``pickup_hour`` (0..23, taken by Spark in the session time zone: the TLC's wall-clock hour):

    duration = intercept + pace * distance                      (night, 00-05, the base band)
             + band_b + pace_b * distance                       (for the pickup's hour band b)

i.e. per hour band an intercept (time spent whatever the distance: waiting, stops) and minutes per mile (traffic).
The features are named ``intercept``, ``trip_distance``, ``hour_06_09`` ... and ``trip_distance:hour_06_09`` ...;
the bands are 00-05 (base), 06-09, 10-15, 16-19, 20-23. Predictions are clipped at 0 (a duration is never negative);
a null distance (or a null hour, for a model that uses the hour) gives a null prediction.

The course's stand-in (``stand_in_model()``, duration = trip_distance * 5) is the same class with one feature, used
when no trained model exists.

Training (``fit_monthly_models``) takes a deterministic sample of the month's trips that pass the training filter,
brings it to the driver (Arrow) and solves with ``numpy.linalg.lstsq``. The filter keeps trips a distance can explain
(see ``TRAINING_FILTER``): rows the clean rules rightly keep as real trips but that would dominate a squared-error fit:

- ``trip_distance`` in (0, 100] miles: zero-distance trips (cancelled, GPS lost: 1-2 % of the TLC's rows) have
  durations unrelated to distance; hundreds of miles are odometer errors;
- duration in [1, 180] minutes: under a minute is a cancelled or test trip; hours-long trips are meters left running;
- average speed in [1, 60] mph: 30 miles in 3 minutes, or 1 mile in 3 hours, is not a trip a model should learn.

``predict`` computes each row as a fixed sum over the features (no matrix product), so a row's prediction depends
only on its own values, never on the batch it arrives in: mapPartitions and mapInPandas give bit-identical results.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Sequence

if TYPE_CHECKING:  # numpy and pandas are imported by the functions that compute, not when the definitions load
    import numpy as np
    import pandas as pd

TARGET = "duration_minutes"
STAND_IN_MINUTES_PER_MILE = 5.0
TRAINED, STAND_IN = "trained", "stand_in"

# (name, first hour, last hour + 1): hour bands with their own intercept and pace; 00-05 is the base band.
HOUR_BANDS: tuple[tuple[str, int, int], ...] = (
    ("hour_06_09", 6, 10),
    ("hour_10_15", 10, 16),
    ("hour_16_19", 16, 20),
    ("hour_20_23", 20, 24),
)
TRAINED_FEATURES: tuple[str, ...] = (
    "intercept",
    "trip_distance",
    *[name for name, _, _ in HOUR_BANDS],
    *[f"trip_distance:{name}" for name, _, _ in HOUR_BANDS],
)
STAND_IN_FEATURES: tuple[str, ...] = ("trip_distance",)

# The training filter (explained in the module docstring); recorded in every model's JSON.
TRAINING_FILTER: dict[str, float] = {
    "min_distance_miles_exclusive": 0.0,
    "max_distance_miles": 100.0,
    "min_duration_minutes": 1.0,
    "max_duration_minutes": 180.0,
    "min_speed_mph": 1.0,
    "max_speed_mph": 60.0,
}
DEFAULT_MAX_TRAINING_ROWS = 200_000  # per month: a 2-4 MB sample on the driver; the fit takes milliseconds
SAMPLE_BUCKETS = 1_000_000


class ModelError(ValueError):
    """A model JSON that cannot be used (unknown feature, wrong shape)."""


_BANDS = {name: (start, stop) for name, start, stop in HOUR_BANDS}


def feature_column(name: str, distance: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """One feature's values (float64) for arrays of distance (miles) and pickup hour (NaN where unknown)."""
    import numpy as np

    if name not in TRAINED_FEATURES:
        raise ModelError(f"unknown feature {name!r}: known features are {list(TRAINED_FEATURES)}")
    if name == "intercept":
        return np.ones_like(distance)
    if name == "trip_distance":
        return distance
    scaled, _, band = name.rpartition(":")  # "hour_06_09" or "trip_distance:hour_06_09"
    start, stop = _BANDS[band]
    with np.errstate(invalid="ignore"):
        indicator = np.where(np.isnan(hour), np.nan, ((hour >= start) & (hour < stop)).astype("float64"))
    return indicator * distance if scaled else indicator


def design_matrix(features: Sequence[str], distance: np.ndarray, hour: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.column_stack([feature_column(f, distance, hour) for f in features])


def as_float_array(values: Any) -> np.ndarray:
    """A pandas column / list with None or NaN -> float64 array with NaN (ints, Python objects, Arrow-backed)."""
    import numpy as np
    import pandas as pd  # here, not at import: loading the definitions does not need pandas

    if isinstance(values, pd.Series):
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray([np.nan if v is None else v for v in values], dtype="float64")


@dataclass(frozen=True)
class DurationModel:
    """A linear model of trip duration (minutes); ``kind`` is ``trained`` or ``stand_in``."""

    features: tuple[str, ...]
    coefficients: tuple[float, ...]
    kind: str = TRAINED
    training: dict = field(default_factory=dict, compare=False)  # rows, filter, month: what it learned from
    metrics: dict = field(default_factory=dict, compare=False)  # rmse_minutes, r2, ... on the training sample

    def __post_init__(self) -> None:
        if len(self.features) != len(self.coefficients):
            raise ModelError(f"{len(self.features)} features but {len(self.coefficients)} coefficients")
        if self.kind not in (TRAINED, STAND_IN):
            raise ModelError(f"model kind must be {TRAINED!r} or {STAND_IN!r}, not {self.kind!r}")
        import numpy as np

        for name in self.features:
            feature_column(name, np.zeros(1), np.zeros(1))  # validates the name

    @property
    def uses_hour(self) -> bool:
        return any(f not in ("intercept", "trip_distance") for f in self.features)

    def predict(self, distance: Any, hour: Any = None) -> np.ndarray:
        """Predicted minutes (>= 0, NaN where an input the model uses is null), one per row."""
        import numpy as np

        distance = as_float_array(distance)
        hour = np.full(distance.shape, np.nan) if hour is None else as_float_array(hour)
        if hour.shape != distance.shape:
            raise ValueError(f"{distance.shape[0]} distances but {hour.shape[0]} hours")
        total = np.zeros(distance.shape, dtype="float64")
        for name, coefficient in zip(self.features, self.coefficients):
            total = total + coefficient * feature_column(name, distance, hour)
        if self.uses_hour:
            total[np.isnan(hour)] = np.nan
        return np.maximum(total, 0.0)  # NaN stays NaN

    def predict_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Predictions for a pandas frame with ``trip_distance`` and ``pickup_hour`` columns."""
        return self.predict(frame["trip_distance"], frame["pickup_hour"] if "pickup_hour" in frame else None)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "target": TARGET,
            "features": list(self.features),
            "coefficients": [float(c) for c in self.coefficients],
            "training": self.training,
            "metrics": self.metrics,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DurationModel":
        if data.get("target", TARGET) != TARGET:
            raise ModelError(f"model target is {data.get('target')!r}, not {TARGET!r}")
        try:
            return cls(
                features=tuple(data["features"]),
                coefficients=tuple(float(c) for c in data["coefficients"]),
                kind=data.get("kind", TRAINED),
                training=dict(data.get("training") or {}),
                metrics=dict(data.get("metrics") or {}),
            )
        except KeyError as missing:
            raise ModelError(f"model JSON lacks {missing}") from None

    @classmethod
    def from_json(cls, text: str) -> "DurationModel":
        return cls.from_dict(json.loads(text))

    def coefficient_table(self) -> dict[str, float]:
        return {f: float(c) for f, c in zip(self.features, self.coefficients)}


def stand_in_model(reason: str = "no trained model") -> DurationModel:
    """The course's model: duration = trip_distance * 5 (minutes)."""
    return DurationModel(STAND_IN_FEATURES, (STAND_IN_MINUTES_PER_MILE,), kind=STAND_IN, training={"reason": reason})


def fit_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, Optional[float]]:
    """RMSE, MAE (minutes) and R² of predictions against actual durations."""
    import numpy as np

    if actual.size == 0:
        return {"rmse_minutes": None, "mae_minutes": None, "r2": None}
    errors = actual - predicted
    total = float(np.sum((actual - actual.mean()) ** 2))
    return {
        "rmse_minutes": float(np.sqrt(np.mean(errors**2))),
        "mae_minutes": float(np.mean(np.abs(errors))),
        "r2": None if total == 0 else float(1.0 - np.sum(errors**2) / total),
    }


def fit_duration_model(
    distance: Any, hour: Any, duration_minutes: Any, training: Optional[dict] = None
) -> DurationModel:
    """Least squares on the trained features; the stand-in when there is nothing to learn from.

    Metrics are on the training rows (in-sample), beside the stand-in's on the same rows (``stand_in_*``).
    """
    import numpy as np

    distance, hour, y = as_float_array(distance), as_float_array(hour), as_float_array(duration_minutes)
    usable = ~(np.isnan(distance) | np.isnan(hour) | np.isnan(y))
    distance, hour, y = distance[usable], hour[usable], y[usable]
    training = {**(training or {}), "rows": int(y.size)}
    if y.size < len(TRAINED_FEATURES):
        return DurationModel(
            STAND_IN_FEATURES, (STAND_IN_MINUTES_PER_MILE,), kind=STAND_IN,
            training={**training, "reason": f"{y.size} training rows: too few to fit {len(TRAINED_FEATURES)} coefficients"},
        )
    x = design_matrix(TRAINED_FEATURES, distance, hour)
    coefficients, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    model = DurationModel(TRAINED_FEATURES, tuple(float(c) for c in coefficients), training={**training, "rank": int(rank)})
    metrics = fit_metrics(y, model.predict(distance, hour))
    stand_in = fit_metrics(y, stand_in_model().predict(distance))
    metrics.update({f"stand_in_{k}": v for k, v in stand_in.items()})
    return DurationModel(model.features, model.coefficients, kind=TRAINED, training=model.training, metrics=metrics)


# ---- Spark: the training sample, one model per month, the model as a lake dataset -----------------------------------
MODEL_SCHEMA = (
    ("kind", "string"),
    ("trained_rows", "long"),
    ("rmse_minutes", "double"),
    ("r2", "double"),
    ("stand_in_rmse_minutes", "double"),
    ("model_json", "string"),
)


def duration_minutes_column():
    """(dropoff - pickup) in minutes, to the microsecond."""
    from pyspark.sql import functions as F

    return (F.unix_micros("dropoff_datetime") - F.unix_micros("pickup_datetime")) / F.lit(60_000_000.0)


def pickup_hour_column():
    """The pickup's hour of day in the session time zone (the TLC's wall-clock hour: the platform runs in UTC)."""
    from pyspark.sql import functions as F

    return F.hour("pickup_datetime")


def training_filter_column():
    from pyspark.sql import functions as F

    f = TRAINING_FILTER
    distance, minutes = F.col("trip_distance"), F.col(TARGET)
    speed = distance / (minutes / F.lit(60.0))
    return (
        (distance > f["min_distance_miles_exclusive"])
        & (distance <= f["max_distance_miles"])
        & minutes.between(f["min_duration_minutes"], f["max_duration_minutes"])
        & speed.between(f["min_speed_mph"], f["max_speed_mph"])
    )


def fit_monthly_models(
    trips, months: Iterable[str], max_rows_per_month: int = DEFAULT_MAX_TRAINING_ROWS
) -> dict[str, DurationModel]:
    """One model per month of ``months``, each from that month's trips (``trips`` has a ``month`` column).

    Two Spark jobs: counts per month (all rows, rows passing the filter), then a deterministic sample of at most
    ``max_rows_per_month`` filtered rows per month (selected by a hash of the trip's values, so the same trips give
    the same sample on any target and partitioning), collected to pandas and fitted with numpy. A month without
    usable rows gets the stand-in (kind ``stand_in``, the reason in its ``training``).
    """
    import pandas as pd
    from pyspark.sql import functions as F

    from taxi_platform.schemas import MONTH_COLUMN

    if MONTH_COLUMN not in trips.columns:
        raise ValueError(f"fit_monthly_models needs a '{MONTH_COLUMN}' column (YYYY-MM); got {trips.columns}")
    months = sorted(set(months))
    rows = trips.select(
        F.col(MONTH_COLUMN),
        F.col("trip_distance").cast("double").alias("trip_distance"),
        pickup_hour_column().alias("pickup_hour"),
        duration_minutes_column().alias(TARGET),
        F.xxhash64("pickup_datetime", "dropoff_datetime", "PULocationID", "DOLocationID", "trip_distance").alias("h"),
    ).withColumn("usable", F.coalesce(training_filter_column(), F.lit(False)))
    counts = {
        r[MONTH_COLUMN]: (int(r["rows"]), int(r["usable_rows"]))
        for r in rows.groupBy(MONTH_COLUMN)
        .agg(F.count(F.lit(1)).alias("rows"), F.count(F.when(F.col("usable"), 1)).alias("usable_rows"))
        .collect()
    }
    # per month: keep a row when its hash bucket is below the month's threshold (all rows when few enough)
    thresholds = {
        m: min(SAMPLE_BUCKETS, math.ceil(SAMPLE_BUCKETS * max_rows_per_month / usable))
        for m, (_, usable) in counts.items()
        if usable
    }
    sample = pd.DataFrame(columns=[MONTH_COLUMN, "trip_distance", "pickup_hour", TARGET])
    if thresholds:
        threshold = F.create_map(*[F.lit(x) for m, t in thresholds.items() for x in (m, t)])[F.col(MONTH_COLUMN)]
        sample = (
            rows.where(F.col("usable") & (F.pmod(F.col("h"), F.lit(SAMPLE_BUCKETS)) < threshold))
            .select(MONTH_COLUMN, "trip_distance", "pickup_hour", TARGET)
            .toPandas()
        )
        # a fixed row order: lstsq's floating-point sums then give the same model on every target
        sample = sample.sort_values([MONTH_COLUMN, "pickup_hour", "trip_distance", TARGET], kind="mergesort")
    by_month = {m: frame for m, frame in sample.groupby(MONTH_COLUMN)} if len(sample) else {}
    models = {}
    for month in months:
        total, usable = counts.get(month, (0, 0))
        frame = by_month.get(month)
        training = {
            "month": month,
            "candidate_rows": total,
            "excluded_by_filter": total - usable,
            "filter": TRAINING_FILTER,
            "max_rows": max_rows_per_month,
        }
        if frame is None or frame.empty:
            models[month] = DurationModel(
                STAND_IN_FEATURES, (STAND_IN_MINUTES_PER_MILE,), kind=STAND_IN,
                training={**training, "rows": 0, "reason": f"no trips of {month} pass the training filter"},
            )
        else:
            models[month] = fit_duration_model(frame["trip_distance"], frame["pickup_hour"], frame[TARGET], training)
    return models


def models_to_dataframe(spark, models: Mapping[str, DurationModel]):
    """The models as a lake dataset: one row per month (``MODEL_SCHEMA`` + ``month``); ``model_json`` is exact."""
    from taxi_platform.schemas import MONTH_COLUMN, spark_schema

    rows = [
        (
            model.kind,
            int(model.training.get("rows", 0)),
            model.metrics.get("rmse_minutes"),
            model.metrics.get("r2"),
            model.metrics.get("stand_in_rmse_minutes"),
            model.to_json(),
            month,
        )
        for month, model in sorted(models.items())
    ]
    return spark.createDataFrame(rows, spark_schema((*MODEL_SCHEMA, (MONTH_COLUMN, "string"))))


def models_from_dataframe(df) -> dict[str, DurationModel]:
    """{month: model} from the stored dataset (a few rows: collected to the driver)."""
    from taxi_platform.schemas import MONTH_COLUMN

    return {r[MONTH_COLUMN]: DurationModel.from_json(r["model_json"]) for r in df.select(MONTH_COLUMN, "model_json").collect()}
