"""What every variant shares: its command line, its result file, a bare Spark session, the course's columns."""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

# Started at import, i.e. once the interpreter is up: "in_process_s" counts from here (the parent counts the rest).
STARTED = time.perf_counter()

TAXI_TYPES = ("green", "yellow")
# The platform's local Spark settings (resources/spark.py LOCAL_CONFIG) without importing Dagster: bare variants
# must not pay for it.
LOCAL_SETTINGS = {
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "8",
}


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--months", required=True, help="comma-separated YYYY-MM")
    p.add_argument("--raw", required=True, help="raw path template: {taxi_type}, {year}, {month:02d}")
    p.add_argument("--out", required=True, type=Path, help="output folder (replaced)")
    p.add_argument("--result", required=True, type=Path, help="JSON file for this run's own figures")
    p.add_argument("--master", default="local[*]")
    p.add_argument("--driver-memory", default="2g")
    return p


def months_of(args) -> list[str]:
    return [m for m in args.months.split(",") if m]


def raw_file(template: str, taxi_type: str, month: str) -> str:
    year, number = (int(p) for p in month.split("-"))
    return str(Path(template.format(taxi_type=taxi_type, year=year, month=number)) / "part-00000.parquet")


class Timer:
    """Named wall-clock sections of one run."""

    def __init__(self):
        self.sections: dict[str, float] = {}

    @contextmanager
    def section(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.sections[name] = round(self.sections.get(name, 0.0) + time.perf_counter() - start, 4)


def write_result(path: Path, **figures) -> None:
    figures["in_process_s"] = round(time.perf_counter() - STARTED, 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=str))


# The settings the reference variants ran with when issue #17 fixed them as the reference (the platform's BASE_CONFIG of
# that day): frozen here, so that tuning the platform's settings never moves the reference it is measured against.
REFERENCE_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.legacy.parquet.nanosAsLong": "true",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.adaptive.enabled": "true",
}


def reference_classify(conformed):
    """``transforms/quarantine.classify`` as it was the day #17 fixed the reference (a Window search): frozen here,
    so that a faster copy search in the platform never moves the reference it is measured against. The same rows and
    reasons (the library's ``label``); the copies are numbered by ``row_number`` over a window of every column, after
    one exchange by a month-aligned slot, each task sorting its rows by a 64-bit row hash first."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from taxi_platform.schemas import MONTH_COLUMN
    from taxi_platform.transforms.quarantine import COPY_NUMBER_COLUMN, COPY_SEARCH_TASKS_PER_MONTH, label

    keys = [F.col("`" + c.replace("`", "``") + "`") for c in conformed.columns]
    row_hash = F.xxhash64(*keys)
    slot = F.hash(F.col(MONTH_COLUMN), F.pmod(row_hash, F.lit(COPY_SEARCH_TASKS_PER_MONTH)))
    copy_number = F.row_number().over(Window.partitionBy(slot, row_hash, *keys).orderBy(F.lit(1)))
    return label(conformed.repartition(slot).withColumn(COPY_NUMBER_COLUMN, copy_number))


def bare_session(master: str, driver_memory: str, app: str, settings: dict | None = None):
    """A plain SparkSession with the reference settings (or ``settings``), no Dagster anywhere."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    config = {**REFERENCE_SETTINGS, **LOCAL_SETTINGS} if settings is None else settings
    builder = SparkSession.builder.master(master).appName(app).config("spark.driver.memory", driver_memory)
    for key, value in config.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
