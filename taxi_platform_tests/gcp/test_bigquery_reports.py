"""Reports in BigQuery (local-bigquery): months replaced atomically, others untouched, read back as DataFrames."""

import uuid
from datetime import datetime

import pytest
from dagster import AssetIn, AssetKey, BackfillPolicy, asset, materialize

from taxi_platform.io_managers.bigquery import BigQueryReportError, BigQueryReportIOManager  # noqa: F401
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.spark import SparkResource

pytestmark = [pytest.mark.spark, pytest.mark.gcp]

KEY = AssetKey(["reports", "revenue_test"])


def report_asset(value: float, rows_per_month: int = 3, stray_month: str = None):
    @asset(key=KEY, partitions_def=monthly_partitions, backfill_policy=BackfillPolicy.single_run(),
           io_manager_key="bq", metadata={"partition_expr": "revenue_month"})
    def revenue_test(context, spark: SparkResource):
        rows = []
        for month in context.partition_keys:
            start = datetime.strptime(stray_month or month, "%Y-%m")
            for zone in range(1, rows_per_month + 1):
                rows.append((zone, start, "yellow" if zone % 2 else "green", value * zone, month))
        schema = "revenue_zone int, revenue_month timestamp, service_type string, revenue_monthly_total_amount double, month string"
        return spark.get_session().createDataFrame(rows, schema)

    return revenue_test


@pytest.fixture
def bq_resources(gcp, spark_resource, tmp_path):
    dataset = f"reports_{uuid.uuid4().hex[:8]}"
    gcp.bigquery_client().create_dataset(f"{gcp.project}.{dataset}")
    manager = BigQueryReportIOManager(gcp=gcp, spark=spark_resource, dataset=dataset, staging_uri=str(tmp_path / "stage"))
    return {"spark": spark_resource, "bq": manager}, f"{gcp.project}.{dataset}.revenue_test", gcp.bigquery_client()


def table_rows(client, table_id):
    query = (f"SELECT FORMAT_TIMESTAMP('%Y-%m', revenue_month) AS m, COUNT(*) AS n, SUM(revenue_monthly_total_amount) AS t "
             f"FROM `{table_id}` GROUP BY 1 ORDER BY 1")
    return {r["m"]: (r["n"], round(r["t"], 2)) for r in client.query(query).result()}


def tags(start, end):
    return {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}


def test_months_are_replaced_exactly_and_other_months_untouched(bq_resources, tmp_path):
    resources, table_id, client = bq_resources
    assert materialize([report_asset(1.0)], resources=resources, tags=tags("2021-01", "2021-02")).success
    assert table_rows(client, table_id) == {"2021-01": (3, 6.0), "2021-02": (3, 6.0)}

    # re-materializing 2021-02 with new numbers: same row count, new values; 2021-01 untouched
    result = materialize([report_asset(10.0)], resources=resources, partition_key="2021-02")
    assert result.success
    assert table_rows(client, table_id) == {"2021-01": (3, 6.0), "2021-02": (3, 60.0)}
    again = materialize([report_asset(10.0)], resources=resources, partition_key="2021-02")
    assert again.success and table_rows(client, table_id) == {"2021-01": (3, 6.0), "2021-02": (3, 60.0)}

    table = client.get_table(table_id)
    assert (table.time_partitioning.type_, table.time_partitioning.field) == ("MONTH", "revenue_month")
    assert table.clustering_fields == ["service_type", "revenue_zone"]
    types = {f.name: f.field_type for f in table.schema}
    assert types["revenue_month"] == "TIMESTAMP" and types["revenue_monthly_total_amount"] in ("FLOAT", "FLOAT64")
    assert "month" not in types
    mat = result.get_asset_materialization_events()[0].materialization
    assert mat.metadata["table"].value == table_id and mat.metadata["rows_by_month"].value == {"2021-02": 3}
    # no staging left: neither tables nor files
    assert [t.table_id for t in client.list_tables(table_id.rsplit(".", 1)[0])] == ["revenue_test"]
    assert not any((tmp_path / "stage").iterdir()) if (tmp_path / "stage").exists() else True


def test_reading_months_back_as_a_dataframe(bq_resources):
    resources, table_id, _ = bq_resources

    @asset(ins={"report": AssetIn(key=KEY)}, partitions_def=monthly_partitions,
           backfill_policy=BackfillPolicy.single_run(), io_manager_key="mem")
    def reader(report):
        return sorted((r["month"], r["revenue_zone"], r["revenue_monthly_total_amount"]) for r in report.collect())

    from dagster import InMemoryIOManager

    resources = {**resources, "mem": InMemoryIOManager()}
    assert materialize([report_asset(2.0)], resources=resources, tags=tags("2021-01", "2021-03")).success
    result = materialize([report_asset(2.0), reader], resources=resources, partition_key="2021-02", selection=[reader])
    assert result.output_for_node("reader") == [("2021-02", 1, 2.0), ("2021-02", 2, 4.0), ("2021-02", 3, 6.0)]


def test_rows_outside_the_run_months_are_refused(bq_resources):
    resources, table_id, client = bq_resources
    assert materialize([report_asset(1.0)], resources=resources, partition_key="2021-01").success
    with pytest.raises(BigQueryReportError, match=r"revenue_test: 3 rows have revenue_month outside"):
        materialize([report_asset(5.0, stray_month="2020-12")], resources=resources, partition_key="2021-01")
    assert table_rows(client, table_id) == {"2021-01": (3, 6.0)}


def test_missing_dataset_is_a_clear_error_before_any_spark_work(gcp, spark_resource, tmp_path):
    manager = BigQueryReportIOManager(gcp=gcp, spark=spark_resource, dataset="does_not_exist", staging_uri=str(tmp_path))
    result = materialize([report_asset(1.0)], resources={"spark": spark_resource, "bq": manager},
                         partition_key="2021-01", raise_on_error=False)
    assert not result.success
    # the run fails while its resources start: no step (no Spark work) ran
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]
    errors = [e.event_specific_data.error.to_string() for e in result.all_events
              if getattr(e.event_specific_data, "error", None) is not None]
    assert any("BigQuery dataset taxi-test.does_not_exist does not exist" in text for text in errors), errors


def reordered_asset(value: float, extra: bool = False, total_type: str = "double"):
    """The report with its columns in another order (and optionally one more column, or another type for total)."""

    @asset(key=KEY, partitions_def=monthly_partitions, backfill_policy=BackfillPolicy.single_run(),
           io_manager_key="bq", metadata={"partition_expr": "revenue_month"})
    def revenue_test(context, spark: SparkResource):
        rows = []
        for month in context.partition_keys:
            start = datetime.strptime(month, "%Y-%m")
            for zone in range(1, 4):
                row = (value * zone, "yellow" if zone % 2 else "green", start, zone, month)
                rows.append(row + ((zone * 100,) if extra else ()))
        schema = (f"revenue_monthly_total_amount {total_type}, service_type string, revenue_month timestamp, "
                  "revenue_zone int, month string" + (", trips long" if extra else ""))
        return spark.get_session().createDataFrame(rows, schema)

    return revenue_test


def test_columns_are_matched_by_name_and_a_new_column_migrates_the_table(bq_resources):
    """#14.8: before, MERGE ... INSERT ROW mapped columns by position: reordered columns swapped values silently,
    and an added column failed mid-run ("has 5 columns but 6 values")."""
    resources, table_id, client = bq_resources
    assert materialize([report_asset(1.0)], resources=resources, partition_key="2021-01").success
    assert materialize([reordered_asset(10.0)], resources=resources, partition_key="2021-02").success
    assert table_rows(client, table_id) == {"2021-01": (3, 6.0), "2021-02": (3, 60.0)}
    zones = {r["revenue_zone"]: r["service_type"] for r in client.query(
        f"SELECT revenue_zone, service_type FROM `{table_id}` WHERE revenue_monthly_total_amount = 20").result()}
    assert zones == {2: "green"}

    assert materialize([reordered_asset(5.0, extra=True)], resources=resources, partition_key="2021-03").success
    assert "trips" in {f.name for f in client.get_table(table_id).schema}
    trips = {(r["m"], r["t"]) for r in client.query(
        f"SELECT FORMAT_TIMESTAMP('%Y-%m', revenue_month) AS m, SUM(trips) AS t FROM `{table_id}` GROUP BY 1").result()}
    assert trips == {("2021-01", None), ("2021-02", None), ("2021-03", 600)}
    assert table_rows(client, table_id)["2021-03"] == (3, 30.0)


def test_a_changed_column_type_fails_naming_the_column_and_replaces_nothing(bq_resources):
    resources, table_id, client = bq_resources
    assert materialize([report_asset(1.0)], resources=resources, partition_key="2021-01").success
    with pytest.raises(BigQueryReportError, match=r"revenue_test: column revenue_monthly_total_amount is FLOAT in the "
                                                  r"table but STRING in this write"):
        materialize([reordered_asset(9.0, total_type="string")], resources=resources, partition_key="2021-01")
    assert table_rows(client, table_id) == {"2021-01": (3, 6.0)}
    assert [t.table_id for t in client.list_tables(table_id.rsplit(".", 1)[0])] == ["revenue_test"]


def test_vacuum_removes_staging_tables_of_dead_writes(bq_resources):
    """#14.9: a killed write leaves its ``_staging_*`` table; vacuum removes those past the grace period only."""
    from google.cloud import bigquery

    resources, table_id, client = bq_resources
    assert materialize([report_asset(1.0)], resources=resources, partition_key="2021-01").success
    dataset = table_id.rsplit(".", 1)[0]
    client.create_table(bigquery.Table(f"{dataset}._staging_revenue_test_dead", schema=[
        bigquery.SchemaField("x", "INTEGER")]))
    manager = resources["bq"]
    assert manager.vacuum(grace_seconds=3600) == []  # too young: could be a live write's
    assert manager.vacuum(grace_seconds=0, dry_run=True) == [f"{dataset}._staging_revenue_test_dead"]
    assert manager.vacuum(grace_seconds=0) == [f"{dataset}._staging_revenue_test_dead"]
    assert [t.table_id for t in client.list_tables(dataset)] == ["revenue_test"]
    assert table_rows(client, table_id) == {"2021-01": (3, 6.0)}
