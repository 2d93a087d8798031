"""Drift and quarantine, on hand-built months whose every value is known."""

from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.schemas import CLEAN_SCHEMAS, spark_type_name
from taxi_platform.transforms.conform import UNPARSEABLE_COLUMN, ContractError, conform_month, conform_months
from taxi_platform.transforms.quarantine import QUARANTINE_REASONS, classify, clean_rows, quarantine_rules, quarantined_rows

pytestmark = pytest.mark.spark

YELLOW_MONEY = ["fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount",
                "congestion_surcharge"]


def yellow_month(pickups, *, ts_unit, count_type, fee_name=None, vendor_type=pa.int64(), zones=(161, 236)):
    """A published yellow month: the TLC's columns with the given era's types."""
    n = len(pickups)
    cols = {
        "VendorID": pa.array([2] * n, vendor_type),
        "tpep_pickup_datetime": pa.array(pickups, pa.timestamp(ts_unit)),
        "tpep_dropoff_datetime": pa.array([p.replace(minute=p.minute + 10) for p in pickups], pa.timestamp(ts_unit)),
        "passenger_count": pa.array([1] * n, count_type),
        "trip_distance": pa.array([2.5] * n),
        "RatecodeID": pa.array([1] * n, count_type),
        "store_and_fwd_flag": pa.array(["N"] * n),
        "PULocationID": pa.array([zones[0]] * n, pa.int64()),
        "DOLocationID": pa.array([zones[1]] * n, pa.int64()),
        "payment_type": pa.array([1] * n, pa.int64()),
    }
    for c in YELLOW_MONEY:
        cols[c] = pa.array([10.0 if c == "total_amount" else 1.0] * n)
    if fee_name:
        cols[fee_name] = pa.array([0.0] * n)
    return pa.table(cols)


def test_three_eras_of_published_types_conform_to_one_schema(spark, tmp_path):
    eras = {
        # 2019-style: nanosecond timestamps, counts as double
        "2019-03": yellow_month([datetime(2019, 3, 1, 8, 0), datetime(2019, 3, 2, 9, 0)], ts_unit="ns", count_type=pa.float64()),
        # 2022-style: microsecond timestamps, lowercase airport_fee
        "2022-03": yellow_month([datetime(2022, 3, 5, 8, 0)], ts_unit="us", count_type=pa.float64(), fee_name="airport_fee"),
        # 2023-style: int64 counts, int32 vendor, capitalised Airport_fee
        "2023-03": yellow_month([datetime(2023, 3, 7, 8, 0)], ts_unit="us", count_type=pa.int64(), fee_name="Airport_fee",
                                vendor_type=pa.int32()),
    }
    published = {}
    for month, table in eras.items():
        path = tmp_path / f"{month}.parquet"
        pq.write_table(table, path)
        published[month] = spark.read.parquet(str(path))
    assert published["2019-03"].schema["tpep_pickup_datetime"].dataType.simpleString() == "bigint"  # nanos as long

    combined = conform_months(published, "yellow", dataset="raw/yellow_trips")

    expected = spark_type_name(CLEAN_SCHEMAS["yellow"])
    assert dict(combined.dtypes) == {**expected, "month": "string", UNPARSEABLE_COLUMN: "string"}
    rows = sorted(combined.collect(), key=lambda r: r.pickup_datetime)
    assert [r.pickup_datetime for r in rows] == [datetime(2019, 3, 1, 8, 0), datetime(2019, 3, 2, 9, 0),
                                               datetime(2022, 3, 5, 8, 0), datetime(2023, 3, 7, 8, 0)]
    assert [r.dropoff_datetime.minute for r in rows] == [10, 10, 10, 10]
    assert {r.passenger_count for r in rows} == {1} and {r.RatecodeID for r in rows} == {1}
    assert [r.month for r in rows] == ["2019-03", "2019-03", "2022-03", "2023-03"]


def test_green_all_null_ehail_fee_and_missing_optional_columns(spark, tmp_path):
    n = 2
    table = pa.table({
        "VendorID": pa.array([2, 1], pa.int64()),
        "lpep_pickup_datetime": pa.array([datetime(2020, 1, 1, 1), datetime(2020, 1, 2, 2)], pa.timestamp("us")),
        "lpep_dropoff_datetime": pa.array([datetime(2020, 1, 1, 1, 20), datetime(2020, 1, 2, 2, 5)], pa.timestamp("us")),
        "store_and_fwd_flag": pa.array(["N", None]),
        "RatecodeID": pa.array([1.0, None]),
        "PULocationID": pa.array([74, 75], pa.int64()),
        "DOLocationID": pa.array([75, 74], pa.int64()),
        "passenger_count": pa.array([1.0, None]),
        "trip_distance": pa.array([0.0, 1.2]),
        "fare_amount": pa.array([3.0, 6.0]), "extra": pa.array([0.5, 0.5]), "mta_tax": pa.array([0.5, 0.5]),
        "tip_amount": pa.array([0.0, 1.0]), "tolls_amount": pa.array([0.0, 0.0]),
        "ehail_fee": pa.nulls(n, pa.null()),
        "improvement_surcharge": pa.array([0.3, 0.3]), "total_amount": pa.array([4.3, 8.3]),
        "payment_type": pa.array([2, 1], pa.int64()), "trip_type": pa.array([1.0, 1.0]),
        # no congestion_surcharge column at all (absent in early months)
    })
    path = tmp_path / "green.parquet"
    pq.write_table(table, path)
    clean = conform_month(spark.read.parquet(str(path)), "green", source="raw/green_trips 2020-01")
    assert dict(clean.dtypes) == {**spark_type_name(CLEAN_SCHEMAS["green"]), UNPARSEABLE_COLUMN: "string"}
    rows = clean.orderBy("pickup_datetime").collect()
    assert [r.ehail_fee for r in rows] == [None, None]
    assert [r.congestion_surcharge for r in rows] == [None, None]
    assert [r.passenger_count for r in rows] == [1, None]
    assert [r.trip_type for r in rows] == [1, 1]


def test_missing_required_column_names_the_source(spark):
    df = spark.createDataFrame([(1, 2)], "VendorID int, PULocationID int")
    with pytest.raises(ContractError, match=r"raw/yellow_trips 2021-01.*tpep_pickup_datetime"):
        conform_month(df, "yellow", source="raw/yellow_trips 2021-01")


def test_fhv_odd_header_casing(spark):
    df = spark.createDataFrame(
        [("B00009", datetime(2019, 10, 1, 0, 23), datetime(2019, 10, 1, 0, 35), 264.0, 264.0, None, "B00009")],
        "dispatching_base_num string, pickup_datetime timestamp, dropOff_datetime timestamp, PUlocationID double, "
        "DOlocationID double, SR_Flag string, Affiliated_base_number string",
    )
    row = conform_month(df, "fhv").collect()[0]
    assert (row.PULocationID, row.DOLocationID, row.dropoff_datetime) == (264, 264, datetime(2019, 10, 1, 0, 35))


def test_quarantine_rules_label_each_bad_row_with_its_first_broken_rule(spark):
    assert tuple(reason for reason, _ in quarantine_rules()) == QUARANTINE_REASONS
    cols = ("pickup_datetime timestamp, dropoff_datetime timestamp, PULocationID int, DOLocationID int, "
            "fare_amount double, total_amount double, trip_distance double, month string, expected string")
    d = datetime
    rows = [
        (d(2021, 1, 5, 8), d(2021, 1, 5, 8, 30), 161, 236, 10.0, 12.0, 2.0, "2021-01", None),
        (d(2021, 1, 5, 8), d(2021, 1, 5, 8, 30), 264, 265, 10.0, 12.0, 0.0, "2021-01", None),  # unknown zones + zero distance are kept
        (None, d(2021, 1, 5, 8), 161, 236, 10.0, 12.0, 2.0, "2021-01", "missing_timestamp"),
        (d(2008, 12, 31, 23), d(2009, 1, 1, 0, 10), 161, 236, 10.0, 12.0, 2.0, "2021-01", "pickup_outside_month"),
        (d(2021, 2, 1, 0, 0), d(2021, 2, 1, 0, 10), 161, 236, 10.0, 12.0, 2.0, "2021-01", "pickup_outside_month"),
        (d(2021, 1, 31, 23, 59), d(2021, 2, 1, 0, 10), 161, 236, 10.0, 12.0, 2.0, "2021-01", None),  # ends next month: fine
        (d(2021, 1, 5, 8), d(2021, 1, 5, 7), 161, 236, 10.0, 12.0, 2.0, "2021-01", "dropoff_before_pickup"),
        (d(2021, 1, 5, 8), d(2021, 1, 7, 8), 161, 236, 10.0, 12.0, 2.0, "2021-01", "trip_longer_than_24h"),
        (d(2021, 1, 5, 8), d(2021, 1, 5, 9), 0, 236, 10.0, 12.0, 2.0, "2021-01", "unknown_zone"),
        (d(2021, 1, 5, 8), d(2021, 1, 5, 9), 161, None, 10.0, 12.0, 2.0, "2021-01", "unknown_zone"),
        (d(2021, 1, 5, 8), d(2021, 1, 5, 9), 161, 266, 10.0, 12.0, 2.0, "2021-01", "unknown_zone"),
        (d(2021, 1, 5, 8), d(2021, 1, 5, 9), 161, 236, -10.0, -12.0, 2.0, "2021-01", "negative_amount"),
        (d(2021, 1, 5, 8), d(2021, 1, 5, 9), 161, 236, 10.0, 12.0, -2.0, "2021-01", "negative_distance"),
        (d(2021, 1, 5, 8), d(2021, 1, 5, 9), 161, 236, 10.0, 998310.03, 2.0, "2021-01", "absurd_amount"),
        (d(2021, 2, 5, 8), d(2021, 2, 5, 9), 161, 236, 10.0, 12.0, 2.0, "2021-02", None),  # another month's own trip
    ]
    classified = classify(spark.createDataFrame(rows, cols))
    got = [(r.quarantine_reason, r.expected) for r in classified.collect()]
    assert all(reason == expected for reason, expected in got), got
    assert clean_rows(classified).count() == 4
    assert quarantined_rows(classified).count() == len(rows) - 4
    assert "quarantine_reason" not in clean_rows(classified).columns


def test_months_read_together_are_conformed_as_one_projection_with_the_same_rows(spark, tmp_path):
    """PublishedMonths.groups (the lake's one read of months sharing a schema) is conformed as ONE projection of its
    scan: the same rows and months as conforming the months one by one, and no union in the plan; a month read on its
    own is still conformed alone; a group's error names all its months."""
    from pyspark.sql import functions as F

    from taxi_platform.io_managers.month_files import PublishedMonths

    months = {"2022-01": [datetime(2022, 1, 5, 8, 0), datetime(2022, 1, 6, 9, 0)],
              "2022-02": [datetime(2022, 2, 7, 8, 0)]}
    for month, pickups in months.items():
        (tmp_path / "raw" / f"month={month}").mkdir(parents=True)
        pq.write_table(yellow_month(pickups, ts_unit="us", count_type=pa.int64()),
                       tmp_path / "raw" / f"month={month}" / "part-0.parquet")
    together = spark.read.option("basePath", str(tmp_path / "raw")).parquet(str(tmp_path / "raw"))
    slices = {m: together.where(F.col("month") == m).drop("month") for m in months}
    one_by_one = conform_months(slices, "yellow", dataset="raw/yellow_trips")
    grouped = conform_months(PublishedMonths(slices, [(tuple(months), together)]), "yellow", dataset="raw/yellow_trips")

    assert grouped.dtypes == one_by_one.dtypes
    assert sorted(map(tuple, grouped.collect())) == sorted(map(tuple, one_by_one.collect()))
    assert sorted(r.month for r in grouped.collect()) == ["2022-01", "2022-01", "2022-02"]
    plan = grouped._jdf.queryExecution().executedPlan().toString()
    assert "Union" not in plan and plan.count("FileScan parquet") == 1
    assert "Union" in one_by_one._jdf.queryExecution().executedPlan().toString()

    # a third month published alone (drifted) joins the group's projection by a union
    drifted = spark.createDataFrame(yellow_month([datetime(2022, 3, 1, 8, 0)], ts_unit="us",
                                                 count_type=pa.float64()).to_pandas())
    mixed = conform_months(PublishedMonths({**slices, "2022-03": drifted}, [(tuple(months), together)]), "yellow")
    assert sorted(r.month for r in mixed.collect()) == ["2022-01", "2022-01", "2022-02", "2022-03"]

    # a group is used only whole: a mapping that no longer holds one of its months gets its months one by one
    only_january = conform_months(PublishedMonths({"2022-01": slices["2022-01"]}, [(tuple(months), together)]), "yellow")
    assert sorted(r.month for r in only_january.collect()) == ["2022-01", "2022-01"]

    with pytest.raises(ContractError, match=r"raw/yellow_trips 2022-01, 2022-02: required columns \['PULocationID'\]"):
        conform_months(PublishedMonths(slices, [(tuple(months), together.drop("PULocationID"))]), "yellow",
                       dataset="raw/yellow_trips")
