"""The whole graph through Dagster on sample data: one month, a 3-month single-run backfill, every check."""

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from taxi_platform.defs.revenue.checks import asset_checks
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.definitions import revenue_assets
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform_tests.conftest import lake_io_managers
from taxi_platform.resources.sources import TaxiSourceResource

all_assets = [taxi_zones, *revenue_assets]  # the local green/yellow graph + the zone lookup

pytestmark = pytest.mark.spark

MONTHLY = [a for a in all_assets if a is not taxi_zones]
REPORT = AssetKey(["reports", "revenue_monthly_zone"])
ROWS = 4000


RUN_LOGS: list[str] = []  # the user messages of one_month's run


def run_months(resources, start, end=None, **kwargs):
    if end is None:
        return materialize(MONTHLY + asset_checks, resources=resources, partition_key=start, **kwargs)
    tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
    return materialize(MONTHLY + asset_checks, resources=resources, tags=tags, **kwargs)


def check_results(result):
    return {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}


@pytest.fixture(scope="module")
def one_month(spark_resource, tmp_path_factory):
    lake = tmp_path_factory.mktemp("lake")
    resources = {
        "spark": spark_resource,
        **lake_io_managers(LakeIOManager(lake_root=str(lake), spark=spark_resource)),
        "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=ROWS, sample_seed=7),
    }
    instance = DagsterInstance.ephemeral()
    result = run_months(resources, "2021-01", instance=instance)
    RUN_LOGS[:] = [r.user_message for r in instance.all_logs(result.run_id) if r.dagster_event is None]
    return result, lake, resources


def test_one_month_materializes_every_asset_and_passes_every_check(one_month):
    result, lake, _ = one_month
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {
        "raw/green_trips", "raw/yellow_trips", "clean/green_trips", "clean/yellow_trips", "quarantine/green_trips",
        "quarantine/yellow_trips", "core/trips", "reports/revenue_monthly_zone",
    }
    checks = check_results(result)
    assert len(checks) == len(asset_checks) == 14
    assert all(checks.values()), checks
    for name in materialized:
        assert (lake.joinpath(*name.split("/")) / "month=2021-01").is_dir()


def test_row_counts_reconcile_and_quarantine_is_counted(one_month):
    result, lake, _ = one_month
    for taxi in ("green", "yellow"):
        raw = pq.ParquetFile(lake / f"raw/{taxi}_trips/month=2021-01/part-00000.parquet").metadata.num_rows
        clean = ds.dataset(lake / f"clean/{taxi}_trips/month=2021-01", format="parquet").count_rows()
        quarantine = ds.dataset(lake / f"quarantine/{taxi}_trips/month=2021-01", format="parquet")
        assert raw == ROWS
        assert clean + quarantine.count_rows() == raw
        # the sample carries the real quirks, so some rows are always set aside, each with its reason
        reasons = set(quarantine.to_table(columns=["quarantine_reason"]).column(0).to_pylist())
        assert "pickup_outside_month" in reasons and None not in reasons
        mats = {e.asset_key.to_user_string(): e.materialization for e in result.get_asset_materialization_events()}
        assert mats[f"quarantine/{taxi}_trips"].metadata["quarantined_rows"].value == quarantine.count_rows()
        assert mats[f"clean/{taxi}_trips"].metadata["dagster/row_count"].value == clean
        # the step's log line gives both counts (it once said "0 quarantined {}": logged before the reasons came)
        assert any(m.startswith(f"{taxi}: {clean} clean rows, {quarantine.count_rows()} quarantined {{'") for m in RUN_LOGS), \
            [m for m in RUN_LOGS if "clean rows" in m]


def test_report_equals_an_independent_duckdb_computation(one_month):
    _, lake, _ = one_month
    con = duckdb.connect()
    expected = con.execute(f"""
        WITH trips AS (
          SELECT PULocationID, pickup_datetime, 'green' AS service_type, fare_amount, extra, mta_tax, tip_amount,
                 tolls_amount, improvement_surcharge, total_amount, congestion_surcharge, passenger_count, trip_distance
          FROM read_parquet('{lake}/clean/green_trips/*/*.parquet')
          UNION ALL
          SELECT PULocationID, pickup_datetime, 'yellow', fare_amount, extra, mta_tax, tip_amount,
                 tolls_amount, improvement_surcharge, total_amount, congestion_surcharge, passenger_count, trip_distance
          FROM read_parquet('{lake}/clean/yellow_trips/*/*.parquet'))
        SELECT PULocationID, service_type, sum(fare_amount), sum(total_amount), sum(congestion_surcharge),
               avg(passenger_count), avg(trip_distance), count(*) AS n
        FROM trips GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
    got = con.execute(f"""
        SELECT revenue_zone, service_type, revenue_monthly_fare, revenue_monthly_total_amount,
               revenue_monthly_congestion_surcharge, avg_monthly_passenger_count, avg_monthly_trip_distance,
               strftime(revenue_month, '%Y-%m')
        FROM read_parquet('{lake}/reports/revenue_monthly_zone/*/*.parquet') ORDER BY 1, 2""").fetchall()
    assert len(got) == len(expected) > 50
    for g, e in zip(got, expected):
        assert g[:2] == e[:2]
        assert g[7] == "2021-01"
        for a, b in zip(g[2:7], e[2:7]):
            assert (a is None and b is None) or a == pytest.approx(b, abs=1e-6)
    assert len(list((lake / "reports/revenue_monthly_zone/month=2021-01").glob("*.parquet"))) == 1


def test_a_check_fails_on_a_tampered_report(one_month):
    """Deliberately break the stored report (one zone's total off by a dollar): the reconcile check must fail."""
    _, lake, resources = one_month
    folder = lake / "reports/revenue_monthly_zone/month=2021-01"
    (file,) = folder.glob("*.parquet")
    original = pq.read_table(file)
    totals = original.column("revenue_monthly_total_amount").to_pylist()
    totals[0] += 1.0
    tampered = original.set_column(original.schema.get_field_index("revenue_monthly_total_amount"),
                                   "revenue_monthly_total_amount", pa.array(totals))
    try:
        pq.write_table(tampered, file)
        from dagster import AssetSelection

        # the checks alone, as "Execute checks" in the UI does (a checks-only run takes its month as a run tag)
        result = materialize(MONTHLY + asset_checks, resources=resources, tags={"dagster/partition": "2021-01"},
                             selection=AssetSelection.checks_for_assets(REPORT), raise_on_error=False)
        checks = check_results(result)
        assert checks[("reports/revenue_monthly_zone", "totals_reconcile_with_clean_trips")] is False
        assert checks[("reports/revenue_monthly_zone", "schema_matches_contract")] is True
        evaluation = next(e for e in result.get_asset_check_evaluations()
                          if e.check_name == "totals_reconcile_with_clean_trips")
        assert evaluation.metadata["mismatches"].value != []
    finally:
        pq.write_table(original, file)


def test_three_month_backfill_across_a_drift_is_one_run_one_spark_application(spark_resource, make_resources,
                                                                             lake_root):
    """2022-12..2023-02 crosses the TLC's 2023-02 type change (double -> int64 counts, airport_fee -> Airport_fee)."""
    resources = make_resources(sample_rows_per_month=1500)
    app_before = spark_resource.get_session().sparkContext.applicationId
    result = run_months(resources, "2022-12", "2023-02")
    assert result.success
    assert all(check_results(result).values())
    # the raw months really were published with different types
    raw_schemas = {m: pq.read_schema(lake_root / f"raw/yellow_trips/month={m}/part-00000.parquet")
                   for m in ("2023-01", "2023-02")}
    assert str(raw_schemas["2023-01"].field("passenger_count").type) == "double"
    assert str(raw_schemas["2023-02"].field("passenger_count").type) == "int64"
    assert "airport_fee" in raw_schemas["2023-01"].names and "Airport_fee" in raw_schemas["2023-02"].names
    # ...and clean holds one schema for all three months
    clean = ds.dataset(lake_root / "clean/yellow_trips", format="parquet", partitioning="hive")
    assert str(clean.schema.field("passenger_count").type) == "int32"
    assert sorted(set(clean.to_table(columns=["month"]).column(0).to_pylist())) == ["2022-12", "2023-01", "2023-02"]
    # one step per asset for the whole range (single-run backfill), in the same Spark application
    step_starts = [e for e in result.all_events if e.event_type_value == "STEP_START"]
    assert len(step_starts) == len(MONTHLY) + len(asset_checks)
    assert spark_resource.get_session().sparkContext.applicationId == app_before
    report = ds.dataset(lake_root / "reports/revenue_monthly_zone", format="parquet", partitioning="hive").to_table()
    assert sorted(set(report.column("month").to_pylist())) == ["2022-12", "2023-01", "2023-02"]
    months_of_revenue = {v.strftime("%Y-%m") for v in report.column("revenue_month").to_pylist()}
    assert months_of_revenue == {"2022-12", "2023-01", "2023-02"}
    # and a re-run of one month of the range leaves exactly that month's rows once
    before = report.num_rows
    assert run_months(resources, "2023-01").success
    after = ds.dataset(lake_root / "reports/revenue_monthly_zone", format="parquet", partitioning="hive").to_table()
    assert after.num_rows == before


def test_taxi_zones_reference_table(make_resources, lake_root):
    result = materialize([taxi_zones], resources=make_resources())
    assert result.success
    table = ds.dataset(lake_root / "ref/taxi_zones", format="parquet").to_table()
    assert table.num_rows == 265
    assert table.schema.names == ["LocationID", "Borough", "Zone", "service_zone"]
    assert str(table.schema.field("LocationID").type) == "int32"
    jfk = [r for r in table.to_pylist() if r["LocationID"] == 132][0]
    assert (jfk["Borough"], jfk["Zone"]) == ("Queens", "JFK Airport")
