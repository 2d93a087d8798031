"""Checks of reports/hourly_revenue_by_zone, among them the course's RDD version recomputing the green side.

- ``rdd_matches_dataframe``: the green hourly revenue per (hour, zone) computed with RDDs (``reduceByKey``,
  ``transforms/rdd_revenue.py``) from clean/green_trips equals the report's green_amount (to the cent) and
  green_number_records (exactly), for the months of the run; no (hour, zone) is on one side only.
  It needs the SparkContext/RDD API. On a target without it (Spark Connect, Dataproc) the check does not raise: it
  returns ``passed=False`` with severity **WARN** and the target's explanation in metadata ``error`` (and
  ``skipped=True``), so the UI shows why it could not run instead of a stack trace, and it never blocks the run.
  A real mismatch is severity ERROR.
- ``schema_matches_contract`` and ``no_null_keys`` of the report (the platform's contract checks).
"""


from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetIn, MetadataValue, asset_check

from taxi_platform.assets.clean import clean_key
from taxi_platform.assets.hourly import HOURLY_REVENUE_BY_ZONE_KEY
from taxi_platform.checks.contracts import build_no_null_keys_check, build_schema_check
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.spark import SparkResource, SparkTargetError
from taxi_platform.transforms.hourly import HOURLY_REVENUE_BY_ZONE_SCHEMA
from taxi_platform.transforms.rdd_revenue import RddUnavailableError, hourly_revenue_rdd

CENT = 0.005
EXAMPLES = 10


def compare_rdd_with_report(rdd_revenue, report) -> dict:
    """Per (hour, zone): RDD (revenue, count) vs the report's (green_amount, green_number_records); in Spark."""
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
    flagged = joined.withColumn("bad", bad)
    totals = flagged.agg(
        F.count(F.lit(1)).alias("keys"),
        F.count(F.when(F.col("bad"), 1)).alias("mismatched"),
        F.count(F.when(F.col("report_count").isNull(), 1)).alias("only_rdd"),
        F.count(F.when(F.col("count").isNull(), 1)).alias("only_report"),
        F.sum("count").alias("rdd_trips"),
        F.sum("report_count").alias("report_trips"),
    ).collect()[0]
    examples = [
        {k: (str(v) if k == "hour" else v) for k, v in r.asDict().items() if k != "bad"}
        for r in flagged.where(F.col("bad")).orderBy("hour", "zone").limit(EXAMPLES).collect()
    ]
    return {**{k: int(totals[k] or 0) for k in totals.asDict()}, "examples": examples}


@asset_check(
    asset=HOURLY_REVENUE_BY_ZONE_KEY,
    name="rdd_matches_dataframe",
    description="The green hourly revenue per (hour, zone) recomputed with RDDs (reduceByKey) from clean/green_trips "
    "equals the report's green_amount (to the cent) and green_number_records (exactly). Needs the RDD API: on Spark "
    "Connect it reports WARN with the reason instead of running.",
    additional_ins={"green": AssetIn(key=clean_key("green"))},
    partitions_def=monthly_partitions,
)
def rdd_matches_dataframe(context: AssetCheckExecutionContext, spark: SparkResource, data, green) -> AssetCheckResult:
    return rdd_check_result(spark, data, green)


def rdd_check_result(spark: SparkResource, report, green) -> AssetCheckResult:
    try:
        sc = spark.require_spark_context("rdd_matches_dataframe")
        rdd_revenue = hourly_revenue_rdd(green, sc)
    except (SparkTargetError, RddUnavailableError) as error:
        return AssetCheckResult(
            passed=False,
            severity=AssetCheckSeverity.WARN,
            metadata={"error": MetadataValue.text(str(error)), "skipped": True, "spark_target": spark.target},
        )
    comparison = compare_rdd_with_report(rdd_revenue, report)
    examples = comparison.pop("examples")
    return AssetCheckResult(
        passed=comparison["mismatched"] == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={**comparison, "mismatch_examples": MetadataValue.json(examples)},
    )


hourly_checks = [
    build_schema_check(HOURLY_REVENUE_BY_ZONE_KEY, HOURLY_REVENUE_BY_ZONE_SCHEMA),
    build_no_null_keys_check(HOURLY_REVENUE_BY_ZONE_KEY, ("hour", "zone")),
    rdd_matches_dataframe,
]
