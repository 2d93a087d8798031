"""(c) The course's minimal script: read green and yellow, rename, union, the report SQL, coalesce(1), write.

No quarantine, no intermediate datasets, no month partitions: the floor of what Spark needs for the report. The only
addition is turning the raw files' nanosecond timestamps (read as longs, as the TLC's 2019-2021 files need) into
timestamps, which the course's own data (converted from CSV) did not need.
"""

from __future__ import annotations

import shutil

from bench.variants.common import Timer, bare_session, months_of, parser, raw_file, write_result

COMMON_COLUMNS = [
    "VendorID", "pickup_datetime", "dropoff_datetime", "store_and_fwd_flag", "RatecodeID", "PULocationID",
    "DOLocationID", "passenger_count", "trip_distance", "fare_amount", "extra", "mta_tax", "tip_amount",
    "tolls_amount", "improvement_surcharge", "total_amount", "payment_type", "congestion_surcharge",
]


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    months = months_of(args)
    shutil.rmtree(args.out, ignore_errors=True)
    timer = Timer()
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.legacy.parquet.nanosAsLong": "true",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.showConsoleProgress": "false",
    }
    with timer.section("session"):
        spark = bare_session(args.master, args.driver_memory, "bench-course-script", settings)
    from pyspark.sql import functions as F

    def timestamp(name: str, published_type: str):
        column = F.col(name)
        return F.timestamp_micros(F.floor(column / 1000)) if published_type == "bigint" else column.cast("timestamp")

    def trips(taxi_type: str, prefix: str):
        df = spark.read.parquet(*[raw_file(args.raw, taxi_type, m) for m in months])
        types = dict(df.dtypes)
        df = (df.withColumn("pickup_datetime", timestamp(f"{prefix}_pickup_datetime", types[f"{prefix}_pickup_datetime"]))
                .withColumn("dropoff_datetime", timestamp(f"{prefix}_dropoff_datetime", types[f"{prefix}_dropoff_datetime"])))
        return df.select(COMMON_COLUMNS).withColumn("service_type", F.lit(taxi_type))

    try:
        with timer.section("report"):
            trips("green", "lpep").unionAll(trips("yellow", "tpep")).createOrReplaceTempView("trips_data")
            result = spark.sql("""
                SELECT PULocationID AS revenue_zone, date_trunc('month', pickup_datetime) AS revenue_month, service_type,
                    SUM(fare_amount) AS revenue_monthly_fare, SUM(extra) AS revenue_monthly_extra,
                    SUM(mta_tax) AS revenue_monthly_mta_tax, SUM(tip_amount) AS revenue_monthly_tip_amount,
                    SUM(tolls_amount) AS revenue_monthly_tolls_amount,
                    SUM(improvement_surcharge) AS revenue_monthly_improvement_surcharge,
                    SUM(total_amount) AS revenue_monthly_total_amount,
                    SUM(congestion_surcharge) AS revenue_monthly_congestion_surcharge,
                    AVG(passenger_count) AS avg_monthly_passenger_count, AVG(trip_distance) AS avg_monthly_trip_distance
                FROM trips_data GROUP BY 1, 2, 3""")
            result.coalesce(1).write.parquet(str(args.out.resolve() / "report"), mode="overwrite")
        version = spark.version
    finally:
        with timer.section("stop"):
            spark.stop()
    write_result(args.result, sections=timer.sections, spark_version=version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
