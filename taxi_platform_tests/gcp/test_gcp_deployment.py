"""The gcp deployment end to end: the lake on fake-gcs-server, the report in local-bigquery, switched by env vars."""

import uuid

import pytest
from dagster import materialize

from taxi_platform.defs.revenue.checks import asset_checks
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.definitions import revenue_assets
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.resources.deployments import resources_for

all_assets = [taxi_zones, *revenue_assets]  # the local green/yellow graph + the zone lookup

pytestmark = [pytest.mark.spark, pytest.mark.gcp]

MONTHLY = [a for a in all_assets if a is not taxi_zones]
ROWS, SEED = 2000, 5


@pytest.fixture
def gcp_env(fake_gcs, local_bigquery, gcp):
    bucket, dataset = f"lake-{uuid.uuid4().hex[:8]}", f"reports_{uuid.uuid4().hex[:8]}"
    gcp.storage_client().create_bucket(bucket)
    gcp.bigquery_client().create_dataset(f"{gcp.project}.{dataset}")
    return {
        "TAXI_PLATFORM_DEPLOYMENT": "gcp",
        "TAXI_GCP_PROJECT": gcp.project,
        "TAXI_LAKE_ROOT": f"gs://{bucket}/lake",
        "TAXI_BIGQUERY_DATASET": dataset,
        "TAXI_GCS_ENDPOINT": fake_gcs.endpoint,
        "TAXI_BIGQUERY_ENDPOINT": local_bigquery.endpoint,
        "TAXI_SPARK_MASTER": "local[2]",  # the test session's JVM (it already has the GCS connector)
        "TAXI_SAMPLE_ROWS": str(ROWS), "TAXI_SAMPLE_VOLUMES": "equal",
        "TAXI_SAMPLE_SEED": str(SEED),
    }


def bigquery_report(client, env):
    table = f"{env['TAXI_GCP_PROJECT']}.{env['TAXI_BIGQUERY_DATASET']}.revenue_monthly_zone"
    rows = client.query(
        f"SELECT FORMAT_TIMESTAMP('%Y-%m', revenue_month) AS m, revenue_zone, service_type, revenue_monthly_fare, "
        f"revenue_monthly_total_amount, avg_monthly_trip_distance FROM `{table}` ORDER BY 1, 2, 3").result()
    return [tuple(r.values()) for r in rows]


def test_one_month_on_gcs_and_bigquery_equals_the_local_report(gcp_env, gcp, make_resources, lake_root):
    resources = resources_for(env=gcp_env)
    result = materialize(MONTHLY + asset_checks, resources=resources, partition_key="2021-01")
    assert result.success
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert len(checks) == 14 and all(checks.values()), checks

    # the lake is on GCS: every dataset's month folder has a manifest naming its parquet files
    storage = gcp.storage_client()
    bucket = gcp_env["TAXI_LAKE_ROOT"].split("/")[2]
    names = {b.name for b in storage.list_blobs(bucket)}
    for dataset in ("raw/green_trips", "raw/yellow_trips", "clean/green_trips", "quarantine/yellow_trips", "core/trips"):
        assert f"lake/{dataset}/month=2021-01/_manifest.json" in names, dataset
    assert not any("/_staging/" in n or "_bigquery_staging" in n for n in names)  # staging cleaned up
    assert not any("reports/" in n for n in names)  # the report went to BigQuery, not the lake

    # the BigQuery report equals the same month computed by the local deployment
    local = materialize(MONTHLY, resources=make_resources(sample_rows_per_month=ROWS, sample_seed=SEED),
                        partition_key="2021-01")
    assert local.success
    import duckdb

    local_rows = duckdb.connect().execute(f"""
        SELECT strftime(revenue_month AT TIME ZONE 'UTC', '%Y-%m'), revenue_zone, service_type, revenue_monthly_fare,
               revenue_monthly_total_amount, avg_monthly_trip_distance
        FROM read_parquet('{lake_root}/reports/revenue_monthly_zone/*/*.parquet') ORDER BY 1, 2, 3""").fetchall()
    remote = bigquery_report(gcp.bigquery_client(), gcp_env)
    assert len(remote) == len(local_rows) > 50
    for r, l in zip(remote, local_rows):
        assert r[:3] == l[:3]
        assert r[3:] == pytest.approx(l[3:], abs=1e-6)


def test_rerun_and_second_month(gcp_env, gcp):
    resources = resources_for(env=gcp_env)
    client = gcp.bigquery_client()
    assert materialize(MONTHLY + asset_checks, resources=resources, partition_key="2021-01").success
    first = bigquery_report(client, gcp_env)
    # re-running the month leaves the same rows (no duplicates)
    assert materialize(MONTHLY + asset_checks, resources=resources, partition_key="2021-01").success
    assert bigquery_report(client, gcp_env) == first
    # a second month adds its rows and does not touch the first
    assert materialize(MONTHLY + asset_checks, resources=resources, partition_key="2021-02").success
    both = bigquery_report(client, gcp_env)
    assert [r for r in both if r[0] == "2021-01"] == first
    assert {r[0] for r in both} == {"2021-01", "2021-02"}


def failed_before_any_step(result) -> str:
    """The run failed while starting its resources: no step ran, so no Spark work started. Returns the error text."""
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]
    return "\n".join(e.event_specific_data.error.to_string() for e in result.all_events
                     if getattr(e.event_specific_data, "error", None) is not None)


def test_missing_bucket_fails_before_any_spark_work(gcp_env):
    env = {**gcp_env, "TAXI_LAKE_ROOT": "gs://no-such-bucket-here/lake"}
    result = materialize(MONTHLY, resources=resources_for(env=env), partition_key="2021-01", raise_on_error=False)
    assert "lake bucket gs://no-such-bucket-here does not exist" in failed_before_any_step(result)


def test_missing_dataset_fails_before_any_spark_work(gcp_env):
    env = {**gcp_env, "TAXI_BIGQUERY_DATASET": "no_such_dataset"}
    result = materialize(MONTHLY, resources=resources_for(env=env), partition_key="2021-01", raise_on_error=False)
    assert "BigQuery dataset taxi-test.no_such_dataset does not exist" in failed_before_any_step(result)


@pytest.mark.parametrize("keyfile_content", [None, "not json", '{"type": "authorized_user"}'])
def test_bad_keyfile_fails_before_any_spark_work_without_showing_the_path(gcp_env, tmp_path, monkeypatch, capfd,
                                                                          keyfile_content):
    """A real (non-emulator) configuration whose keyfile is missing, unreadable or not a service-account key."""
    secret_path = tmp_path / "secret-dir-7f3a" / "sa-key.json"
    if keyfile_content is not None:
        secret_path.parent.mkdir()
        secret_path.write_text(keyfile_content)
    monkeypatch.setenv("TAXI_TEST_KEYFILE", str(secret_path))
    env = {k: v for k, v in gcp_env.items() if k not in ("TAXI_GCS_ENDPOINT", "TAXI_BIGQUERY_ENDPOINT")}
    env["TAXI_GCP_KEYFILE_ENV_VAR"] = "TAXI_TEST_KEYFILE"
    result = materialize(MONTHLY, resources=resources_for(env=env), partition_key="2021-01", raise_on_error=False)
    errors = failed_before_any_step(result)
    assert "keyfile named by $TAXI_TEST_KEYFILE" in errors
    captured = capfd.readouterr()
    logs = "\n".join(str(e) for e in result.all_events)
    for text in (errors, logs, captured.out, captured.err):
        assert "secret-dir-7f3a" not in text and "sa-key.json" not in text


def test_uploaded_local_lake_is_read_by_the_gcp_deployment(gcp_env, gcp, make_resources, lake_root):
    """The course's gsutil -m cp -r step: a lake materialized locally, uploaded, then built upon on GCS."""
    assert materialize(MONTHLY, resources=make_resources(sample_rows_per_month=ROWS, sample_seed=SEED),
                       partition_key="2021-01").success
    from dagster import Definitions

    from taxi_platform.defs.gcp.upload_lake import upload_lake_to_gcs

    resources = resources_for(env=gcp_env)
    defs = Definitions(jobs=[upload_lake_to_gcs], resources=resources)
    upload = defs.resolve_job_def("upload_lake_to_gcs").execute_in_process(
        run_config={"ops": {"upload_local_lake": {"config": {"local_lake": str(lake_root), "workers": 4}}}})
    assert upload.success
    metadata = upload.get_step_success_events()[0]
    from taxi_platform.defs.revenue.core import trips
    from taxi_platform.defs.revenue.reports import revenue_monthly_zone

    # core/trips and the report, on GCS/BigQuery, from the uploaded clean datasets
    result = materialize(MONTHLY + asset_checks, resources=resources, partition_key="2021-01",
                         selection=[trips, revenue_monthly_zone])
    assert result.success, metadata
    rows = {e.asset_key.to_user_string(): e.materialization.metadata["dagster/row_count"].value
            for e in result.get_asset_materialization_events()}
    import pyarrow.dataset as ds

    assert rows["core/trips"] == ds.dataset(lake_root / "core/trips", format="parquet").count_rows()
    assert rows["reports/revenue_monthly_zone"] == ds.dataset(
        lake_root / "reports/revenue_monthly_zone", format="parquet").count_rows()
