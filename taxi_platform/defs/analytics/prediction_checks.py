"""Checks of the trip-duration model and its predictions, partitioned like them (the months of the run).

- analytics/trip_duration_predictions ``rows_reconcile_with_trips``: one prediction per trip: its rows per month and
  service_type equal core/trips' (nothing dropped or duplicated on the way through Python workers).
- analytics/trip_duration_predictions ``predictions_valid``: no negative prediction, and a null prediction only where
  the trip has no distance; metadata: mean predicted vs actual minutes and the mean absolute error.
- analytics/trip_duration_predictions ``schema_matches_contract``: the stored columns equal ``PREDICTIONS_SCHEMA``.
- analytics/trip_duration_model ``beats_stand_in``: each trained month's RMSE on its training sample is below the
  course's stand-in's (trip_distance * 5) on the same trips. Severity WARN: a model that does not beat the stand-in
  is worth a look, not a blocked run. Months stored as the stand-in (nothing to train on) are listed, not failed.

Each records one result per month of the run (``checks/results.py``), from one Spark job per check.
"""


from dagster import AssetCheckExecutionContext, AssetCheckSeverity, AssetIn, MetadataValue, asset_check

from taxi_platform.defs.revenue.core import TRIPS_KEY
from taxi_platform.defs.analytics.predictions import TRIP_DURATION_MODEL_KEY, TRIP_DURATION_PREDICTIONS_KEY
from taxi_platform.checks.contracts import build_schema_check
from taxi_platform.checks.reconcile import counts_and_sums, tagged
from taxi_platform.checks.results import check_months, month_results
from taxi_platform.partitions import monthly_partitions
from taxi_platform.schemas import MONTH_COLUMN
from taxi_platform.transforms.duration_model import TRAINED, models_from_dataframe
from taxi_platform.transforms.predictions import PREDICTIONS_SCHEMA, prediction_stat_columns, prediction_stats_of_row


@asset_check(
    asset=TRIP_DURATION_PREDICTIONS_KEY,
    name="rows_reconcile_with_trips",
    description="One prediction per trip: rows per month and service_type equal core/trips'.",
    additional_ins={"trips": AssetIn(key=TRIPS_KEY)},
    partitions_def=monthly_partitions,
)
def rows_reconcile_with_trips(context: AssetCheckExecutionContext, data, trips):
    counted = counts_and_sums([tagged(data, "predictions"), tagged(trips, "trips")])
    services = sorted({service for _, _, service in counted})
    counts, per_month = {}, {}
    for month in check_months(context):
        month_counts = {
            s: {side: counted.get((month, side, s), (0, 0.0))[0] for side in ("trips", "predictions")} for s in services
        }
        month_counts = {s: c for s, c in month_counts.items() if c["trips"] or c["predictions"]}
        off = sorted(s for s, c in month_counts.items() if c["trips"] != c["predictions"])
        per_month[month] = (
            not off,
            {
                "rows": sum(c["predictions"] for c in month_counts.values()),
                "trips": sum(c["trips"] for c in month_counts.values()),
                "rows_by_service": MetadataValue.json(month_counts),
                "mismatched": MetadataValue.json(off),
            },
        )
        counts.update({f"{month}/{s}": c for s, c in month_counts.items()})
    yield from month_results(
        context,
        per_month,
        {
            "rows": sum(c["predictions"] for c in counts.values()),
            "trips": sum(c["trips"] for c in counts.values()),
            "rows_by_month_and_service": MetadataValue.json(counts),
            "mismatched": MetadataValue.json(sorted(n for n, c in counts.items() if c["trips"] != c["predictions"])),
        },
    )


def prediction_summaries(predictions) -> dict:
    """``transforms.predictions.prediction_summary`` per month and over all months (key None), in one Spark job."""
    rows = predictions.rollup(MONTH_COLUMN).agg(*prediction_stat_columns()).collect()
    return {r[MONTH_COLUMN]: prediction_stats_of_row({k: v for k, v in r.asDict().items() if k != MONTH_COLUMN}) for r in rows}


@asset_check(
    asset=TRIP_DURATION_PREDICTIONS_KEY,
    name="predictions_valid",
    description="No negative predicted_duration; null only where trip_distance is null.",
    partitions_def=monthly_partitions,
)
def predictions_valid(context: AssetCheckExecutionContext, data):
    summaries = prediction_summaries(data)
    empty = {"rows": 0, "null_predictions": 0, "negative_predictions": 0, "unexplained_nulls": 0,
             "mean_predicted_minutes": None, "mean_actual_minutes": None, "mae_minutes": None}

    def valid(summary: dict) -> bool:
        return summary["negative_predictions"] == 0 and summary["unexplained_nulls"] == 0

    def typed(summary: dict) -> dict:
        return {k: (MetadataValue.null() if v is None else v) for k, v in summary.items()}

    per_month = {m: (valid(summaries.get(m, empty)), typed(summaries.get(m, empty))) for m in check_months(context)}
    yield from month_results(context, per_month, typed(summaries.get(None, empty)))


@asset_check(
    asset=TRIP_DURATION_MODEL_KEY,
    name="beats_stand_in",
    description="Each trained month's RMSE is below the course's stand-in's (trip_distance * 5) on the same trips.",
    partitions_def=monthly_partitions,
)
def beats_stand_in(context: AssetCheckExecutionContext, data):
    models = models_from_dataframe(data)
    trained = {m: model.metrics for m, model in sorted(models.items()) if model.kind == TRAINED}
    rmse = {m: {"model": s["rmse_minutes"], "stand_in": s["stand_in_rmse_minutes"]} for m, s in trained.items()}
    worse = sorted(m for m, s in trained.items() if not s["rmse_minutes"] < s["stand_in_rmse_minutes"])
    per_month = {
        m: (
            m not in worse,
            {
                "rmse": MetadataValue.json(rmse[m]) if m in rmse else MetadataValue.null(),
                "model_kind": models[m].kind if m in models else "missing",
            },
        )
        for m in check_months(context)
    }
    yield from month_results(
        context,
        per_month,
        {
            "rmse_by_month": MetadataValue.json(rmse),
            "not_better_than_stand_in": MetadataValue.json(worse),
            "stand_in_months": MetadataValue.json(sorted(set(models) - set(trained))),
        },
        severity=AssetCheckSeverity.WARN,
    )


prediction_checks = [
    build_schema_check(TRIP_DURATION_PREDICTIONS_KEY, PREDICTIONS_SCHEMA),
    rows_reconcile_with_trips,
    predictions_valid,
    beats_stand_in,
]
