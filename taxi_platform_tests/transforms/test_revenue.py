"""The course's revenue report on hand-built trips: exact sums, and grouping by the lake month (pickups_in_month)
giving the very same rows and types as truncating every pickup timestamp."""

from datetime import datetime

import pytest

from taxi_platform.transforms.revenue import revenue_monthly_zone, revenue_monthly_zone_sql

pytestmark = pytest.mark.spark

COLUMNS = ("PULocationID int, pickup_datetime timestamp, service_type string, fare_amount double, extra double, "
           "mta_tax double, tip_amount double, tolls_amount double, improvement_surcharge double, "
           "total_amount double, congestion_surcharge double, passenger_count int, trip_distance double, month string")
D = datetime


def trip(zone, pickup, service, fare, passengers, distance):
    return (zone, pickup, service, fare, 0.5, 0.5, 1.0, 0.0, 0.3, fare + 2.3, 2.5, passengers, distance,
            pickup.strftime("%Y-%m"))


TRIPS = [
    trip(161, D(2020, 1, 1, 0, 0), "yellow", 10.0, 1, 2.0),  # the first instant of the month
    trip(161, D(2020, 1, 31, 23, 59, 59, 999999), "yellow", 20.0, 3, 4.0),  # the last
    trip(161, D(2020, 1, 15, 12, 0), "green", 7.0, None, 1.5),  # green: its own group; passengers unknown
    trip(236, D(2020, 1, 2, 8, 0), "yellow", 5.0, 2, 1.0),
    trip(161, D(2020, 2, 29, 23, 0), "yellow", 30.0, 1, 9.0),  # February (leap day)
]


def test_report_values_and_the_month_grouping_equal_the_timestamp_grouping(spark):
    trips = spark.createDataFrame(TRIPS, COLUMNS)
    by_timestamp = revenue_monthly_zone(trips)
    by_month = revenue_monthly_zone(trips, pickups_in_month=True)
    assert by_month.dtypes == by_timestamp.dtypes
    assert sorted(by_month.collect()) == sorted(by_timestamp.collect())

    rows = {(r.revenue_zone, r.month, r.service_type): r for r in by_month.collect()}
    assert set(rows) == {(161, "2020-01", "yellow"), (161, "2020-01", "green"), (236, "2020-01", "yellow"),
                         (161, "2020-02", "yellow")}
    jan = rows[(161, "2020-01", "yellow")]
    assert jan.revenue_month == D(2020, 1, 1)
    assert (jan.revenue_monthly_fare, jan.revenue_monthly_total_amount) == (30.0, 34.6)
    assert (jan.avg_monthly_passenger_count, jan.avg_monthly_trip_distance) == (2.0, 3.0)
    green = rows[(161, "2020-01", "green")]
    assert green.avg_monthly_passenger_count is None and green.revenue_monthly_congestion_surcharge == 2.5
    assert rows[(161, "2020-02", "yellow")].revenue_month == D(2020, 2, 1)


def test_the_course_sql_gives_the_same_report(spark):
    trips = spark.createDataFrame(TRIPS, COLUMNS)
    trips.drop("month").createOrReplaceTempView("trips_data")
    by_sql = spark.sql(revenue_monthly_zone_sql())
    by_month = revenue_monthly_zone(trips, pickups_in_month=True).drop("month")
    assert sorted(by_sql.collect()) == sorted(by_month.collect())


def test_month_grouping_needs_the_month_column(spark):
    trips = spark.createDataFrame(TRIPS, COLUMNS).drop("month")
    with pytest.raises(ValueError, match="pickups_in_month needs a 'month' column"):
        revenue_monthly_zone(trips, pickups_in_month=True)
