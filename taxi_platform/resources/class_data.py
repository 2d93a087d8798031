"""A class-data archive (JDK AppCDS, JEP 350 dynamic archive) for the local Spark driver JVM.

A local Spark application spends most of its first seconds loading and verifying the ~15,000 classes Spark, Hadoop,
Parquet and Scala need. The JDK can map those classes from an archive written by an earlier JVM with the same
class path (``-XX:ArchiveClassesAtExit`` once, ``-XX:SharedArchiveFile`` afterwards). Measured on 2 cores (Java 17,
pyspark 4.3): a small local application (session, a shuffle, a partitioned parquet write and read, stop) took
28.0 s wall / 49 CPU s without the archive and 17.8 s / 32 CPU s with it.

- ``python -m taxi_platform.resources.class_data`` writes the archive (``make install`` runs it): a child
  interpreter starts a local session with ``ArchiveClassesAtExit`` pointed at a temporary file, runs a small job
  of the kinds the platform runs, stops; once that JVM has exited (it writes the archive on exit) the file is
  renamed into place, so a reader never sees half an archive.
- ``driver_java_options()`` gives the options that use it, or "" when there is none. The archive is keyed by the
  pyspark version and install path and the ``java`` binary, so another JDK or pyspark gets its own. A stale or
  broken archive is never fatal: the JVM checks it and starts without it (``-Xshare:auto``), silently.

Set ``TAXI_SPARK_CLASS_ARCHIVE`` to a file path to use another archive, or to ``off`` to use none.

Each archive (~176 MiB) has a sidecar ``.json`` naming the pyspark folder and ``java`` binary it was written for;
writing (or finding) the default archive removes the other archives of the cache folder whose pyspark folder or
``java`` is gone (a deleted clone or virtualenv, a replaced JDK), so that reinstalls do not pile them up. Archives
without a sidecar (written before it existed, or by hand) are left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ARCHIVE_ENV = "TAXI_SPARK_CLASS_ARCHIVE"

# Run by the child interpreter that writes the archive: a session started as the platform's local target starts it
# (SparkResource, its settings), then the classes a platform step loads (parquet read and partitioned write, a
# shuffle with a window, an observation, aggregates, the copy search's explode), on a few rows.
_TRAINING_JOB = r"""
import sys, tempfile
from pyspark.sql import Observation, Window, functions as F
from taxi_platform.resources.spark import SparkResource
spark = SparkResource(master="local[2]", spark_config={"spark.driver.extraJavaOptions": sys.argv[1],
                                                       "spark.ui.enabled": "false"}).get_session()
print(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid(), flush=True)
out = tempfile.mkdtemp(prefix="taxi_platform-class-data-")
df = spark.range(20000).select(F.col("id"), (F.col("id") % 3).cast("string").alias("month"),
                               (F.col("id") * 1.5).alias("amount"), F.current_timestamp().alias("at"))
observation = Observation("rows")
ranked = df.repartition("month").withColumn("n", F.row_number().over(Window.partitionBy("month", "id").orderBy("at")))
ranked.observe(observation, F.count(F.lit(1))).write.mode("overwrite").partitionBy("month").parquet(out)
back = spark.read.parquet(out)
back.groupBy("month").agg(F.sum("amount"), F.count(F.lit(1))).collect()
back.where(F.col("n") > 1).count()
copies = back.repartition("month").groupBy("month", "id", "amount").agg(F.count(F.lit(1)).alias("c"))
copies.select("*", F.explode(F.sequence(F.lit(1).cast("long"), F.col("c"))).alias("k")).write.format("noop") \
    .mode("overwrite").save()
observation.get
spark.stop()
"""


def _installation() -> dict[str, str]:
    """What an archive is written for: the pyspark version and folder and the resolved ``java`` binary."""
    import pyspark

    java = shutil.which("java") or ""
    return {"pyspark_version": pyspark.__version__, "pyspark": os.path.dirname(pyspark.__file__),
            "java": os.path.realpath(java) if java else ""}


def default_archive() -> Path:
    """``$XDG_CACHE_HOME`` (or ``~/.cache``) ``/taxi_platform/spark-driver-<key>.jsa``; <key>: 16 hex digits of the
    pyspark version and install folder and the resolved ``java`` binary."""
    found = _installation()
    key = hashlib.sha256("|".join([found["pyspark_version"], found["pyspark"], found["java"]]).encode()).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "taxi_platform" / f"spark-driver-{key[:16]}.jsa"


def prune_archives(keep: Path) -> list[Path]:
    """Remove the other ``spark-driver-*.jsa`` archives of ``keep``'s folder whose sidecar names a pyspark folder or
    ``java`` that no longer exists (with their sidecars); -> the archives removed. Archives without a readable
    sidecar naming both are kept."""
    removed = []
    for other in sorted(keep.parent.glob("spark-driver-*.jsa")):
        if other == keep:
            continue
        sidecar = other.with_suffix(".json")
        try:
            recorded = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(recorded, dict) or not all(isinstance(recorded.get(k), str) and recorded[k]
                                                     for k in ("pyspark", "java")):
            continue  # not a sidecar this module wrote: not ours to judge
        if not os.path.isdir(recorded["pyspark"]) or not os.path.exists(recorded["java"]):
            other.unlink(missing_ok=True)
            sidecar.unlink(missing_ok=True)
            removed.append(other)
    return removed


def archive_path() -> Optional[Path]:
    """The archive to use or write: ``TAXI_SPARK_CLASS_ARCHIVE`` if set (None for ``off``), else the default."""
    chosen = os.environ.get(ARCHIVE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    return Path(chosen) if chosen else default_archive()


def driver_java_options() -> str:
    """JVM options that map the archive (``-XX:SharedArchiveFile``, checked by the JVM, its messages off), or ""
    when there is no archive (or ``TAXI_SPARK_CLASS_ARCHIVE=off``)."""
    path = archive_path()
    if path is None or not path.is_file():
        return ""
    return f"-XX:SharedArchiveFile={path} -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.2)
    return not os.path.exists(f"/proc/{pid}")


def write_archive(path: Path, timeout: float = 600) -> Path:
    """Write the archive for this pyspark and JDK to ``path`` (replaced whole); -> ``path``.

    Raises ``RuntimeError`` naming the cause when the training run fails or its JVM wrote no archive.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.unlink(temporary)  # the JVM creates it at exit
    try:
        env = {**os.environ, "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")}
        env.pop("JAVA_TOOL_OPTIONS", None)  # the archive is written by a JVM started as the platform starts it
        env[ARCHIVE_ENV] = "off"  # a dynamic archive is written on top of the JDK's base archive, never another one
        done = subprocess.run([sys.executable, "-c", _TRAINING_JOB, f"-XX:ArchiveClassesAtExit={temporary}"],
                              capture_output=True, text=True, timeout=timeout, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"the class-data training run failed (exit {done.returncode}): {done.stderr[-2000:]}")
        pid = int(done.stdout.split()[0])
        if not _wait_for_exit(pid, timeout=120):
            raise RuntimeError(f"the training run's JVM (pid {pid}) did not exit within 120 s")
        if not os.path.isfile(temporary) or os.path.getsize(temporary) == 0:
            raise RuntimeError(f"the training run's JVM wrote no class-data archive at {temporary}")
        path.with_suffix(".json").write_text(json.dumps(_installation()))
        os.replace(temporary, path)
        return path
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="Write the local Spark driver's class-data archive (AppCDS).")
    p.add_argument("--force", action="store_true", help="rewrite it even when it exists")
    args = p.parse_args(argv)
    path = archive_path()
    if path is None:
        print(f"{ARCHIVE_ENV}=off: no class-data archive")
        return 0
    if path == default_archive():
        for removed in prune_archives(path):
            print(f"removed the class-data archive of a pyspark or JDK that is gone: {removed}")
    if path.is_file() and not args.force:
        print(f"class-data archive present: {path}")
        return 0
    started = time.perf_counter()
    try:
        write_archive(path)
    except Exception as error:  # the platform runs without it, only slower to start
        print(f"no class-data archive written ({error}); local Spark sessions start without one", file=sys.stderr)
        return 1
    print(f"class-data archive written: {path} ({path.stat().st_size / 2**20:.0f} MiB, "
          f"{time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
