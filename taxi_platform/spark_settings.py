"""Spark settings every target gets, with no Dagster import: the spark-submit job script ships to clusters (Dataproc
images, a standalone cluster's driver) that have pyspark but not Dagster, and reads these too."""

BASE_CONFIG: dict[str, str] = {
    # TLC timestamps are naive New York times: a UTC session keeps their wall-clock values unchanged end to end.
    "spark.sql.session.timeZone": "UTC",
    # Older TLC parquet files store TIMESTAMP(NANOS), which Spark refuses to read; read them as longs and let
    # transforms/conform.py turn them into timestamps.
    "spark.sql.legacy.parquet.nanosAsLong": "true",
    # Write UTC-adjusted TIMESTAMP_MICROS rather than the legacy INT96: every parquet reader understands it, and
    # BigQuery loads it as TIMESTAMP (INT96 would load as DATETIME).
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.showConsoleProgress": "false",
    # Lake folders are month=YYYY-MM: never let partition discovery turn them into dates.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.adaptive.enabled": "true",
}
