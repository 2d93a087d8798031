"""Metrics observed during a write reach the output's metadata; when a target delivers none, the wait is bounded."""

import time

import pytest
from pyspark.sql import Observation
from pyspark.sql import functions as F

from taxi_platform.io_managers.lake import observed_metrics

pytestmark = pytest.mark.spark


def test_metrics_of_a_finished_write_are_there(spark, tmp_path):
    observation = Observation("observed_write_test")
    df = spark.range(10).observe(observation, F.count(F.lit(1)).alias("rows"), F.sum("id").alias("total"))
    df.write.parquet(str(tmp_path / "out"))
    assert observed_metrics(observation, timeout=30) == {"rows": 10, "total": 45}


def test_metrics_that_never_come_give_none_within_the_timeout(spark):
    never_used = Observation("never_used")
    assert observed_metrics(never_used, timeout=5) is None  # get() before any observe: an error, not a hang
    attached_never_run = Observation("attached_never_run")
    spark.range(3).observe(attached_never_run, F.count(F.lit(1)).alias("rows"))  # no action: get() would block
    start = time.monotonic()
    assert observed_metrics(attached_never_run, timeout=1.0) is None
    assert time.monotonic() - start < 10
