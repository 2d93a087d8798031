"""reports/hourly_revenue_by_zone through Dagster: 2020-01 from the sample source, with its checks (RDD included)."""

import duckdb
import pytest
from dagster import AssetSelection, materialize

from taxi_platform.defs.revenue.clean import clean_assets, clean_key, quarantine_key
from taxi_platform.defs.analytics.hourly import HOURLY_REVENUE_BY_ZONE_KEY, hourly_assets
from taxi_platform.defs.revenue.raw import raw_assets, raw_key
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.analytics.hourly_checks import hourly_checks

pytestmark = pytest.mark.spark

MONTH = "2020-01"
TYPES = ("green", "yellow")
ASSETS = [taxi_zones, *raw_assets, *clean_assets, *hourly_assets]
# only what the report needs (raw.py may hold other taxi types' assets too)
MONTHLY_KEYS = [k for t in TYPES for k in (raw_key(t), clean_key(t), quarantine_key(t))] + [HOURLY_REVENUE_BY_ZONE_KEY]


@pytest.fixture(scope="module")
def hourly_run(spark_resource, tmp_path_factory):
    from taxi_platform.io_managers.lake import LakeIOManager
    from taxi_platform.resources.sources import TaxiSourceResource
    from taxi_platform_tests.conftest import lake_io_managers

    lake = tmp_path_factory.mktemp("hourly-lake")
    resources = {
        "spark": spark_resource,
        **lake_io_managers(LakeIOManager(lake_root=str(lake), spark=spark_resource)),
        "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=1500, sample_seed=11),
    }
    zones = materialize([taxi_zones], resources=resources)  # unpartitioned: first, on its own
    assert zones.success
    result = materialize(ASSETS + hourly_checks, resources=resources, partition_key=MONTH,
                         selection=AssetSelection.assets(*MONTHLY_KEYS))
    return result, lake


def test_report_materializes_and_its_checks_pass(hourly_run):
    result, lake = hourly_run
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert HOURLY_REVENUE_BY_ZONE_KEY in materialized
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"schema_matches_contract", "no_null_keys", "rdd_matches_dataframe"}
    assert all(e.passed for e in checks.values()), {n: e.metadata for n, e in checks.items()}
    rdd = checks["rdd_matches_dataframe"].metadata
    assert rdd["mismatched"].value == 0 and rdd["keys"].value > 100
    assert rdd["rdd_trips"].value == rdd["report_trips"].value > 0
    files = list((lake / "reports/hourly_revenue_by_zone" / f"month={MONTH}").glob("*.parquet"))
    assert len(files) == 1


def test_report_totals_equal_the_clean_trips_and_zones_are_named(hourly_run):
    _, lake = hourly_run
    con = duckdb.connect()
    report = f"read_parquet('{lake}/reports/hourly_revenue_by_zone/*/*.parquet', hive_partitioning=true)"
    for service in TYPES:
        trips = con.execute(f"""
            SELECT sum(total_amount), count(*) FROM read_parquet('{lake}/clean/{service}_trips/*/*.parquet')
            WHERE pickup_datetime >= TIMESTAMP '2020-01-01'""").fetchone()
        got = con.execute(f"SELECT sum({service}_amount), sum({service}_number_records) FROM {report}").fetchone()
        assert trips[1] > 0
        assert got[1] == trips[1]
        assert got[0] == pytest.approx(trips[0], abs=0.005)
    months, unnamed, rows, both = con.execute(f"""
        SELECT list(DISTINCT month), count(*) FILTER (WHERE zone_name IS NULL AND zone <= 263), count(*),
               count(*) FILTER (WHERE green_number_records IS NOT NULL AND yellow_number_records IS NOT NULL)
        FROM {report}""").fetchone()
    assert months == [MONTH]
    assert unnamed == 0 and rows > 100 and both > 0
    jfk = con.execute(f"SELECT DISTINCT borough, zone_name, service_zone FROM {report} WHERE zone = 132").fetchall()
    assert jfk in ([], [("Queens", "JFK Airport", "Airports")])
