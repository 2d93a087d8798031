"""The homework answers on a small DataFrame built here, whose answers are known exactly."""

import os
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from pyspark.sql import functions as F

from taxi_platform.schemas import MONTH_COLUMN, spark_schema, spark_type_name
from taxi_platform.transforms.answers import (
    MONTHLY_ANSWERS_SCHEMA,
    answers_frame,
    least_frequent_pickup_zone,
    monthly_answers,
    parquet_file_sizes,
    pickups_per_zone,
    spark_ui_port,
    trip_facts,
)

pytestmark = pytest.mark.spark

DAY = date(2021, 1, 15)
# (pickup, dropoff, PULocationID); times are wall-clock strings, cast in the session's time zone (UTC)
TRIPS = [
    ("2021-01-15 00:00:00", "2021-01-15 00:10:00", 10),  # first instant of the day: counted
    ("2021-01-15 23:59:59.999999", "2021-01-16 00:20:00", 10),  # last instant of the day: counted
    ("2021-01-15 12:00:00", "2021-01-15 12:30:00", 10),
    ("2021-01-14 23:59:59.999999", "2021-01-15 00:05:00", 20),  # the day before: not counted
    ("2021-01-16 00:00:00", "2021-01-16 01:00:00", 30),  # the day after: not counted
    ("2021-01-03 08:00:00", "2021-01-04 10:15:00.000360", 40),  # the longest: 26.25 h + 360 us = 26.2501 h
    ("2021-01-15 09:00:00", None, 50),  # no dropoff: counted on the day, no duration
    ("2021-01-20 09:00:00", "2021-01-20 09:05:00", None),  # no zone: never the least frequent zone
    ("2021-01-21 09:00:00", "2021-01-21 09:05:00", 999),  # not in the lookup: left out of the zone answer
    ("2021-01-22 09:00:00", "2021-01-22 09:05:00", 20),
]
LONGEST_HOURS = 26.25 + 360 / 3_600_000_000
# zone counts: 10 -> 3, 20 -> 2, 30 -> 1, 40 -> 1, 50 -> 1; names make 50 ("Alpha") win the tie of one trip,
# 30 and 40 share a name ("Bravo") and lose; 60 has no pickup and must not compete
ZONES = [(10, "Manhattan", "Zulu"), (20, "Queens", "Yankee"), (30, "Bronx", "Bravo"), (40, "Bronx", "Bravo"),
         (50, "Brooklyn", "Alpha"), (60, "Staten Island", "Aardvark")]


@pytest.fixture(scope="module")
def trips(spark):
    df = spark.createDataFrame(TRIPS, "pickup string, dropoff string, PULocationID int")
    return df.select(F.col("pickup").cast("timestamp").alias("pickup_datetime"),
                     F.col("dropoff").cast("timestamp").alias("dropoff_datetime"), "PULocationID")


@pytest.fixture(scope="module")
def zones(spark):
    rows = [(i, b, z, "Boro Zone") for i, b, z in ZONES]
    return spark.createDataFrame(rows, spark_schema((("LocationID", "int"), ("Borough", "string"), ("Zone", "string"),
                                                     ("service_zone", "string"))))


def test_trip_facts_count_the_day_and_find_the_longest_trip_exactly(trips):
    facts = trip_facts(trips, DAY)
    assert facts.trips == len(TRIPS)
    assert facts.trips_on_day == 4
    assert facts.longest_trip_hours == pytest.approx(LONGEST_HOURS, abs=1e-12)
    assert trip_facts(trips, date(2021, 2, 15)).trips_on_day == 0


def test_least_frequent_zone_breaks_ties_by_name_then_id(trips, zones):
    zone = least_frequent_pickup_zone(trips, zones)
    assert (zone.location_id, zone.zone, zone.borough, zone.trips) == (50, "Alpha", "Brooklyn", 1)
    ranked = [(r["LocationID"], r["trips"]) for r in pickups_per_zone(trips, zones).collect()]
    assert ranked == [(50, 1), (30, 1), (40, 1), (20, 2), (10, 3)]  # 60 (no pickup), 999 and null never appear
    # without "Alpha", the two "Bravo" zones tie on count and name: the lower LocationID wins
    without_alpha = trips.where(F.col("PULocationID") != 50)
    assert least_frequent_pickup_zone(without_alpha, zones).location_id == 30
    assert least_frequent_pickup_zone(trips.where(F.col("PULocationID") == 999), zones) is None


def part_files(folder: Path) -> dict[str, int]:
    return {p.name: os.stat(p).st_size for p in folder.glob("part-*.parquet")}


def test_average_file_size_is_measured_on_the_written_files(trips, tmp_path):
    scratch = tmp_path / "scratch"
    sizes = parquet_file_sizes(trips, 3, str(scratch))
    on_disk = part_files(scratch)
    assert sizes.partitions == 3 and sizes.files == 3 == len(on_disk)
    measured = {Path(unquote(urlsplit(uri).path)).name: size for uri, size in sizes.sizes.items()}
    assert measured == on_disk
    assert sizes.total_bytes == sum(on_disk.values())
    assert sizes.average_bytes == pytest.approx(sum(on_disk.values()) / 3)
    # written again with another N into the same scratch: overwritten, measured anew
    again = parquet_file_sizes(trips, 2, str(scratch))
    assert again.files == 2 == len(part_files(scratch))


def test_empty_data_has_no_part_file_to_average(trips, tmp_path):
    sizes = parquet_file_sizes(trips.limit(0), 4, str(tmp_path / "empty"))
    assert sizes.files == 0 and sizes.average_bytes is None


def test_spark_ui_port_from_the_session_address():
    assert spark_ui_port("http://127.0.0.1:4040") == "4040"
    assert spark_ui_port("http://10.0.0.5:4041") == "4041"
    assert spark_ui_port(None) == "disabled"
    assert spark_ui_port("sc://127.0.0.1:15002").startswith("n/a (Spark Connect")


def test_all_answers_as_one_typed_row(spark, trips, zones, tmp_path):
    answers = monthly_answers(trips, zones, month="2021-01", taxi_type="green", day=DAY, partitions=2,
                              scratch_path=str(tmp_path / "scratch"), ui_url=None)
    row = answers.as_row()
    assert row["spark_version"] == spark.version
    assert (row["trips_on_day"], row["least_frequent_pickup_zone"], row["least_frequent_pickup_trips"]) == (4, "Alpha", 1)
    assert row["parquet_files"] == 2 and row["spark_ui_port"] == "disabled"
    assert row["avg_parquet_file_mib"] == pytest.approx(row["avg_parquet_file_bytes"] / 2**20)
    frame = answers_frame(spark, [answers])
    assert dict(frame.dtypes) == {**spark_type_name(MONTHLY_ANSWERS_SCHEMA), MONTH_COLUMN: "string"}
    (stored,) = frame.collect()
    assert stored.asDict() == row


@pytest.mark.gcp
def test_file_sizes_on_a_gcs_lake_scratch_are_the_objects_sizes(trips, fake_gcs, spark_resource):
    """The asset's scratch on a gs:// lake: staging handed out by the lake's store, measured, then discarded."""
    from taxi_platform.io_managers.lake import LakeIOManager
    from taxi_platform.resources.gcp import GcpResource
    from taxi_platform_tests.conftest import GCP_PROJECT

    client = fake_gcs.client()
    bucket = client.create_bucket("answers-scratch")
    gcp = GcpResource(project=GCP_PROJECT, gcs_endpoint=fake_gcs.endpoint)
    store = LakeIOManager(lake_root="gs://answers-scratch/lake", spark=spark_resource, gcp=gcp).store()
    scratch = store.new_staging("answers-test")
    try:
        sizes = parquet_file_sizes(trips, 2, scratch)
        objects = {f"gs://answers-scratch/{b.name}": b.size for b in client.list_blobs(bucket)
                   if b.name.rsplit("/", 1)[-1].startswith("part-")}
        assert sizes.files == 2 and sizes.sizes == objects
    finally:
        store.discard(scratch)
    prefix = scratch.removeprefix("gs://answers-scratch/")
    assert [b.name for b in client.list_blobs(bucket, prefix=prefix)] == []
