"""Two fixed costs of the platform outside any run: the sample generator's throughput and the definitions' load."""

from __future__ import annotations

import statistics
import subprocess
import sys

# Loads the definitions in a fresh interpreter the way `dagster dev` / a run worker does, then proves that no JVM
# (no SparkContext, no child process at all) was started by it. Prints the seconds of the import + graph resolution.
DEFINITIONS_PROBE = """
import os, time
start = time.perf_counter()
import taxi_platform.definitions as d
d.defs.resolve_asset_graph()
seconds = time.perf_counter() - start
from pyspark import SparkContext
assert SparkContext._active_spark_context is None, "a SparkContext started at import"
pid = os.getpid()
kids = [k for t in os.listdir(f"/proc/{pid}/task") for k in open(f"/proc/{pid}/task/{t}/children").read().split()]
assert not kids, f"child processes started at import: {kids}"
print(seconds)
"""


def definitions_load(repeat: int, cwd: str, env: dict) -> dict:
    """Median seconds to import the definitions and resolve the asset graph, in a fresh interpreter each time."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", DEFINITIONS_PROBE], capture_output=True, text=True, cwd=cwd,
                             env=env, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"loading the definitions failed or started a JVM:\n{out.stderr[-3000:]}")
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return {"median_s": statistics.median(runs), "runs_s": runs, "jvm_started": False}


def generator(rows: int, repeat: int) -> dict:
    """The sample generator's rows/s per taxi type (bench/generator.py's measure), and the slower of the two."""
    from bench.generator import measure

    results = {t: measure(t, "2020-01", rows, repeat) for t in ("green", "yellow")}
    return {
        "rows": rows,
        "repeat": repeat,
        "rows_per_s": {t: r["rows_per_s"] for t, r in results.items()},
        "min_rows_per_s": min(r["rows_per_s"] for r in results.values()),
        "runs_s": {t: r["runs_s"] for t, r in results.items()},
    }
