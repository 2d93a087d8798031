"""base_id throughput: the Python UDF vs the native Spark expressions, in one local Spark session.

    python bench/base_ids.py [--rows N] [--repeat K] [--master local[*]] [--json PATH]

N synthetic dispatching_base_num values ("B" + 5 digits, generated in the JVM, so no Python feeds them) are cached,
then each implementation computes base_id over all of them (a full aggregation forces every value: count of rows,
a hash sum, so nothing can be pruned and no shuffle is timed). Median wall time of K runs after one warm-up run;
prints rows/s of each and the native/UDF speed ratio, and checks both give the same hash sum.
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
# The UDF's Python workers must run this interpreter (with pyarrow and taxi_platform), not the system python.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def make_session(master: str):
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName("bench-base-ids")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def synthetic_bases(spark, rows: int):
    from pyspark.sql import functions as F

    num = F.pmod(F.xxhash64("id"), F.lit(100_000))
    return spark.range(rows).select(F.concat(F.lit("B"), F.lpad(num.cast("string"), 5, "0")).alias("dispatching_base_num"))


def run_once(df, implementation: str) -> tuple[float, tuple]:
    from pyspark.sql import functions as F

    from taxi_platform.transforms.base_ids import base_id_native, base_id_udf

    column = F.col("dispatching_base_num")
    ids = (base_id_native(column) if implementation == "native" else base_id_udf(column)).alias("base_id")
    start = time.perf_counter()
    # A global aggregate (no shuffle) over every id: what is timed is computing base_id, not a distinct count.
    row = df.select(ids).agg(F.count("base_id"), F.sum(F.pmod(F.xxhash64("base_id"), F.lit(1_000_003)))).collect()[0]
    return time.perf_counter() - start, tuple(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--json", default=None, help="also write the results as JSON to this path")
    args = parser.parse_args(argv)

    spark = make_session(args.master)
    try:
        df = synthetic_bases(spark, args.rows).cache()
        df.count()
        results, answers = {}, {}
        for implementation in ("udf", "native"):
            run_once(df, implementation)  # warm-up (Python workers, code generation)
            runs = []
            for _ in range(args.repeat):
                seconds, answer = run_once(df, implementation)
                runs.append(seconds)
                answers[implementation] = answer
            median = statistics.median(runs)
            results[implementation] = {"median_s": median, "rows_per_s": args.rows / median, "runs_s": runs}
            print(f"{implementation:>6}: {args.rows:,} rows, median {median:.3f} s, {args.rows / median:,.0f} rows/s")
        if answers["udf"] != answers["native"]:
            raise SystemExit(f"the implementations disagree: udf {answers['udf']} native {answers['native']}")
        ratio = results["udf"]["median_s"] / results["native"]["median_s"]
        print(f" ratio: native is {ratio:.1f}x the UDF's throughput ({answers['native'][0]:,} ids, same results)")
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
