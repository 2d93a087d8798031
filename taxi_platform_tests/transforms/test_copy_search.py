"""The copy search behind ``duplicate_row`` (``quarantine.number_copies``): exact for any number of copies, the rows
out are the rows in (nulls, NaN and a double's sign of zero included), each month in at most
``COPY_SEARCH_TASKS_PER_MONTH`` tasks; checked against a plain Python count of the same rows."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from pyspark.sql import functions as F

from taxi_platform.transforms.conform import UNPARSEABLE_COLUMN, conform_months
from taxi_platform.transforms.quarantine import (
    COPY_NUMBER_COLUMN,
    COPY_SEARCH_TASKS_PER_MONTH,
    classify,
    clean_rows,
    number_copies,
    quarantined_rows,
)
from taxi_platform_tests.transforms.published import publish, write_parquet

pytestmark = pytest.mark.spark

SCHEMA = "month string, fare double, passengers int, flag string, _unparseable_column string"


def key(row: tuple) -> tuple:
    """A row as Python compares published values: -0.0 and 0.0 differ (their sign), every NaN is the same."""
    return tuple(("nan",) if isinstance(v, float) and math.isnan(v) else
                 (v, math.copysign(1.0, v)) if isinstance(v, float) else v for v in row)


def test_every_row_comes_out_once_numbered_among_its_exact_copies(spark):
    assert SCHEMA.endswith(f"{UNPARSEABLE_COLUMN} string")
    rng = random.Random(7)
    values = {"fare": [12.5, 0.0, -0.0, float("nan"), None, -3.0], "passengers": [1, 2, None], "flag": ["N", "Y", None],
              UNPARSEABLE_COLUMN: [None, None, "fare_amount"]}
    distinct = {key(r): r for r in ((m, *(rng.choice(v) for v in values.values())) for m in ("2020-01", "2020-02", "2020-03")
                                    for _ in range(60))}
    copies = {k: rng.choice([1, 1, 1, 2, 3, 7, 40]) for k in distinct}
    rows = [distinct[k] for k in distinct for _ in range(copies[k])]
    rng.shuffle(rows)
    numbered = number_copies(spark.createDataFrame(rows, SCHEMA).repartition(5))
    out = numbered.withColumn("task", F.spark_partition_id()).collect()

    numbers: dict[tuple, list[int]] = {}
    for r in out:
        numbers.setdefault(key(tuple(r)[:5]), []).append(r[COPY_NUMBER_COLUMN])
    assert Counter({k: len(v) for k, v in numbers.items()}) == Counter(copies)  # the multiset of rows is kept
    assert all(sorted(v) == list(range(1, len(v) + 1)) for v in numbers.values())  # numbered 1..n, no gap
    # the input has both zeros (so the sign check above could fail): Spark's grouping alone would write 0.0 for both
    assert {k[1] for k in copies} >= {(0.0, 1.0), (-0.0, -1.0), ("nan",), None}
    tasks = {}
    for r in out:
        tasks.setdefault(r["month"], set()).add(r["task"])
    assert set(tasks) == {"2020-01", "2020-02", "2020-03"}
    assert all(len(t) <= COPY_SEARCH_TASKS_PER_MONTH for t in tasks.values()), tasks


def test_a_row_published_a_thousand_times_is_one_clean_trip_and_999_duplicates(spark, tmp_path):
    start = datetime(2021, 3, 1, 6, 0)
    row = dict(publish("green", "int64_us").to_pylist()[0], lpep_pickup_datetime=start,
               lpep_dropoff_datetime=start + timedelta(minutes=9), fare_amount=-0.0, total_amount=7.5)
    other = dict(row, fare_amount=0.0)  # equal as numbers, published differently: not a copy of the -0.0 row
    table = pa.Table.from_pylist([row] * 1000 + [other] * 2, schema=publish("green", "int64_us").schema)
    path = write_parquet(table, tmp_path / "copies.parquet", "int64_us")
    classified = classify(conform_months({"2021-03": spark.read.parquet(str(path))}, "green"))
    clean = clean_rows(classified).collect()
    assert sorted(math.copysign(1.0, r.fare_amount) for r in clean) == [-1.0, 1.0]
    assert {r[0]: r[1] for r in quarantined_rows(classified).groupBy("quarantine_reason").count().collect()} == {
        "duplicate_row": 1000 - 1 + 2 - 1}


def test_any_column_name_is_searched(spark):
    odd = spark.createDataFrame([("a", 1.5, "2020-01")] * 3 + [("b", 1.5, "2020-01")],
                                "`x``y z.w` string, `fare amount` double, month string")
    numbered = sorted((r[0], r[COPY_NUMBER_COLUMN]) for r in number_copies(odd).collect())
    assert numbered == [("a", 1), ("a", 2), ("a", 3), ("b", 1)]
