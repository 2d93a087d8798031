"""Hourly revenue per zone, green vs yellow: values on hand-built rows, the broadcast join in the physical plan, and
the RDD version equal to the DataFrame version (also in session time zones other than UTC)."""

import random
import re
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from taxi_platform.schemas import TAXI_ZONES_SCHEMA, spark_schema
from taxi_platform.transforms.hourly import hourly_revenue, hourly_revenue_by_zone
from taxi_platform.transforms.rdd_revenue import hourly_revenue_rdd

pytestmark = pytest.mark.spark

TRIP_SCHEMA = "pickup_datetime timestamp, PULocationID int, total_amount double"
D = datetime

GREEN = [
    (D(2020, 1, 1, 10, 5), 1, 10.0),
    (D(2020, 1, 1, 10, 55, 59, 999999), 1, 5.5),
    (D(2020, 1, 1, 11, 0), 1, 2.0),  # the next hour
    (D(2020, 1, 1, 10, 30), 2, 7.25),  # zone 2: green only
    (D(2019, 12, 31, 23, 59, 59), 1, 100.0),  # before the course's cutoff
]
YELLOW = [
    (D(2020, 1, 1, 10, 15), 1, 20.0),
    (D(2020, 1, 1, 10, 20), 3, 3.0),  # zone 3: yellow only
    (D(2020, 2, 1, 0, 0), 3, 1.0),  # another month
    (D(2020, 1, 1, 10, 45), 999, 4.0),  # a zone the lookup does not have: kept, names null
]
ZONES = [
    (1, "EWR", "Newark Airport", "EWR"),
    (2, "Queens", "Jamaica Bay", "Boro Zone"),
    (3, "Bronx", "Allerton/Pelham Gardens", "Boro Zone"),
    (4, "Manhattan", "Alphabet City", "Yellow Zone"),
]


@contextmanager
def spark_conf(spark, **settings):
    """Set Spark SQL settings for the block and restore the previous values (or unset them) afterwards."""
    previous = {k: spark.conf.get(k, None) for k in settings}
    try:
        for k, v in settings.items():
            spark.conf.set(k, v)
        yield
    finally:
        for k, v in previous.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


@pytest.fixture
def frames(spark):
    return (
        spark.createDataFrame(GREEN, TRIP_SCHEMA),
        spark.createDataFrame(YELLOW, TRIP_SCHEMA),
        spark.createDataFrame(ZONES, spark_schema(TAXI_ZONES_SCHEMA)),
    )


def by_key(df):
    return {(r["hour"], r["zone"]): r.asDict() for r in df.collect()}


def test_hourly_revenue_sums_counts_and_cutoff(frames):
    green, _, _ = frames
    got = by_key(hourly_revenue(green, "green"))
    assert set(got) == {(D(2020, 1, 1, 10), 1), (D(2020, 1, 1, 11), 1), (D(2020, 1, 1, 10), 2)}
    assert got[(D(2020, 1, 1, 10), 1)]["green_amount"] == pytest.approx(15.5)
    assert got[(D(2020, 1, 1, 10), 1)]["green_number_records"] == 2
    assert hourly_revenue(green, "green").columns == ["hour", "zone", "green_amount", "green_number_records"]
    # the cutoff is a parameter: an earlier one keeps the 2019 trip
    earlier = by_key(hourly_revenue(green, "green", cutoff=D(2019, 1, 1)))
    assert earlier[(D(2019, 12, 31, 23), 1)] == {
        "hour": D(2019, 12, 31, 23), "zone": 1, "green_amount": 100.0, "green_number_records": 1,
    }


def test_hourly_revenue_by_zone_values(frames):
    report = hourly_revenue_by_zone(*frames)
    assert report.columns == [
        "hour", "zone", "borough", "zone_name", "service_zone", "green_amount", "green_number_records",
        "yellow_amount", "yellow_number_records", "month",
    ]
    got = by_key(report)
    assert set(got) == {
        (D(2020, 1, 1, 10), 1), (D(2020, 1, 1, 11), 1), (D(2020, 1, 1, 10), 2), (D(2020, 1, 1, 10), 3),
        (D(2020, 2, 1, 0), 3), (D(2020, 1, 1, 10), 999),
    }
    both = got[(D(2020, 1, 1, 10), 1)]
    assert (both["green_amount"], both["green_number_records"]) == (pytest.approx(15.5), 2)
    assert (both["yellow_amount"], both["yellow_number_records"]) == (20.0, 1)
    assert (both["borough"], both["zone_name"], both["service_zone"], both["month"]) == (
        "EWR", "Newark Airport", "EWR", "2020-01")
    green_only = got[(D(2020, 1, 1, 10), 2)]
    assert (green_only["green_amount"], green_only["green_number_records"]) == (7.25, 1)
    assert (green_only["yellow_amount"], green_only["yellow_number_records"]) == (None, None)
    assert green_only["zone_name"] == "Jamaica Bay"
    yellow_only = got[(D(2020, 1, 1, 10), 3)]
    assert (yellow_only["green_amount"], yellow_only["green_number_records"]) == (None, None)
    assert (yellow_only["yellow_amount"], yellow_only["yellow_number_records"]) == (3.0, 1)
    assert (yellow_only["borough"], yellow_only["zone_name"]) == ("Bronx", "Allerton/Pelham Gardens")
    # month comes from the coalesced hour, whichever side the row came from
    assert got[(D(2020, 2, 1, 0), 3)]["month"] == "2020-02"
    assert got[(D(2020, 1, 1, 10), 999)]["zone_name"] is None  # unknown zone kept (left join), names null
    assert got[(D(2020, 1, 1, 10), 999)]["yellow_amount"] == 4.0
    # totals per service equal the trips' totals from the cutoff on
    assert sum(r["green_amount"] or 0 for r in got.values()) == pytest.approx(10 + 5.5 + 2 + 7.25)
    assert sum(r["yellow_number_records"] or 0 for r in got.values()) == len(YELLOW)


def plan_of(df) -> str:
    return df._jdf.queryExecution().executedPlan().toString()


def subtree(lines: list[str], index: int) -> list[str]:
    """The lines of the plan node at ``index`` and everything under it (deeper indentation)."""
    def depth(line):
        return len(line) - len(line.lstrip(" :|+-*()0123456789"))  # tree drawing, whole-stage-codegen ids
    start = depth(lines[index])
    out = [lines[index]]
    for line in lines[index + 1:]:
        if depth(line) <= start:
            break
        out.append(line)
    return out


def test_zones_are_broadcast_and_the_trips_are_not_shuffled_for_them(spark, frames):
    before = (spark.conf.get("spark.sql.adaptive.enabled"), spark.conf.get("spark.sql.autoBroadcastJoinThreshold"))
    # AQE off: the executed plan is the final one; auto-broadcast off: the broadcast comes from the explicit hint
    with spark_conf(spark, **{"spark.sql.adaptive.enabled": "false", "spark.sql.autoBroadcastJoinThreshold": "-1"}):
        plan = plan_of(hourly_revenue_by_zone(*frames))
    lines = plan.splitlines()
    joins = [i for i, line in enumerate(lines) if "BroadcastHashJoin" in line]
    assert len(joins) == 1, plan
    join = lines[joins[0]]
    assert re.search(r"BroadcastHashJoin \[zone#\d+\], \[LocationID#\d+\], LeftOuter, BuildRight", join), plan
    exchanges = [i for i, line in enumerate(lines) if "BroadcastExchange" in line]
    assert len(exchanges) == 1, plan
    broadcast_side = "\n".join(subtree(lines, exchanges[0]))
    assert re.search(r"\bLocationID#", broadcast_side) and "zone_name" in broadcast_side, plan
    assert "pickup_datetime" not in broadcast_side and "PULocationID" not in broadcast_side, plan
    # the join under the broadcast join: exactly one exchange per input of the green/yellow full outer join...
    shuffles = [line for line in lines if "Exchange hashpartitioning" in line]
    # ...and none on the lookup's key: the trips are not shuffled for the zones join
    assert not [line for line in shuffles if re.search(r"hashpartitioning\([^)]*\bLocationID#", line)], plan
    assert "SortMergeJoin" not in join and "ShuffledHashJoin" not in join
    # the settings are back
    assert (spark.conf.get("spark.sql.adaptive.enabled"), spark.conf.get("spark.sql.autoBroadcastJoinThreshold")) == before


def random_trips(spark, n=400, seed=3):
    rnd = random.Random(seed)
    start = D(2019, 12, 31, 20)
    rows = [
        (start + timedelta(seconds=rnd.randrange(0, 3 * 24 * 3600), microseconds=rnd.randrange(0, 10**6)),
         rnd.randint(1, 12), None if rnd.random() < 0.02 else round(rnd.uniform(-5, 80), 2))
        for _ in range(n)
    ]
    rows.append((None, 5, 1.0))  # a null pickup: dropped by both versions
    return spark.createDataFrame(rows, TRIP_SCHEMA)


def assert_rdd_equals_dataframe(rdd, dataframe):
    got = {(r["hour"], r["zone"]): (r["revenue"], r["count"]) for r in rdd.collect()}
    want = {(r["hour"], r["zone"]): (r["green_amount"], r["green_number_records"]) for r in dataframe.collect()}
    assert set(got) == set(want)
    for key, (amount, count) in want.items():
        assert got[key][1] == count, key
        assert (got[key][0] is None and amount is None) or got[key][0] == pytest.approx(amount, abs=0.005), key


@pytest.mark.parametrize("session_zone", ["UTC", "Asia/Kolkata"])
def test_rdd_version_equals_the_dataframe_version(spark, session_zone):
    with spark_conf(spark, **{"spark.sql.session.timeZone": session_zone}):
        green = random_trips(spark)
        rdd = hourly_revenue_rdd(green, spark.sparkContext)
        assert [(f.name, f.dataType.simpleString()) for f in rdd.schema.fields] == [
            ("hour", "timestamp"), ("zone", "int"), ("revenue", "double"), ("count", "int")]
        assert_rdd_equals_dataframe(rdd, hourly_revenue(green, "green"))
        # the cutoff applies the same way (2019 trips in, with the parameter)
        early = D(2019, 12, 31, 21, 30)
        assert_rdd_equals_dataframe(hourly_revenue_rdd(green, cutoff=early), hourly_revenue(green, "green", early))


def test_rdd_check_under_spark_connect_warns_with_the_reason_instead_of_a_stack_trace():
    from dagster import AssetCheckSeverity

    from taxi_platform.defs.analytics.hourly_checks import rdd_check_result
    from taxi_platform.resources.spark import SparkResource

    connect = SparkResource(target="connect", remote="sc://127.0.0.1:15002")
    result = rdd_check_result(connect, report=None, green=None)  # fails before touching any data or server
    assert result.passed is False
    assert result.severity == AssetCheckSeverity.WARN
    message = result.metadata["error"].value
    assert "rdd_matches_dataframe" in message and "connect" in message and "RDD" in message
