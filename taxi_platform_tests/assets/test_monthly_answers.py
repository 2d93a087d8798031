"""reports/monthly_answers and the revenue chart through Dagster, on one sample month, checked independently.

One run materializes raw -> clean -> core -> reports/revenue_monthly_zone (green + yellow) and reports/monthly_answers
(yellow) for 2021-01; the answers are recomputed with pandas over the same clean parquet files and the zone lookup,
the chart's totals with DuckDB over the written report.
"""

from datetime import date

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest
from dagster import AssetSelection, DagsterEventType, materialize

from taxi_platform.defs.analytics.answers import MONTHLY_ANSWERS_KEY, answers_assets, answers_checks
from taxi_platform.defs.for_hire.assets import fhv_clean_assets, fhv_raw_assets
from taxi_platform.defs.revenue.clean import clean_assets, clean_key, quarantine_key
from taxi_platform.defs.revenue.core import trips
from taxi_platform.defs.revenue.raw import raw_assets, raw_key
from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY, revenue_monthly_zone
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.reference import load_zone_lookup

pytestmark = pytest.mark.spark

MONTH = "2021-01"
ROWS = 3000
SEED = 5
N = 3
TOP = 5
# the for-hire datasets too: every type's clean and quarantine months are (optional) inputs of the answers
ASSETS = [taxi_zones, *raw_assets, *clean_assets, *fhv_raw_assets, *fhv_clean_assets, trips, revenue_monthly_zone,
          *answers_assets]
ANSWERS_OP = "reports__monthly_answers"


def answers_config(**config) -> dict:
    return {"ops": {ANSWERS_OP: {"config": config}}}


def materialization(result, key):
    (mat,) = [e.materialization for e in result.get_asset_materialization_events() if e.asset_key == key]
    return mat


def failure_message(result) -> str:
    failures = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert failures, "the run should have failed"
    error = failures[0].step_failure_data.error
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    return "\n".join(messages)


@pytest.fixture(scope="module")
def sample_month(spark_resource, tmp_path_factory):
    from taxi_platform.io_managers.lake import LakeIOManager
    from taxi_platform.resources.sources import TaxiSourceResource
    from taxi_platform_tests.conftest import lake_io_managers

    lake = tmp_path_factory.mktemp("answers-lake")
    resources = {
        "spark": spark_resource,
        **lake_io_managers(LakeIOManager(lake_root=str(lake), spark=spark_resource)),
        "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=ROWS, sample_seed=SEED),
    }
    assert materialize([taxi_zones], resources=resources).success
    keys = [k for t in ("green", "yellow") for k in (raw_key(t), clean_key(t), quarantine_key(t))]
    run_config = {"ops": {**answers_config(taxi_type="yellow", repartition=N, day=15)["ops"],
                          "reports__revenue_monthly_zone": {"config": {"top_zones": TOP}}}}
    result = materialize(
        ASSETS + answers_checks, resources=resources, partition_key=MONTH, run_config=run_config,
        selection=AssetSelection.assets(*keys, "core/trips", REVENUE_MONTHLY_ZONE_KEY, MONTHLY_ANSWERS_KEY),
    )
    assert result.success
    return result, lake, resources


def trips_frame(lake, *datasets: str) -> pd.DataFrame:
    tables = [ds.dataset(lake / d / f"month={MONTH}", format="parquet").to_table(
        columns=["pickup_datetime", "dropoff_datetime", "PULocationID"]) for d in datasets]
    return pd.concat([t.to_pandas() for t in tables], ignore_index=True)


def expected_answers(frame: pd.DataFrame, day: date) -> dict:
    """The answers recomputed with pandas (ties of the least frequent zone: count, then name, then LocationID)."""
    pickup = frame["pickup_datetime"].dt.tz_convert(None)  # UTC-adjusted in the files = the wall-clock time
    durations = frame["dropoff_datetime"] - frame["pickup_datetime"]
    zones = load_zone_lookup().to_pandas()
    counts = frame.dropna(subset=["PULocationID"]).groupby("PULocationID").size().rename("trips").reset_index()
    named = counts.merge(zones, left_on="PULocationID", right_on="LocationID")
    least = named.sort_values(["trips", "Zone", "LocationID"]).iloc[0]
    return {
        "trips": len(frame),
        "trips_on_day": int((pickup.dt.date == day).sum()),
        "longest_trip_hours": durations.max().total_seconds() / 3600,
        "least_frequent_pickup_zone": least["Zone"],
        "least_frequent_pickup_zone_id": int(least["LocationID"]),
        "least_frequent_pickup_trips": int(least["trips"]),
    }


def stored_answers(lake) -> dict:
    (row,) = ds.dataset(lake / "reports/monthly_answers", format="parquet", partitioning="hive").to_table().to_pylist()
    return row


def test_answers_equal_an_independent_pandas_computation(sample_month):
    result, lake, _ = sample_month
    expected = expected_answers(trips_frame(lake, "clean/yellow_trips"), date(2021, 1, 15))
    assert expected["trips_on_day"] > 0 and 0 < expected["longest_trip_hours"] <= 24
    meta = {k: v.value for k, v in materialization(result, MONTHLY_ANSWERS_KEY).metadata.items()}
    stored = stored_answers(lake)
    for name, value in expected.items():
        got = meta[f"answer/{name}"]
        assert got == pytest.approx(value, abs=1e-9) if isinstance(value, float) else got == value, name
        assert stored[name] == meta[f"answer/{name}"], name
    assert meta["answer/taxi_type"] == stored["taxi_type"] == "yellow"
    assert meta["answer/rows_used"] == "clean" and stored["month"] == MONTH
    assert meta["answer/day"] == "2021-01-15" and stored["day"] == date(2021, 1, 15)
    assert meta["answer/spark_version"] == stored["spark_version"] == meta["spark_version"]  # the IO manager's too
    assert meta["answer/spark_ui_port"] == "disabled"  # the test session runs without the UI
    questions = {(r.data["question"], r.data["answer"]) for r in meta["answers"].records}
    assert ("Trips started on the day (2021-01-15)", str(expected["trips_on_day"])) in questions
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations() if e.asset_key == MONTHLY_ANSWERS_KEY}
    assert checks == {"schema_matches_contract": True}


def test_file_size_answer_comes_from_n_real_files_and_the_scratch_is_removed(sample_month):
    result, lake, _ = sample_month
    meta = {k: v.value for k, v in materialization(result, MONTHLY_ANSWERS_KEY).metadata.items()}
    assert meta["answer/repartition_n"] == meta["answer/parquet_files"] == N
    assert meta["answer/avg_parquet_file_bytes"] == pytest.approx(meta["answer/parquet_bytes"] / N)
    # N files of the same trips weigh about what the clean month's files weigh (same rows, same codec)
    clean_bytes = sum(p.stat().st_size for p in (lake / f"clean/yellow_trips/month={MONTH}").glob("*.parquet"))
    assert 0.5 * clean_bytes < meta["answer/parquet_bytes"] < 2 * clean_bytes
    assert meta["answer/avg_parquet_file_mib"] == pytest.approx(meta["answer/avg_parquet_file_bytes"] / 2**20)
    assert not [p for p in (lake / "_staging").rglob("*") if p.is_file()]


def test_quarantined_rows_can_be_included_for_the_course_numbers(sample_month):
    _, lake, resources = sample_month
    result = materialize(ASSETS, resources=resources, partition_key=MONTH, selection=[MONTHLY_ANSWERS_KEY],
                         run_config=answers_config(taxi_type="green", repartition=2, day=20, include_quarantined=True))
    assert result.success
    expected = expected_answers(trips_frame(lake, "clean/green_trips", "quarantine/green_trips"), date(2021, 1, 20))
    assert expected["trips"] == ROWS  # every raw row
    meta = {k: v.value for k, v in materialization(result, MONTHLY_ANSWERS_KEY).metadata.items()}
    for name, value in expected.items():
        got = meta[f"answer/{name}"]
        assert got == pytest.approx(value, abs=1e-9) if isinstance(value, float) else got == value, name
    assert meta["answer/rows_used"] == "clean+quarantine" and meta["answer/parquet_files"] == 2
    assert stored_answers(lake)["taxi_type"] == "green"  # the month's row is the last run's


def test_a_type_never_materialized_or_a_bad_day_fails_clearly(sample_month):
    _, _, resources = sample_month
    missing = materialize(ASSETS, resources=resources, partition_key=MONTH, selection=[MONTHLY_ANSWERS_KEY],
                          run_config=answers_config(taxi_type="fhv"), raise_on_error=False)
    assert "clean/fhv_trips has no data for months ['2021-01']" in failure_message(missing)
    bad_day = materialize(ASSETS, resources=resources, partition_key="2021-02", selection=[MONTHLY_ANSWERS_KEY],
                          run_config=answers_config(day=30), raise_on_error=False)
    assert "day 30 is not a day of 2021-02" in failure_message(bad_day)


def test_revenue_report_carries_the_chart_with_the_report_totals(sample_month):
    result, lake, _ = sample_month
    meta = materialization(result, REVENUE_MONTHLY_ZONE_KEY).metadata
    con = duckdb.connect()
    report = f"read_parquet('{lake}/reports/revenue_monthly_zone/*/*.parquet', hive_partitioning=true)"
    sums = con.execute(f"""
        SELECT strftime(revenue_month AT TIME ZONE 'UTC', '%Y-%m'), service_type, sum(revenue_monthly_total_amount),
               count(*)
        FROM {report} GROUP BY ALL ORDER BY 1, 2""").fetchall()
    got = [(r.data["month"], r.data["service_type"], r.data["total_revenue"], r.data["zones"])
           for r in meta["revenue_by_month_and_service"].value.records]
    assert [(m, s, z) for m, s, _, z in got] == [(m, s, z) for m, s, _, z in sums] == [
        (MONTH, "green", sums[0][3]), (MONTH, "yellow", sums[1][3])]
    for (_, _, total, _), (_, _, expected, _) in zip(got, sums):
        assert total == pytest.approx(expected, abs=0.005)
    assert meta["total_revenue"].value == pytest.approx(sum(s[2] for s in sums), abs=0.01)
    top = con.execute(f"""
        SELECT revenue_zone, sum(revenue_monthly_total_amount) AS total FROM {report}
        GROUP BY 1 ORDER BY total DESC, revenue_zone LIMIT {TOP}""").fetchall()
    records = meta["top_zones_by_revenue"].value.records
    assert [(r.data["zone_id"], r.data["rank"]) for r in records] == [(z, i) for i, (z, _) in enumerate(top, 1)]
    for record, (_, total) in zip(records, top):
        assert record.data["total_revenue"] == pytest.approx(total, abs=0.005)
    chart = meta["revenue_chart"].value
    assert f"| {MONTH} | yellow |" in chart and f"| {MONTH} | green |" in chart and "█" in chart
    assert f"**Top {TOP} pickup zones by revenue**" in chart
