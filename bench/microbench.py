"""Two implementations of one computation, timed side by side in one local Spark session (``bench/base_ids.py``,
``bench/predictions.py``).

The rows are synthetic and cached first (made in the JVM, so no Python feeds them); each implementation runs once to
warm up (Python workers, code generation), then they are interleaved in every repetition so both see the same machine
state. Each run returns its answer (e.g. a count and a sum forcing every value); the implementations must agree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from typing import Callable

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# Python workers (UDFs, mapPartitions, mapInPandas) must run this interpreter (with pandas, pyarrow and
# taxi_platform), not the system python.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--master", default="local[*]")
    p.add_argument("--json", default=None, help="also write the results as JSON to this path")
    return p


def local_session(master: str, app: str):
    from pyspark.sql import SparkSession

    from taxi_platform.spark_settings import BASE_CONFIG

    builder = SparkSession.builder.master(master).appName(app)
    settings = {**BASE_CONFIG, "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "8",
                "spark.driver.memory": "2g"}
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def timed(run: Callable[[], tuple]) -> tuple[float, tuple]:
    start = time.perf_counter()
    answer = run()
    return time.perf_counter() - start, answer


def compare(runs: dict[str, Callable[[], tuple]], rows: int, repeat: int) -> dict[str, dict]:
    """{implementation: {median_s, rows_per_s, runs_s}} of ``repeat`` interleaved runs after a warm-up each;
    prints one line each and stops with an error when their answers differ."""
    for run in runs.values():
        run()  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    answers: dict[str, tuple] = {}
    for _ in range(repeat):
        for name, run in runs.items():
            elapsed, answers[name] = timed(run)
            seconds[name].append(elapsed)
    if len(set(answers.values())) > 1:
        raise SystemExit(f"the implementations disagree: {answers}")
    results = {}
    width = max(len(name) for name in runs)
    for name, values in seconds.items():
        median = statistics.median(values)
        results[name] = {"median_s": median, "rows_per_s": rows / median, "runs_s": values}
        print(f"{name:>{width}}: {rows:,} rows, median {median:.3f} s (spread {max(values) - min(values):.3f} s), "
              f"{rows / median:,.0f} rows/s")
    return results


def write_json(path: str | None, args: argparse.Namespace, spark, ratio: float, results: dict) -> None:
    if path:
        summary = {"rows": args.rows, "repeat": args.repeat, "master": args.master, "spark": spark.version,
                   "python": platform.python_version(), "cpus": os.cpu_count(), "ratio": ratio, **results}
        with open(path, "w") as out:
            json.dump(summary, out, indent=2)
