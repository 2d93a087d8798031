"""base_id: the Python UDF and the native expressions agree on every value, hand-picked and generated."""

from datetime import date, datetime

import pytest

from taxi_platform.transforms.base_ids import base_id, with_base_ids

pytestmark = pytest.mark.spark

# (dispatching_base_num, expected base_id)
HAND_PICKED = [
    ("B02764", "e/acc"),     # 2764: % 7 == 6, % 3 == 1
    ("B00009", "a/009"),     # 9: % 3 == 0, padded to 3 digits
    ("B00013", "e/00d"),
    ("B02870", "s/b36"),     # 2870 == 7 * 410
    ("B00021", "s/015"),     # % 7 and % 3 both 0: "s/" wins
    ("B99999", "a/1869f"),   # hex longer than 3 digits: never truncated
    ("B00000", "s/000"),     # 0 % 7 == 0
    ("B0", "s/000"),
    ("B123456789", "a/75bcd15"),  # 9 digits: the most accepted
    (None, None),
    ("X", None),             # nothing after the first character
    ("", None),
    ("B12a", None),
    ("B-7", None),
    ("B 12", None),
    ("B12 ", None),
    ("B12\n", None),
    ("B1.0", None),
    ("B1e3", None),
    ("B1234567890", None),   # more than 9 digits
]


def test_python_function_gives_the_expected_ids():
    assert [base_id(value) for value, _ in HAND_PICKED] == [expected for _, expected in HAND_PICKED]


def test_udf_equals_native_on_hand_picked_values(spark):
    df = spark.createDataFrame(
        [(i, value, None, None) for i, (value, _) in enumerate(HAND_PICKED)],
        "i int, dispatching_base_num string, pickup_datetime timestamp, dropoff_datetime timestamp",
    )
    native = {r.i: r.base_id for r in with_base_ids(df, "native").collect()}
    udf = {r.i: r.base_id for r in with_base_ids(df, "udf").collect()}
    expected = {i: e for i, (_, e) in enumerate(HAND_PICKED)}
    assert native == expected
    assert udf == expected


def test_udf_equals_native_on_every_row_of_a_generated_fhvhv_month(spark):
    from taxi_platform.sample.generator import generate_month
    from taxi_platform.transforms.conform import conform_month

    table = generate_month("fhvhv", "2021-01", 20_000, seed=3)
    published = spark.createDataFrame(table.select(["dispatching_base_num", "pickup_datetime", "dropoff_datetime",
                                                    "hvfhs_license_num", "PULocationID", "DOLocationID"]).to_pandas())
    trips = conform_month(published, "fhvhv")
    native = with_base_ids(trips, "native").withColumnRenamed("base_id", "native")
    both = with_base_ids(native, "udf").withColumnRenamed("base_id", "udf")
    from pyspark.sql import functions as F

    stats = both.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count(F.when(~F.col("native").eqNullSafe(F.col("udf")), 1)).alias("different"),
        F.count(F.when(F.col("native").isNull(), 1)).alias("nulls"),
        F.countDistinct("native").alias("distinct"),
    ).collect()[0]
    assert stats["rows"] == 20_000
    assert stats["different"] == 0
    assert stats["nulls"] == 0  # every generated base number is well formed
    assert stats["distinct"] > 5
    prefixes = {r[0] for r in both.select(F.substring("native", 1, 2)).distinct().collect()}
    assert prefixes <= {"s/", "a/", "e/"}


def test_pickup_and_dropoff_dates(spark):
    df = spark.createDataFrame(
        [("B02764", datetime(2021, 1, 31, 23, 50), datetime(2021, 2, 1, 0, 20)),
         ("B02764", None, datetime(2021, 1, 5, 8))],
        "dispatching_base_num string, pickup_datetime timestamp, dropoff_datetime timestamp",
    )
    for implementation in ("native", "udf"):
        out = with_base_ids(df, implementation)
        assert dict(out.dtypes)["pickup_date"] == "date" and dict(out.dtypes)["dropoff_date"] == "date"
        rows = [(r.base_id, r.pickup_date, r.dropoff_date) for r in out.collect()]
        assert rows == [("e/acc", date(2021, 1, 31), date(2021, 2, 1)), ("e/acc", None, date(2021, 1, 5))]


def test_unknown_implementation_is_refused(spark):
    df = spark.createDataFrame([("B1",)], "dispatching_base_num string")
    with pytest.raises(ValueError, match="implementation"):
        with_base_ids(df, "scala")
