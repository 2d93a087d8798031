"""The quarantine reasons counted during the write, and conform's SQL text with column names that need quoting."""

from datetime import datetime

import pytest
from pyspark.sql import Observation

from taxi_platform.transforms.conform import conform_month
from taxi_platform.transforms.quarantine import classify, clean_rows, quarantined_rows, reason_count_columns, reason_counts

pytestmark = pytest.mark.spark

T0 = datetime(2021, 1, 10, 8, 0)
T1 = datetime(2021, 1, 10, 8, 20)


def conformed_rows(spark):
    """Two months of yellow trips in the clean contract: 3 clean in January, 2 in February, 4 quarantined."""
    columns = ("VendorID int, pickup_datetime timestamp, dropoff_datetime timestamp, passenger_count int, "
               "trip_distance double, RatecodeID int, store_and_fwd_flag string, PULocationID int, DOLocationID int, "
               "payment_type int, fare_amount double, extra double, mta_tax double, tip_amount double, "
               "tolls_amount double, improvement_surcharge double, total_amount double, congestion_surcharge double, "
               "month string")

    def trip(month, pickup=T0, dropoff=T1, zone=161, total=10.0, passengers=1):  # passengers tell trips apart
        return (1, pickup, dropoff, passengers, 2.0, 1, "N", zone, 236, 1, total, 0.0, 0.0, 0.0, 0.0, 0.0, total, 0.0,
                month)

    feb = datetime(2021, 2, 3, 9, 0), datetime(2021, 2, 3, 9, 30)
    rows = [trip("2021-01"), trip("2021-01", passengers=2), trip("2021-01", passengers=3), trip("2021-02", *feb),
            trip("2021-02", *feb, passengers=2),
            trip("2021-01", pickup=datetime(2008, 12, 31, 23, 0), dropoff=datetime(2009, 1, 1, 0, 10)),
            trip("2021-01", dropoff=datetime(2021, 1, 10, 7, 0)), trip("2021-02", *feb, zone=999),
            trip("2021-02", *feb, total=-3.0)]
    return spark.createDataFrame(rows, columns)


def test_reason_counts_observed_while_writing_the_quarantine_equal_a_group_by(spark, tmp_path):
    classified = classify(conformed_rows(spark))
    observation = Observation("reason_counts_test")
    quarantined = quarantined_rows(classified)
    quarantined.observe(observation, *reason_count_columns()).write.parquet(str(tmp_path / "q"))  # the one action
    reasons = reason_counts(observation.get)
    assert reasons == {"pickup_outside_month": 1, "dropoff_before_pickup": 1, "unknown_zone": 1, "negative_amount": 1}
    expected = {r["quarantine_reason"]: r["count"] for r in quarantined.groupBy("quarantine_reason").count().collect()}
    assert reasons == expected
    assert clean_rows(classified).count() == 5


def test_conform_quotes_published_names_and_checks_the_month_key(spark):
    published = spark.createDataFrame(
        [(2, T0, T1, 1.0, 2.5, 1.0, "N", 161, 236, 1, 9.0, 1.0, 0.5, 0.0, 0.0, 0.3, 10.8, 2.5, 7.0)],
        "VendorID long, tpep_pickup_datetime timestamp, tpep_dropoff_datetime timestamp, passenger_count double, "
        "trip_distance double, RatecodeID double, store_and_fwd_flag string, PULocationID long, DOLocationID long, "
        "payment_type long, fare_amount double, extra double, mta_tax double, tip_amount double, tolls_amount double, "
        "improvement_surcharge double, total_amount double, congestion_surcharge double, `odd name``s fee` double")
    row = conform_month(published, "yellow", month="2021-01").collect()[0]
    assert (row["passenger_count"], row["RatecodeID"], row["month"], row["pickup_datetime"]) == (1, 1, "2021-01", T0)
    assert "odd name`s fee" not in row.asDict()
    with pytest.raises(ValueError, match="not a month key"):
        conform_month(published, "yellow", month="2021-1")
