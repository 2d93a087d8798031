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
    # Partitioned writes (every lake dataset is written partitioned by month; a clean step's split write by reason and
    # month) keep up to this many files open per task instead of sorting the task's rows by the partition columns
    # first: without it, Spark 3.4+ plans a full sort of every written row (V1Writes' required ordering), which was a
    # fifth of the clean step's CPU. A task needing more open files than this sorts its remaining rows, as before
    # (FileFormatWriter's ConcurrentOutputWriterSpec); parquet's memory manager shrinks the row groups of many open
    # writers to fit the heap.
    "spark.sql.maxConcurrentOutputFileWriters": "128",
}
