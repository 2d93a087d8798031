"""The report's freshness check: the newest published month is in the report within max_lag of its publication.

A real (temporary) Dagster instance holds the source observations and report materializations the check reads;
the check runs as Dagster runs it (its definition invoked with an asset-check context on that instance), with the
clock moved forward where a test needs "a day later". No Spark, no network.
"""

import time
from datetime import timedelta

import pytest
from dagster import AssetMaterialization, AssetObservation, build_asset_check_context, instance_for_test
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from taxi_platform.defs.revenue.freshness import MAX_LAG_ENV_VAR, build_freshness_check, max_lag_from_env
from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY
from taxi_platform.defs.revenue.sources import source_key
from taxi_platform.partitions import monthly_partitions

DAY = 24 * 3600


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


def publish(instance, month: str, version: str, types=("green", "yellow")) -> None:
    for taxi_type in types:
        instance.report_runless_asset_event(AssetObservation(
            asset_key=source_key(taxi_type), partition=month, tags={DATA_VERSION_TAG: f"{taxi_type}-{version}"}
        ))


def make_report(instance, month: str) -> None:
    instance.report_runless_asset_event(AssetMaterialization(asset_key=REVENUE_MONTHLY_ZONE_KEY, partition=month))


def evaluate(instance, max_lag=timedelta(hours=24), later_seconds: float = 0.0):
    check = build_freshness_check(max_lag=max_lag, clock=lambda: time.time() + later_seconds)
    result = check(build_asset_check_context(instance=instance))
    return result.passed, {k: getattr(v, "value", v) for k, v in result.metadata.items()}


def test_newest_published_month_must_reach_the_report_within_max_lag(instance):
    previous, newest = monthly_partitions.get_partition_keys()[-3:-1]
    assert evaluate(instance) == (True, {"newest_month": "none", "note": "no source month observed yet"})

    publish(instance, previous, "1")
    make_report(instance, previous)
    passed, facts = evaluate(instance)
    assert passed and facts["newest_month"] == previous and facts["state"] == "on time" and facts["lag_hours"] < 1

    publish(instance, newest, "1", types=("green",))  # yellow not out yet: the newest published month is still previous
    assert evaluate(instance)[1]["newest_month"] == previous

    publish(instance, newest, "1", types=("yellow",))
    passed, facts = evaluate(instance)
    assert passed and (facts["newest_month"], facts["state"], facts["materialized_at"]) == (newest, "pending", "none")
    passed, facts = evaluate(instance, later_seconds=DAY + 60)  # a day later, still not in the report
    assert not passed and facts["state"] == "missing" and facts["lag_hours"] > 24
    # the sentence the UI shows with the check's status
    check = build_freshness_check(max_lag=timedelta(hours=24), clock=lambda: time.time() + DAY + 60)
    assert check(build_asset_check_context(instance=instance)).description == (
        f"{newest} was published 24.02 h ago and is still not in the report (allowed: 24 h).")

    make_report(instance, newest)
    passed, facts = evaluate(instance, later_seconds=DAY + 60)
    assert passed and facts["state"] == "on time"

    # The TLC re-publishes the newest month: the report made from the old version does not count any more.
    publish(instance, newest, "2", types=("green",))
    passed, facts = evaluate(instance)
    assert passed and facts["state"] == "pending"
    assert not evaluate(instance, later_seconds=DAY + 60)[0]


def test_a_month_reported_after_max_lag_is_late(instance):
    month = monthly_partitions.get_partition_keys()[-2]
    publish(instance, month, "1")
    time.sleep(1.2)
    make_report(instance, month)
    passed, facts = evaluate(instance, max_lag=timedelta(seconds=1))
    assert not passed and facts["state"] == "late" and facts["lag_seconds"] >= 1.2


def test_max_lag_is_configured_by_env():
    assert max_lag_from_env({}) == timedelta(hours=24)
    assert max_lag_from_env({MAX_LAG_ENV_VAR: "36"}) == timedelta(hours=36)
    with pytest.raises(ValueError, match="TAXI_REPORT_MAX_LAG_HOURS='soon' is not a number"):
        max_lag_from_env({MAX_LAG_ENV_VAR: "soon"})
