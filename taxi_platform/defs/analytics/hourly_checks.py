"""Checks of reports/hourly_revenue_by_zone, among them the course's RDD version recomputing the green side.

- ``rdd_matches_dataframe``: the green hourly revenue per (hour, zone) computed with RDDs (``reduceByKey``,
  ``transforms/rdd_revenue.py``) from clean/green_trips equals the report's green_amount (to the cent) and
  green_number_records (exactly), for the months of the run; no (hour, zone) is on one side only.
  It needs the SparkContext/RDD API. On a target without it (Spark Connect, Dataproc) the check does not raise: it
  returns ``passed=False`` with severity **WARN** and the target's explanation in metadata ``error`` (and
  ``skipped=True``), so the UI shows why it could not run instead of a stack trace, and it never blocks the run.
  A real mismatch is severity ERROR.
- ``schema_matches_contract`` and ``no_null_keys`` of the report (the platform's contract checks).

Each records one result per month of the run (``checks/results.py``); the comparison is one Spark job grouped by the
month of ``hour`` (the report's month: its ``month`` partition is the month of ``hour`` in the session time zone).
"""

from typing import Any, NamedTuple

from dagster import AssetCheckExecutionContext, AssetCheckSeverity, AssetIn, MetadataValue, asset_check

from taxi_platform.defs.revenue.clean import clean_key
from taxi_platform.defs.analytics.hourly import HOURLY_REVENUE_BY_ZONE_KEY
from taxi_platform.checks.contracts import build_no_null_keys_check, build_schema_check
from taxi_platform.checks.results import MonthOutcome, check_months, month_results
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.spark import SparkResource, SparkTargetError
from taxi_platform.transforms.hourly import HOURLY_REVENUE_BY_ZONE_SCHEMA
from taxi_platform.transforms.rdd_revenue import RddUnavailableError, hourly_revenue_rdd

CENT = 0.005
EXAMPLES = 10


COUNTS = ("keys", "mismatched", "only_rdd", "only_report", "rdd_trips", "report_trips")


def compare_rdd_with_report(rdd_revenue, report) -> dict[str, dict]:
    """Per month of ``hour``: RDD (revenue, count) vs the report's (green_amount, green_number_records) per
    (hour, zone): {month: {keys, mismatched, only_rdd, only_report, rdd_trips, report_trips, examples}}; one Spark
    job for the counts, one for the (at most EXAMPLES per month) mismatched rows."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    report_green = report.where(F.col("green_number_records").isNotNull()).select(
        "hour", "zone", F.col("green_amount").alias("report_amount"), F.col("green_number_records").alias("report_count")
    )
    joined = rdd_revenue.join(report_green, on=["hour", "zone"], how="full_outer")
    amount_off = F.abs(F.coalesce(F.col("revenue"), F.lit(0.0)) - F.coalesce(F.col("report_amount"), F.lit(0.0)))
    bad = (
        F.col("count").isNull()
        | F.col("report_count").isNull()
        | (F.col("count").cast("long") != F.col("report_count"))
        | (F.col("revenue").isNull() != F.col("report_amount").isNull())
        | (amount_off >= CENT)
    )
    flagged = joined.withColumn("bad", bad).withColumn("_month", F.date_format("hour", "yyyy-MM"))
    totals = flagged.groupBy("_month").agg(
        F.count(F.lit(1)).alias("keys"),
        F.count(F.when(F.col("bad"), 1)).alias("mismatched"),
        F.count(F.when(F.col("report_count").isNull(), 1)).alias("only_rdd"),
        F.count(F.when(F.col("count").isNull(), 1)).alias("only_report"),
        F.sum("count").alias("rdd_trips"),
        F.sum("report_count").alias("report_trips"),
    ).collect()
    by_month = {r["_month"]: {**{k: int(r[k] or 0) for k in COUNTS}, "examples": []} for r in totals}
    first = Window.partitionBy("_month").orderBy("hour", "zone")
    examples = (
        flagged.where(F.col("bad")).withColumn("_n", F.row_number().over(first)).where(F.col("_n") <= EXAMPLES)
        .orderBy("hour", "zone").drop("bad", "_n").collect()
    )
    for row in examples:
        example = row.asDict()
        month = example.pop("_month")
        by_month[month]["examples"].append({k: (str(v) if k == "hour" else v) for k, v in example.items()})
    return by_month


class RddOutcome(NamedTuple):
    """What ``rdd_matches_dataframe`` found: its run-level verdict, severity and metadata, and each month's."""

    passed: bool
    severity: AssetCheckSeverity
    metadata: dict[str, Any]
    per_month: dict[str, MonthOutcome]


@asset_check(
    asset=HOURLY_REVENUE_BY_ZONE_KEY,
    name="rdd_matches_dataframe",
    description="The green hourly revenue per (hour, zone) recomputed with RDDs (reduceByKey) from clean/green_trips "
    "equals the report's green_amount (to the cent) and green_number_records (exactly). Needs the RDD API: on Spark "
    "Connect it reports WARN with the reason instead of running.",
    additional_ins={"green": AssetIn(key=clean_key("green"))},
    partitions_def=monthly_partitions,
)
def rdd_matches_dataframe(context: AssetCheckExecutionContext, spark: SparkResource, data, green):
    outcome = rdd_check_result(spark, data, green, check_months(context))
    yield from month_results(context, outcome.per_month, outcome.metadata, outcome.severity, outcome.passed)


def rdd_check_result(spark: SparkResource, report, green, months=()) -> RddOutcome:
    """Compare for ``months``; on a target without RDDs: not passed, WARN, the reason (no data is touched)."""
    try:
        sc = spark.require_spark_context("rdd_matches_dataframe")
        rdd_revenue = hourly_revenue_rdd(green, sc)
    except (SparkTargetError, RddUnavailableError) as error:
        metadata = {"error": MetadataValue.text(str(error)), "skipped": True, "spark_target": spark.target}
        return RddOutcome(False, AssetCheckSeverity.WARN, metadata, {m: MonthOutcome(False, metadata) for m in months})
    by_month = compare_rdd_with_report(rdd_revenue, report)
    nothing = {**dict.fromkeys(COUNTS, 0), "examples": []}  # a month without trips or report rows (e.g. before 2020)
    per_month = {}
    for month in months:
        found = dict(by_month.get(month, nothing))
        examples = found.pop("examples")
        per_month[month] = MonthOutcome(
            found["mismatched"] == 0, {**found, "mismatch_examples": MetadataValue.json(examples)}
        )
    # hours outside the run's months (none, unless the data is wrong) count in the run's totals
    totals = {k: sum(found[k] for found in by_month.values()) for k in COUNTS}
    examples = [e for m in sorted(by_month) for e in by_month[m]["examples"]][:EXAMPLES]
    metadata = {**totals, "mismatch_examples": MetadataValue.json(examples)}
    passed = totals["mismatched"] == 0 and all(o.passed for o in per_month.values())
    return RddOutcome(passed, AssetCheckSeverity.ERROR, metadata, per_month)


hourly_checks = [
    build_schema_check(HOURLY_REVENUE_BY_ZONE_KEY, HOURLY_REVENUE_BY_ZONE_SCHEMA),
    build_no_null_keys_check(HOURLY_REVENUE_BY_ZONE_KEY, ("hour", "zone")),
    rdd_matches_dataframe,
]
