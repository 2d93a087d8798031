"""spark-submit entry point: the monthly revenue report from raw green and yellow months, with the platform's transforms.

The course's ``local_spark_cluster.py``, as a job the same on any cluster: no master in code (``spark-submit --master``
decides), the same functions as the Dagster assets (conform -> quarantine -> combine -> report), so its output equals
``reports/revenue_monthly_zone``.

    spark-submit --master spark://HOST:7077 taxi_platform/spark_jobs/revenue_report.py \
        --input_green=data/lake/raw/green_trips --input_yellow=data/lake/raw/yellow_trips \
        --output=data/report/revenue --months=2021-01,2021-02

Inputs are raw datasets in the lake layout (one ``month=YYYY-MM`` folder per month, as published); each month is
conformed on its own (published types drift). The report is written as parquet partitioned by ``month``, one file per
month, replacing exactly the months given. Paths may be local, ``file://`` or ``gs://`` (with the GCS connector).
"""

import argparse
import sys
from datetime import datetime

# Only Dagster-free modules: clusters that run this script have pyspark, not Dagster.
from taxi_platform.schemas import MONTH_COLUMN
from taxi_platform.spark_settings import BASE_CONFIG


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Monthly revenue per zone from raw green and yellow trips.")
    parser.add_argument("--input_green", required=True, help="raw green dataset (folder of month=YYYY-MM folders)")
    parser.add_argument("--input_yellow", required=True, help="raw yellow dataset (folder of month=YYYY-MM folders)")
    parser.add_argument("--output", required=True, help="where the report goes (parquet, partitioned by month)")
    parser.add_argument("--months", required=True, help="comma-separated months, e.g. 2021-01,2021-02")
    args = parser.parse_args(argv)
    args.months = [m.strip() for m in args.months.split(",") if m.strip()]
    for month in args.months:
        try:
            datetime.strptime(month, "%Y-%m")
        except ValueError:
            parser.error(f"--months: {month!r} is not a month (expected YYYY-MM, e.g. 2021-01)")
    if not args.months:
        parser.error("--months: give at least one month, e.g. 2021-01")
    return args


def revenue_report(spark, input_green: str, input_yellow: str, months: list[str]):
    """The report DataFrame (with ``month``) for ``months`` of the two raw datasets; nothing written."""
    from taxi_platform.transforms.conform import conform_months
    from taxi_platform.transforms.quarantine import classify, clean_rows
    from taxi_platform.transforms.revenue import revenue_monthly_zone
    from taxi_platform.transforms.trips import combine_trips

    def clean(taxi_type: str, dataset: str):
        published = {m: spark.read.parquet(f"{dataset.rstrip('/')}/{MONTH_COLUMN}={m}") for m in months}
        return clean_rows(classify(conform_months(published, taxi_type, dataset=dataset)))

    trips = combine_trips(clean("green", input_green), clean("yellow", input_yellow))
    return revenue_monthly_zone(trips, pickups_in_month=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("taxi_platform.revenue_report")
    for key, value in BASE_CONFIG.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")  # replace exactly the months written
    report = revenue_report(spark, args.input_green, args.input_yellow, args.months)
    report.repartition(MONTH_COLUMN).write.mode("overwrite").partitionBy(MONTH_COLUMN).parquet(args.output)
    print(f"revenue_monthly_zone for {','.join(args.months)} written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
