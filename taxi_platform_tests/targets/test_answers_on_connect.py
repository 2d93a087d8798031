"""reports/monthly_answers and the revenue chart through a real Spark Connect server: the same answers as pandas.

Under Connect the answers' Spark code runs on the server (``_metadata.file_size`` for the file sizes, the cached
report for the chart) and every value handed to Dagster must be a plain Python value. Like the other cluster tests
this switches the process to Connect; the last test proves the local session works again afterwards.
"""

from datetime import date

import duckdb
import pytest
from dagster import AssetSelection, materialize

from taxi_platform.defs.analytics.answers import MONTHLY_ANSWERS_KEY
from taxi_platform.defs.revenue.clean import clean_key, quarantine_key
from taxi_platform.defs.revenue.raw import raw_key
from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.resources.spark import SparkResource
from taxi_platform_tests.assets.test_monthly_answers import (
    ASSETS,
    MONTH,
    answers_config,
    expected_answers,
    materialization,
    trips_frame,
)
from taxi_platform_tests.conftest import lake_io_managers
from taxi_platform_tests.targets.test_cluster_targets import assert_plain_python

pytestmark = [pytest.mark.cluster, pytest.mark.spark]

ROWS = 2000


@pytest.fixture(scope="module")
def connect_answers(connect_server, tmp_path_factory):
    spark = SparkResource(target="connect", remote=connect_server.remote,
                          spark_config={"spark.sql.shuffle.partitions": "4"})
    lake = tmp_path_factory.mktemp("answers-connect-lake")
    resources = {
        "spark": spark,
        **lake_io_managers(LakeIOManager(lake_root=str(lake), spark=spark)),
        "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=ROWS, sample_seed=3),
    }
    assert materialize([taxi_zones], resources=resources).success
    keys = [k for t in ("green", "yellow") for k in (raw_key(t), clean_key(t), quarantine_key(t))]
    result = materialize(
        ASSETS, resources=resources, partition_key=MONTH, run_config=answers_config(taxi_type="green", repartition=2),
        selection=AssetSelection.assets(*keys, "core/trips", REVENUE_MONTHLY_ZONE_KEY, MONTHLY_ANSWERS_KEY),
    )
    assert result.success
    return result, lake


def test_answers_on_connect_equal_pandas(connect_answers):
    result, lake = connect_answers
    meta = {k: v.value for k, v in materialization(result, MONTHLY_ANSWERS_KEY).metadata.items()}
    assert meta["spark_target"] == "connect"
    expected = expected_answers(trips_frame(lake, "clean/green_trips"), date(2021, 1, 15))
    for name, value in expected.items():
        got = meta[f"answer/{name}"]
        assert got == pytest.approx(value, abs=1e-9) if isinstance(value, float) else got == value, name
    assert meta["answer/parquet_files"] == 2 and meta["answer/parquet_bytes"] > 0
    assert meta["answer/spark_ui_port"].startswith("n/a (Spark Connect")
    assert not [p for p in (lake / "_staging").rglob("*") if p.is_file()]
    for event in result.get_asset_materialization_events():
        assert_plain_python({k: v.value for k, v in event.materialization.metadata.items()
                             if not hasattr(v.value, "records")}, event.asset_key.to_user_string())


def test_revenue_chart_on_connect_has_the_report_totals(connect_answers):
    result, lake = connect_answers
    meta = materialization(result, REVENUE_MONTHLY_ZONE_KEY).metadata
    sums = duckdb.connect().execute(f"""
        SELECT service_type, sum(revenue_monthly_total_amount)
        FROM read_parquet('{lake}/reports/revenue_monthly_zone/*/*.parquet') GROUP BY 1 ORDER BY 1""").fetchall()
    got = [(r.data["service_type"], r.data["total_revenue"]) for r in meta["revenue_by_month_and_service"].value.records]
    assert [s for s, _ in got] == [s for s, _ in sums] == ["green", "yellow"]
    for (_, total), (_, expected) in zip(got, sums):
        assert type(total) is float and total == pytest.approx(expected, abs=0.005)


def test_local_session_works_again_after_connect(connect_answers, spark_resource):
    session = spark_resource.get_session()
    assert type(session).__module__ == "pyspark.sql.session"
    assert session.range(5).count() == 5
