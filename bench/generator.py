"""Throughput of the offline sample generator: rows per second per taxi type (median of --repeat runs).

    python bench/generator.py [--rows N] [--repeat K] [--month YYYY-MM] [--json PATH]

Prints one line per taxi type; writes nothing else except the optional JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from taxi_platform.sample.generator import TAXI_TYPES, generate_month


def measure(taxi_type: str, month: str, rows: int, repeat: int) -> dict:
    """Median wall time of generate_month over ``repeat`` runs (after one small warm-up run)."""
    generate_month(taxi_type, month, min(rows, 10_000), seed=0)
    seconds, cpu_seconds = [], []
    for run in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        table = generate_month(taxi_type, month, rows, seed=run)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        assert table.num_rows == rows
        del table
    median = statistics.median(seconds)
    return {"taxi_type": taxi_type, "month": month, "rows": rows, "repeat": repeat,
            "median_s": median, "rows_per_s": rows / median, "median_cpu_s": statistics.median(cpu_seconds),
            "runs_s": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--month", default="2021-01")
    parser.add_argument("--types", default=",".join(TAXI_TYPES), help="comma-separated taxi types")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    results = []
    for taxi_type in args.types.split(","):
        result = measure(taxi_type, args.month, args.rows, args.repeat)
        results.append(result)
        print(f"{taxi_type:7s} {args.month} rows={args.rows:>10,d}  median {result['median_s']:.3f} s "
              f"(cpu {result['median_cpu_s']:.3f} s)  {result['rows_per_s'] / 1e6:6.2f} M rows/s", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()}
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
