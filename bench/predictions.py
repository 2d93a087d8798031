"""Trip-duration predictions: the course's mapPartitions (RDD rows) vs mapInPandas (Arrow batches), one local session.

    python bench/predictions.py [--rows N] [--repeat K] [--master local[*]] [--json PATH]

N synthetic trips (made in the JVM from ``spark.range``, so no Python feeds them) are cached; then each method applies
the same trained model (``transforms/duration_model.py``, fitted once on the same trips) to every trip and a global
aggregate forces every prediction (count and sum: nothing can be pruned, no shuffle is timed). The methods are
interleaved in each repetition after one warm-up each (``bench/microbench.py``); prints the median wall time,
rows/s and the ratio, and checks both methods give the same count and sum.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/predictions.py` from anywhere

from bench.microbench import compare, local_session, parser, write_json  # noqa: E402

METHODS = ("map_partitions", "map_in_pandas")


def synthetic_trips(spark, rows: int):
    """Trips of 2021-01 with distances 0.1-15 mi and durations of 3-6 min/mile plus stops (deterministic)."""
    from pyspark.sql import functions as F

    h = F.xxhash64("id")
    pickup = F.timestamp_seconds(F.lit(1609459200) + F.pmod(h, F.lit(31 * 86400)))  # 2021-01-01 + up to 31 days
    distance = (F.pmod(F.xxhash64("id", F.lit(1)), F.lit(1490)) + 10) / 100.0
    seconds = distance * (180 + F.pmod(F.xxhash64("id", F.lit(2)), F.lit(180))) + 60
    return spark.range(rows).select(
        (F.col("id") % 2 + 1).cast("int").alias("VendorID"),
        pickup.alias("pickup_datetime"),
        (pickup + F.make_dt_interval(secs=seconds)).alias("dropoff_datetime"),
        (F.pmod(h, F.lit(263)) + 1).cast("int").alias("PULocationID"),
        (F.pmod(F.xxhash64("id", F.lit(3)), F.lit(263)) + 1).cast("int").alias("DOLocationID"),
        distance.cast("double").alias("trip_distance"),
        F.when(F.col("id") % 2 == 0, "green").otherwise("yellow").alias("service_type"),
        F.lit("2021-01").alias("month"),
    )


def prediction_sum(df, method: str, models) -> tuple:
    from pyspark.sql import functions as F

    from taxi_platform.transforms.predictions import predict_durations

    row = predict_durations(df, models, method=method).agg(F.count("predicted_duration"), F.sum("predicted_duration"))
    row = row.collect()[0]
    return int(row[0]), round(float(row[1]), 3)


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__).parse_args(argv)

    from taxi_platform.transforms.duration_model import fit_monthly_models
    from taxi_platform.transforms.predictions import ModelChoice

    spark = local_session(args.master, "bench-predictions")
    try:
        df = synthetic_trips(spark, args.rows).cache()
        df.count()
        models = ModelChoice(by_month=fit_monthly_models(df, ["2021-01"]))
        results = compare({m: (lambda m=m: prediction_sum(df, m, models)) for m in METHODS}, args.rows, args.repeat)
        ratio = results["map_partitions"]["median_s"] / results["map_in_pandas"]["median_s"]
        print(f"         ratio: map_in_pandas is {ratio:.1f}x map_partitions' throughput (same count and sum)")
        write_json(args.json, args, spark, ratio, results)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
