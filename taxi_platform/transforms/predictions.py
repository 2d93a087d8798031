"""Trip-duration predictions per Spark partition in pandas, two ways (plain DataFrame functions, no Dagster).

Both take trips (``core/trips`` or clean trips: ``VendorID, pickup_datetime, dropoff_datetime, PULocationID,
DOLocationID, trip_distance``; ``service_type`` and ``month`` are carried when present) and a :class:`ModelChoice`
(one model per month, or one for every row), and return the course's columns with ``predicted_duration`` (minutes)
plus ``actual_duration`` (dropoff - pickup, minutes, computed by Spark) so predictions can be judged:

- ``predict_with_map_partitions``: the course's code. ``df.rdd.mapPartitions``: every row of a partition is pickled
  to a Python worker, turned into a pandas frame, the model applied, and rows yielded back, then ``toDF`` with an
  explicit schema. Needs the RDD API: classic Spark only (local, standalone); on Spark Connect it raises
  :class:`RddUnavailableError` saying to use ``map_in_pandas``.
- ``predict_with_map_in_pandas``: ``DataFrame.mapInPandas``: Spark sends Arrow record batches (10,000 rows by default)
  that arrive as pandas frames; no per-row pickling. Works on every target, Spark Connect included. Use this one.

They give equal predictions on every row (a test checks it): the pickup hour is taken by Spark (``hour()`` in the
session time zone, as in training) before the rows reach Python, because the two paths hand timestamps to Python
differently (RDD rows as naive datetimes in the Python process's local zone, Arrow batches in the session zone), and
the model computes each row on its own (``DurationModel.predict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Mapping, Optional

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from taxi_platform.schemas import MONTH_COLUMN, Contract, spark_schema
from taxi_platform.transforms.duration_model import DurationModel, duration_minutes_column, pickup_hour_column, stand_in_model
from taxi_platform.transforms.rdd_revenue import RddUnavailableError

if TYPE_CHECKING:  # numpy and pandas are imported where predictions run, not when the definitions load (~0.7 s)
    import numpy as np
    import pandas as pd

METHODS = ("map_in_pandas", "map_partitions")
# the course's columns (lpep_/tpep_pickup_datetime renamed pickup_datetime, as in clean and core trips)
MODEL_INPUT_COLUMNS = ("VendorID", "pickup_datetime", "PULocationID", "DOLocationID", "trip_distance")
PREDICTIONS_SCHEMA: Contract = (
    ("VendorID", "int"),
    ("pickup_datetime", "timestamp"),
    ("PULocationID", "int"),
    ("DOLocationID", "int"),
    ("trip_distance", "double"),
    ("service_type", "string"),
    ("actual_duration", "double"),
    ("predicted_duration", "double"),
)
_HOUR = "pickup_hour"  # handed to Python with each row, not part of the output


@dataclass(frozen=True)
class ModelChoice:
    """The model of each month (``by_month``), and the one for rows of any other month (or without ``month``)."""

    by_month: Mapping[str, DurationModel] = field(default_factory=dict)
    default: DurationModel = field(default_factory=stand_in_model)

    def predict_frame(self, frame: pd.DataFrame) -> np.ndarray:
        import numpy as np

        if not self.by_month or MONTH_COLUMN not in frame:
            return self.default.predict_frame(frame)
        out = np.full(len(frame), np.nan)
        for month, index in frame.groupby(MONTH_COLUMN, dropna=False).indices.items():
            model = self.by_month.get(month, self.default)
            out[index] = model.predict_frame(frame.iloc[index])
        return out

    def kinds(self) -> dict[str, str]:
        return {m: model.kind for m, model in sorted(self.by_month.items())}


def _prepared(trips: DataFrame) -> DataFrame:
    """The model's input columns (+ service_type, month when present), the actual duration and the pickup hour."""
    missing = [c for c in (*MODEL_INPUT_COLUMNS, "dropoff_datetime") if c not in trips.columns]
    if missing:
        raise ValueError(f"trip-duration predictions need columns {missing}; got {trips.columns}")
    carried = [c for c in ("service_type",) if c in trips.columns]
    tail = [MONTH_COLUMN] if MONTH_COLUMN in trips.columns else []
    return trips.select(
        *MODEL_INPUT_COLUMNS,
        *carried,
        duration_minutes_column().alias("actual_duration"),
        *tail,
        pickup_hour_column().alias(_HOUR),
    )


def output_schema(prepared: DataFrame):
    """Explicit output schema: the prepared columns without the hour, with predicted_duration before ``month``."""
    names = [c for c in prepared.columns if c != _HOUR]
    contract = dict(PREDICTIONS_SCHEMA)
    ordered = [n for n in names if n != MONTH_COLUMN] + ["predicted_duration"]
    ordered += [MONTH_COLUMN] if MONTH_COLUMN in names else []
    return spark_schema([(n, contract.get(n, "string")) for n in ordered])


def _is_connect(df: DataFrame) -> bool:
    try:
        from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame
    except ImportError:  # pyspark without the Connect extras
        return False
    return isinstance(df, ConnectDataFrame)


def predict_with_map_partitions(trips: DataFrame, models: Optional[ModelChoice] = None) -> DataFrame:
    """The course's mapPartitions: each partition's rows -> a pandas frame -> the model -> rows with the prediction."""
    if _is_connect(trips):
        raise RddUnavailableError(
            "method 'map_partitions' uses the RDD API (df.rdd.mapPartitions), which is not available on Spark "
            "Connect: use method 'map_in_pandas' (Arrow batches, the same predictions), or run on Spark target "
            "'local' or 'standalone'"
        )
    models = models or ModelChoice()
    prepared = _prepared(trips)
    columns = prepared.columns
    schema = output_schema(prepared)
    out_names = schema.fieldNames()
    cut = out_names.index("predicted_duration")
    head = [columns.index(name) for name in out_names[:cut]]
    tail = [columns.index(name) for name in out_names[cut + 1:]]

    def apply_model_in_batch(rows: Iterator) -> Iterator[tuple]:
        import pandas as pd

        rows = list(rows)
        if not rows:
            return
        frame = pd.DataFrame.from_records(rows, columns=columns)
        predicted = models.predict_frame(frame)
        for row, value in zip(rows, predicted.tolist()):
            prediction = None if value != value else value  # NaN -> null, as Arrow does for mapInPandas
            yield (*[row[i] for i in head], prediction, *[row[i] for i in tail])

    return prepared.rdd.mapPartitions(apply_model_in_batch).toDF(schema)


def predict_with_map_in_pandas(trips: DataFrame, models: Optional[ModelChoice] = None) -> DataFrame:
    """The same with mapInPandas: Arrow batches as pandas frames (every target, Spark Connect included)."""
    models = models or ModelChoice()
    prepared = _prepared(trips)
    schema = output_schema(prepared)
    out_names = schema.fieldNames()

    def apply_model(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in batches:
            frame = frame.assign(predicted_duration=models.predict_frame(frame))
            yield frame[out_names]

    return prepared.mapInPandas(apply_model, schema)


def predict_durations(trips: DataFrame, models: Optional[ModelChoice] = None, method: str = "map_in_pandas") -> DataFrame:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    predict = predict_with_map_in_pandas if method == "map_in_pandas" else predict_with_map_partitions
    return predict(trips, models)


PREDICTION_COUNTS = ("rows", "null_predictions", "negative_predictions", "unexplained_nulls")


def prediction_stat_columns() -> list:
    """Rows, null/negative predictions, mean prediction and error against the actual durations, as aggregates."""
    predicted, actual = F.col("predicted_duration"), F.col("actual_duration")
    return [
        F.count(F.lit(1)).alias("rows"),
        F.count(F.when(predicted.isNull(), 1)).alias("null_predictions"),
        F.count(F.when(predicted < 0, 1)).alias("negative_predictions"),
        F.count(F.when(predicted.isNull() & F.col("trip_distance").isNotNull(), 1)).alias("unexplained_nulls"),
        F.avg(predicted).alias("mean_predicted_minutes"),
        F.avg(actual).alias("mean_actual_minutes"),
        F.avg(F.abs(predicted - actual)).alias("mae_minutes"),
    ]


def prediction_stats_of_row(row: dict) -> dict:
    """One aggregate row as plain Python numbers (counts int, the rest float; Connect may hand numpy scalars)."""
    return {k: (None if v is None else (int(v) if k in PREDICTION_COUNTS else float(v))) for k, v in row.items()}


def prediction_summary(predictions: DataFrame) -> dict:
    """``prediction_stat_columns`` over the whole DataFrame (one Spark job)."""
    return prediction_stats_of_row(predictions.agg(*prediction_stat_columns()).collect()[0].asDict())
