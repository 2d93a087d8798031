"""Trip-duration predictions: the course's mapPartitions (RDD rows) vs mapInPandas (Arrow batches), one local session.

    python bench/predictions.py [--rows N] [--repeat K] [--master local[*]] [--json PATH]

N synthetic trips (made in the JVM from ``spark.range``, so no Python feeds them) are cached; then each method applies
the same trained model (``transforms/duration_model.py``, fitted once on the same trips) to every trip and a global
aggregate forces every prediction (count and sum: nothing can be pruned, no shuffle is timed). The methods are
interleaved in each repetition after one warm-up each (Python workers, code generation); prints the median wall time,
rows/s and the ratio, and checks both methods give the same count and sum.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# The Python workers must run this interpreter (with pandas, pyarrow and taxi_platform), not the system python.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

METHODS = ("map_partitions", "map_in_pandas")


def make_session(master: str):
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName("bench-predictions")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


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


def run_once(df, method: str, models) -> tuple[float, tuple]:
    from pyspark.sql import functions as F

    from taxi_platform.transforms.predictions import predict_durations

    start = time.perf_counter()
    row = predict_durations(df, models, method=method).agg(F.count("predicted_duration"), F.sum("predicted_duration"))
    row = row.collect()[0]
    return time.perf_counter() - start, (int(row[0]), round(float(row[1]), 3))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--json", default=None, help="also write the results as JSON to this path")
    args = parser.parse_args(argv)

    from taxi_platform.transforms.duration_model import fit_monthly_models
    from taxi_platform.transforms.predictions import ModelChoice

    spark = make_session(args.master)
    try:
        df = synthetic_trips(spark, args.rows).cache()
        df.count()
        models = ModelChoice(by_month=fit_monthly_models(df, ["2021-01"]))
        runs: dict[str, list[float]] = {m: [] for m in METHODS}
        answers = {}
        for method in METHODS:
            run_once(df, method, models)  # warm-up
        for _ in range(args.repeat):
            for method in METHODS:  # interleaved: both see the same machine state
                seconds, answers[method] = run_once(df, method, models)
                runs[method].append(seconds)
        results = {}
        for method in METHODS:
            median = statistics.median(runs[method])
            spread = max(runs[method]) - min(runs[method])
            results[method] = {"median_s": median, "rows_per_s": args.rows / median, "runs_s": runs[method]}
            print(f"{method:>14}: {args.rows:,} rows, median {median:.2f} s (spread {spread:.2f} s), "
                  f"{args.rows / median:,.0f} rows/s")
        if answers["map_partitions"] != answers["map_in_pandas"]:
            raise SystemExit(f"the methods disagree: {answers}")
        ratio = results["map_partitions"]["median_s"] / results["map_in_pandas"]["median_s"]
        print(f"         ratio: map_in_pandas is {ratio:.1f}x map_partitions' throughput "
              f"({answers['map_in_pandas'][0]:,} predictions, same count and sum)")
        if args.json:
            summary = {"rows": args.rows, "repeat": args.repeat, "master": args.master, "spark": spark.version,
                       "python": platform.python_version(), "cpus": os.cpu_count(), "ratio": ratio, **results}
            with open(args.json, "w") as out:
                json.dump(summary, out, indent=2)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
