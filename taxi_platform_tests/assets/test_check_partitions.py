"""A 3-month single-run backfill records every check's result for EACH month, as the UI reads it.

Dagster 1.13 records a range run's ``AssetCheckResult`` without a partition and resolves the run's planned per-month
check executions as SKIPPED ("0 / 3 Passed"); ``checks/results.py`` records one evaluation per month instead. These
tests read the instance the way the webserver does: ``get_asset_check_state`` (the per-partition statuses behind the
"N / M Passed" of the asset graph) and the per-partition execution history (the Checks tab).
"""

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from dagster import AssetCheckKey, AssetKey, AssetRecordsFilter, AssetSelection, instance_for_test, materialize
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionResolvedStatus as Status

from taxi_platform.defs.analytics.hourly import HOURLY_REVENUE_BY_ZONE_KEY, hourly_assets
from taxi_platform.defs.analytics.predictions import TRIP_DURATION_MODEL_KEY, TRIP_DURATION_PREDICTIONS_KEY, prediction_assets
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.checks import asset_checks
from taxi_platform.defs.analytics.prediction_checks import prediction_checks
from taxi_platform.defs.analytics.hourly_checks import hourly_checks
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.definitions import revenue_assets
from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform_tests.conftest import lake_io_managers

all_assets = [taxi_zones, *revenue_assets]  # the local green/yellow graph + the zone lookup

pytestmark = pytest.mark.spark

MONTHLY = [a for a in all_assets if a is not taxi_zones]
MONTHS = ["2021-01", "2021-02", "2021-03"]
RANGE_TAGS = {"dagster/asset_partition_range_start": MONTHS[0], "dagster/asset_partition_range_end": MONTHS[-1]}
REPORT = AssetKey(["reports", "revenue_monthly_zone"])
TOTALS = AssetCheckKey(REPORT, "totals_reconcile_with_clean_trips")
CHECK_KEYS = [key for check in asset_checks for key in check.check_keys]
ROWS = 3000


@pytest.fixture(scope="module")
def backfill(spark_resource, tmp_path_factory):
    """raw -> clean -> core -> report and every check for 2021-01..2021-03 in ONE run, on a recording instance."""
    lake = tmp_path_factory.mktemp("lake")
    resources = {
        "spark": spark_resource,
        **lake_io_managers(LakeIOManager(lake_root=str(lake), spark=spark_resource)),
        "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=ROWS, sample_seed=5),
    }
    with instance_for_test() as instance:
        result = materialize(MONTHLY + asset_checks, resources=resources, instance=instance, tags=RANGE_TAGS)
        yield result, instance, lake, resources


def state(instance, key: AssetCheckKey) -> dict[Status, list[str]]:
    """The check's per-month statuses as the UI shows them (only statuses that hold a month)."""
    subsets = instance.event_log_storage.get_asset_check_state([(key, monthly_partitions)])[key].subsets
    statuses = {status: sorted(s.subset_value.get_partition_keys()) for status, s in subsets.items()}
    return {status: months for status, months in statuses.items() if months}


def latest(instance, key: AssetCheckKey, month):
    """The newest execution record of the check for ``month`` (None: the run-level record)."""
    records = instance.event_log_storage.get_asset_check_execution_history(
        key, limit=1, partition_filter=PartitionKeyFilter(key=month)
    )
    assert records, f"no {key.to_user_string()} record for {month}"
    return records[0]


def evaluation(record):
    return record.event.dagster_event.event_specific_data


def materialization_ids(instance, asset_key: AssetKey) -> dict[str, int]:
    """{month: storage id of its latest materialization}."""
    found = {}
    for month in MONTHS:
        records = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=asset_key, asset_partitions=[month]), limit=1
        ).records
        found[month] = records[0].storage_id
    return found


def test_every_check_records_a_passed_result_for_each_month_of_the_backfill(backfill):
    result, instance, lake, _ = backfill
    assert result.success
    assert len(CHECK_KEYS) == len(asset_checks) == 14
    for key in CHECK_KEYS:
        # what the asset graph counts: 3 / 3 passed, nothing skipped
        assert state(instance, key) == {Status.SUCCEEDED: MONTHS}, key.to_user_string()
        targets = materialization_ids(instance, key.asset_key)
        for month in MONTHS:
            record = latest(instance, key, month)
            found = evaluation(record)
            assert (record.run_id, record.status.value, found.partition) == (result.run_id, "SUCCEEDED", month)
            assert found.passed and found.metadata["month"].value == month
            # linked to this month's materialization (made by the same run), so the UI counts it as current
            assert found.target_materialization_data.storage_id == targets[month]
            assert found.target_materialization_data.run_id == result.run_id
        # the run-level summary (the check op's own result) covers the range, recorded without a month
        summary = evaluation(latest(instance, key, None))
        assert summary.passed and summary.partition is None
        assert (summary.metadata["months"].value, summary.metadata["failed_months"].value) == (MONTHS, [])


def test_the_per_month_metadata_is_that_months_own(backfill):
    result, instance, lake, _ = backfill
    for taxi in ("green", "yellow"):
        key = AssetCheckKey(AssetKey(["clean", f"{taxi}_trips"]), "raw_rows_reconcile")
        for month in MONTHS:
            meta = {k: v.value for k, v in evaluation(latest(instance, key, month)).metadata.items()}
            clean = ds.dataset(lake / f"clean/{taxi}_trips/month={month}", format="parquet").count_rows()
            quarantine = ds.dataset(lake / f"quarantine/{taxi}_trips/month={month}", format="parquet").count_rows()
            assert (meta["raw"], meta["clean"], meta["quarantine"], meta["unaccounted_rows"]) == (
                ROWS, clean, quarantine, 0)
    trips = AssetCheckKey(AssetKey(["core", "trips"]), "rows_reconcile_with_clean")
    for month in MONTHS:
        rows = evaluation(latest(instance, trips, month)).metadata["rows"].value
        for taxi in ("green", "yellow"):
            clean = ds.dataset(lake / f"clean/{taxi}_trips/month={month}", format="parquet").count_rows()
            assert rows[taxi] == {"clean": clean, "core": clean}
    # the run-level metadata keeps its keys and sums the months
    summary = {k: v.value for k, v in evaluation(latest(instance, trips, None)).metadata.items()}
    assert set(summary["rows"]) == {f"{m} {t}" for m in MONTHS for t in ("green", "yellow")}
    assert summary["mismatches"] == []


def test_a_bad_month_fails_only_that_month(backfill):
    """One zone of 2021-02's stored report is a dollar off: re-running the report's checks over the range fails the
    totals check for 2021-02 only, with the service and both sums; a one-month re-run after the repair passes it."""
    _, instance, lake, resources = backfill
    (file,) = (lake / "reports/revenue_monthly_zone/month=2021-02").glob("*.parquet")
    original = pq.read_table(file)
    totals = original.column("revenue_monthly_total_amount").to_pylist()
    service = original.column("service_type")[0].as_py()
    totals[0] += 1.0
    column = original.schema.get_field_index("revenue_monthly_total_amount")
    try:
        pq.write_table(original.set_column(column, "revenue_monthly_total_amount", pa.array(totals)), file)
        rerun = materialize(MONTHLY + asset_checks, resources=resources, instance=instance, tags=RANGE_TAGS,
                            selection=AssetSelection.checks_for_assets(REPORT), raise_on_error=False)
    finally:
        pq.write_table(original, file)
    assert rerun.success  # the totals check is not blocking: the run reports it, it does not fail
    assert state(instance, TOTALS) == {Status.SUCCEEDED: ["2021-01", "2021-03"], Status.FAILED: ["2021-02"]}
    bad = evaluation(latest(instance, TOTALS, "2021-02"))
    assert latest(instance, TOTALS, "2021-02").run_id == rerun.run_id and not bad.passed
    meta = {k: v.value for k, v in bad.metadata.items()}
    assert meta["mismatches"] == [service] and meta["unknown_service_types"] == []
    assert meta["totals"][service]["report"] - meta["totals"][service]["trips"] == pytest.approx(1.0, abs=0.011)
    for month in ("2021-01", "2021-03"):
        assert evaluation(latest(instance, TOTALS, month)).passed
    summary = {k: v.value for k, v in evaluation(latest(instance, TOTALS, None)).metadata.items()}
    assert summary["failed_months"] == ["2021-02"] and summary["mismatches"] == [f"2021-02 {service}"]
    for key in CHECK_KEYS:  # the report's other checks (and every other asset's) still pass every month
        if key != TOTALS:
            assert state(instance, key) == {Status.SUCCEEDED: MONTHS}, key.to_user_string()

    # repaired: a one-partition checks run records 2021-02 once, passed (Dagster stamps the month itself)
    fixed = materialize(MONTHLY + asset_checks, resources=resources, instance=instance,
                        tags={"dagster/partition": "2021-02"}, selection=AssetSelection.checks_for_assets(REPORT))
    assert fixed.success
    assert state(instance, TOTALS) == {Status.SUCCEEDED: MONTHS}
    records = [r for r in instance.event_log_storage.get_asset_check_execution_history(TOTALS, limit=50)
               if r.run_id == fixed.run_id]
    assert [(r.partition, r.status.value) for r in records] == [("2021-02", "SUCCEEDED")]


def test_the_analytics_checks_record_each_month_too(backfill):
    """On the backfill's lake: the zones, then hourly revenue + model + predictions for the 3 months in ONE run. The
    RDD check, the prediction checks and the model check record each month, with that month's own numbers."""
    _, instance, lake, resources = backfill
    assert materialize([taxi_zones], resources=resources, instance=instance).success
    analytics = [HOURLY_REVENUE_BY_ZONE_KEY, TRIP_DURATION_MODEL_KEY, TRIP_DURATION_PREDICTIONS_KEY]
    result = materialize(MONTHLY + [taxi_zones, *hourly_assets, *prediction_assets] + hourly_checks + prediction_checks,
                         resources=resources, instance=instance, tags=RANGE_TAGS,
                         selection=AssetSelection.assets(*analytics))
    assert result.success
    keys = [key for check in hourly_checks + prediction_checks for key in check.check_keys]
    assert len(keys) == 7
    for key in keys:
        assert state(instance, key) == {Status.SUCCEEDED: MONTHS}, key.to_user_string()
    rdd = AssetCheckKey(HOURLY_REVENUE_BY_ZONE_KEY, "rdd_matches_dataframe")
    valid = AssetCheckKey(TRIP_DURATION_PREDICTIONS_KEY, "predictions_valid")
    for month in MONTHS:
        green = ds.dataset(lake / f"clean/green_trips/month={month}", format="parquet").count_rows()
        core = ds.dataset(lake / f"core/trips/month={month}", format="parquet").count_rows()
        compared = {k: v.value for k, v in evaluation(latest(instance, rdd, month)).metadata.items()}
        assert compared["rdd_trips"] == compared["report_trips"] == green > 0  # the month's own green trips
        assert compared["mismatched"] == 0 and compared["mismatch_examples"] == []
        predicted = {k: v.value for k, v in evaluation(latest(instance, valid, month)).metadata.items()}
        assert predicted["rows"] == core and predicted["negative_predictions"] == 0
    summary = {k: v.value for k, v in evaluation(latest(instance, valid, None)).metadata.items()}
    assert summary["rows"] == ds.dataset(lake / "core/trips", format="parquet").count_rows()
