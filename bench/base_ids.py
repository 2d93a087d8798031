"""base_id throughput: the Python UDF vs the native Spark expressions, in one local Spark session.

    python bench/base_ids.py [--rows N] [--repeat K] [--master local[*]] [--json PATH]

N synthetic dispatching_base_num values ("B" + 5 digits, generated in the JVM, so no Python feeds them) are cached,
then each implementation computes base_id over all of them (a full aggregation forces every value: count of rows,
a hash sum, so nothing can be pruned and no shuffle is timed). Median wall time of K interleaved runs after one
warm-up each; prints rows/s of each and the native/UDF speed ratio, and checks both give the same hash sum.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/base_ids.py` from anywhere

from bench.microbench import compare, local_session, parser, write_json  # noqa: E402


def synthetic_bases(spark, rows: int):
    from pyspark.sql import functions as F

    num = F.pmod(F.xxhash64("id"), F.lit(100_000))
    return spark.range(rows).select(F.concat(F.lit("B"), F.lpad(num.cast("string"), 5, "0")).alias("dispatching_base_num"))


def base_id_sum(df, implementation: str) -> tuple:
    from pyspark.sql import functions as F

    from taxi_platform.transforms.base_ids import base_id_native, base_id_udf

    column = F.col("dispatching_base_num")
    ids = (base_id_native(column) if implementation == "native" else base_id_udf(column)).alias("base_id")
    # A global aggregate (no shuffle) over every id: what is timed is computing base_id, not a distinct count.
    return tuple(df.select(ids).agg(F.count("base_id"), F.sum(F.pmod(F.xxhash64("base_id"), F.lit(1_000_003))))
                 .collect()[0])


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__).parse_args(argv)
    spark = local_session(args.master, "bench-base-ids")
    try:
        df = synthetic_bases(spark, args.rows).cache()
        df.count()
        results = compare({name: (lambda name=name: base_id_sum(df, name)) for name in ("udf", "native")},
                          args.rows, args.repeat)
        ratio = results["udf"]["median_s"] / results["native"]["median_s"]
        print(f" ratio: native is {ratio:.1f}x the UDF's throughput (same results)")
        write_json(args.json, args, spark, ratio, results)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
