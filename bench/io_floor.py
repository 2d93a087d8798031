"""Spark's floor for the clean step's I/O against DuckDB's: the raw months copied to parquet, no transform.

    python bench/io_floor.py [--raw .cache/bench/raw-q2-1100000-s42] [--months 12] [--master local[*]]

Reads each taxi type's first ``--months`` raw months of the bench input (written by ``python -m bench``; the
months of one parquet schema in one read, as the lake reads them) and writes them as parquet partitioned by a
constant ``month`` (a partitioned write, as clean's): first in a cold local session (the session's start printed
apart), then again warm; then DuckDB ``COPY`` s the same files. Prints seconds per taxi type and round. What it
shows: how much of the gap between the platform's clean step and DuckDB's is the engines' cost of merely moving
the bytes (README, Performance).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/io_floor.py` from anywhere

from bench.data import FILE_NAME, TAXI_TYPES, raw_months  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def files_by_schema(raw: Path, taxi_type: str, months: int) -> list[list[str]]:
    """The type's first ``months`` month files, grouped by parquet schema (Spark reads one schema at a time)."""
    import pyarrow.parquet as pq

    files = sorted(str(f) for f in (raw / taxi_type).glob(f"*/*/{FILE_NAME}"))[:months]
    if not files:
        raise SystemExit(f"no raw {taxi_type} months under {raw}: run `python -m bench` once to write them")
    groups: dict[str, list[str]] = {}
    for f in files:
        groups.setdefault(str(pq.read_schema(f)), []).append(f)
    return list(groups.values())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # the default bench input (python -m bench's default --cache, --rows-per-month and --seed)
    p.add_argument("--raw", type=Path, default=raw_months(REPO / ".cache" / "bench", 1_100_000, 42).root)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--master", default="local[*]")
    args = p.parse_args(argv)
    groups = {t: files_by_schema(args.raw, t, args.months) for t in TAXI_TYPES}
    out = Path(tempfile.mkdtemp(prefix="io-floor-"))
    try:
        from pyspark.sql import functions as F

        from taxi_platform.resources.spark import SparkResource

        started = time.monotonic()
        spark = SparkResource(master=args.master).get_session()
        print(f"spark session start: {time.monotonic() - started:.1f} s", flush=True)
        for round_ in ("cold", "warm"):
            for taxi_type in TAXI_TYPES:
                target = out / f"spark-{taxi_type}"
                shutil.rmtree(target, ignore_errors=True)
                started = time.monotonic()
                for files in groups[taxi_type]:
                    spark.read.option("basePath", str(args.raw / taxi_type)).parquet(*files) \
                        .withColumn("month", F.lit("all")).write.mode("append").partitionBy("month").parquet(str(target))
                print(f"spark {round_} {taxi_type}: {time.monotonic() - started:.1f} s", flush=True)
        spark.stop()
        import duckdb

        for taxi_type in TAXI_TYPES:
            files = [f for group in groups[taxi_type] for f in group]
            started = time.monotonic()
            duckdb.sql(f"COPY (SELECT * FROM read_parquet({files!r}, union_by_name = true)) "
                       f"TO '{out / f'duckdb-{taxi_type}.parquet'}' (FORMAT parquet)")
            print(f"duckdb {taxi_type}: {time.monotonic() - started:.1f} s", flush=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
