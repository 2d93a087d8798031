"""The exact Dataproc requests built for a given config (there is no Dataproc emulator: the request is the contract)."""

import os
import re

import pytest
from google.cloud import dataproc_v1

from taxi_platform.resources.dataproc import (
    DataprocConfigError,
    DataprocResource,
    build_batch_request,
    build_job_request,
    client_options,
    job_args,
    regional_endpoint,
    report_paths,
    workload_id,
)
from taxi_platform.spark_settings import BASE_CONFIG

os.environ.setdefault("NO_GCE_CHECK", "True")

LAKE = "gs://taxi-lake/prod"
SCRIPT = "gs://taxi-code/jobs/revenue_report.py"
PY_ZIP = "gs://taxi-code/dist/taxi_platform.zip"
RUN_ID = "8c1f2e3d-4b5a-6978-8091-a2b3c4d5e6f7"

CLUSTER = dict(project_id="taxi-proj", region="europe-west4", mode="cluster", cluster_name="taxi-cluster",
               job_script_uri=SCRIPT, lake_root=LAKE, py_files=[PY_ZIP], jars=["gs://taxi-code/jars/extra.jar"],
               properties={"spark.executor.memory": "4g", "spark.sql.adaptive.enabled": "false"},
               labels={"Team": "Data Eng"})
SERVERLESS = dict(project_id="taxi-proj", region="us-central1", mode="serverless", job_script_uri=SCRIPT,
                  lake_root=LAKE, py_files=[PY_ZIP], service_account="spark-runtime@taxi-proj.iam.gserviceaccount.com",
                  runtime_version="2.2", subnetwork_uri="projects/taxi-proj/regions/us-central1/subnetworks/spark",
                  staging_bucket="taxi-staging", container_image="", properties={"spark.executor.instances": "4"})

ARGS = [
    "--input_green=gs://taxi-lake/prod/raw/green_trips",
    "--input_yellow=gs://taxi-lake/prod/raw/yellow_trips",
    "--output=gs://taxi-lake/prod/reports/revenue_monthly_zone",
    "--months=2021-01,2021-02,2021-03",
]


def test_job_args_are_the_job_scripts_arguments_in_order_with_gs_paths_from_the_lake_root():
    paths = report_paths(LAKE + "/")
    assert paths == {"input_green": "gs://taxi-lake/prod/raw/green_trips",
                     "input_yellow": "gs://taxi-lake/prod/raw/yellow_trips",
                     "output": "gs://taxi-lake/prod/reports/revenue_monthly_zone"}
    assert job_args(**paths, months=["2021-01", "2021-02", "2021-03"]) == ARGS
    # and the job script itself parses exactly these
    from taxi_platform.spark_jobs.revenue_report import parse_args

    parsed = parse_args(ARGS)
    assert (parsed.input_green, parsed.input_yellow, parsed.output, parsed.months) == (
        paths["input_green"], paths["input_yellow"], paths["output"], ["2021-01", "2021-02", "2021-03"])


def test_regional_endpoint_and_client_options():
    assert regional_endpoint("us-central1") == "us-central1-dataproc.googleapis.com:443"
    assert client_options("europe-west4") == {"api_endpoint": "europe-west4-dataproc.googleapis.com:443"}
    for bad in ("", "global", "us-central1.evil.com", "US-CENTRAL1"):
        with pytest.raises(DataprocConfigError, match="not a Dataproc region"):
            regional_endpoint(bad)


def test_workload_id_is_a_valid_job_and_batch_id():
    wid = workload_id(["2021-03", "2021-01", "2021-02"], RUN_ID, token="a1b2c3")
    assert wid == "taxi-revenue-202101-202103-8c1f2e3d-a1b2c3"
    random_wid = workload_id(["2021-01"], RUN_ID)
    # batch ids: 4-63 chars of [a-z0-9-]; job ids: letters, digits, _ and -, at most 100
    assert re.fullmatch(r"taxi-revenue-202101-202101-8c1f2e3d-[0-9a-f]{6}", random_wid)
    assert re.fullmatch(r"[a-z][a-z0-9-]{2,61}[a-z0-9]", random_wid)
    assert random_wid != workload_id(["2021-01"], RUN_ID), "a retried step must not reuse the id"


def test_cluster_mode_submit_job_request_has_every_field():
    config = DataprocResource(**CLUSTER)
    request = build_job_request(config, ARGS, "taxi-revenue-202101-202103-8c1f2e3d-a1b2c3", run_id=RUN_ID)
    assert isinstance(request, dataproc_v1.SubmitJobRequest)
    expected_properties = {**BASE_CONFIG, "spark.executor.memory": "4g", "spark.sql.adaptive.enabled": "false"}
    expected = dataproc_v1.SubmitJobRequest(
        project_id="taxi-proj",
        region="europe-west4",
        job=dataproc_v1.Job(
            reference=dataproc_v1.JobReference(project_id="taxi-proj",
                                               job_id="taxi-revenue-202101-202103-8c1f2e3d-a1b2c3"),
            placement=dataproc_v1.JobPlacement(cluster_name="taxi-cluster"),
            pyspark_job=dataproc_v1.PySparkJob(
                main_python_file_uri=SCRIPT,
                args=ARGS,
                python_file_uris=[PY_ZIP],
                jar_file_uris=["gs://taxi-code/jars/extra.jar"],
                properties=expected_properties,
            ),
            labels={"team": "data-eng", "taxi-platform-asset": "reports-revenue_monthly_zone",
                    "dagster-run-id": RUN_ID},
        ),
    )
    assert request == expected
    # field by field too, so that a failure says which
    job = request.job
    assert job.pyspark_job.main_python_file_uri == SCRIPT
    assert list(job.pyspark_job.args) == ARGS
    assert list(job.pyspark_job.python_file_uris) == [PY_ZIP]
    assert list(job.pyspark_job.jar_file_uris) == ["gs://taxi-code/jars/extra.jar"]
    props = dict(job.pyspark_job.properties)
    for key, value in BASE_CONFIG.items():
        if key != "spark.sql.adaptive.enabled":  # overridden by the config's own properties
            assert props[key] == value
    assert props["spark.sql.adaptive.enabled"] == "false" and props["spark.executor.memory"] == "4g"
    assert props["spark.sql.session.timeZone"] == "UTC" and props["spark.sql.legacy.parquet.nanosAsLong"] == "true"
    assert job.placement.cluster_name == "taxi-cluster"
    assert (request.project_id, request.region) == ("taxi-proj", "europe-west4")
    assert dataproc_v1.Job.pb(job).WhichOneof("type_job") == "pyspark_job"


def test_serverless_mode_create_batch_request_has_every_field():
    config = DataprocResource(**SERVERLESS)
    request = build_batch_request(config, ARGS, "taxi-revenue-202101-202103-8c1f2e3d-a1b2c3", run_id=RUN_ID)
    assert isinstance(request, dataproc_v1.CreateBatchRequest)
    expected = dataproc_v1.CreateBatchRequest(
        parent="projects/taxi-proj/locations/us-central1",
        batch_id="taxi-revenue-202101-202103-8c1f2e3d-a1b2c3",
        batch=dataproc_v1.Batch(
            pyspark_batch=dataproc_v1.PySparkBatch(
                main_python_file_uri=SCRIPT, args=ARGS, python_file_uris=[PY_ZIP], jar_file_uris=[]),
            runtime_config=dataproc_v1.RuntimeConfig(
                version="2.2", properties={**BASE_CONFIG, "spark.executor.instances": "4"}),
            environment_config=dataproc_v1.EnvironmentConfig(execution_config=dataproc_v1.ExecutionConfig(
                service_account="spark-runtime@taxi-proj.iam.gserviceaccount.com",
                subnetwork_uri="projects/taxi-proj/regions/us-central1/subnetworks/spark",
                staging_bucket="taxi-staging")),
            labels={"taxi-platform-asset": "reports-revenue_monthly_zone", "dagster-run-id": RUN_ID},
        ),
    )
    assert request == expected
    assert request.parent == "projects/taxi-proj/locations/us-central1"
    assert request.batch.runtime_config.version == "2.2"
    assert dict(request.batch.runtime_config.properties)["spark.sql.session.timeZone"] == "UTC"
    assert request.batch.environment_config.execution_config.service_account.startswith("spark-runtime@")
    assert list(request.batch.pyspark_batch.args) == ARGS
    assert dataproc_v1.Batch.pb(request.batch).WhichOneof("batch_config") == "pyspark_batch"


def test_the_wrong_builder_for_the_mode_is_refused():
    with pytest.raises(DataprocConfigError, match="mode='cluster'"):
        build_job_request(DataprocResource(**SERVERLESS), ARGS, "x-1234")
    with pytest.raises(DataprocConfigError, match="mode='serverless'"):
        build_batch_request(DataprocResource(**CLUSTER), ARGS, "x-1234")


@pytest.mark.parametrize("change, message", [
    ({"project_id": ""}, "project_id is required"),
    ({"region": ""}, "region is required"),
    ({"region": "global"}, "not a Dataproc region"),
    ({"cluster_name": ""}, "cluster_name is required in cluster mode"),
    ({"cluster_name": "Taxi_Cluster"}, "is not a Dataproc cluster name"),
    ({"mode": "yarn"}, "mode must be one of"),
    ({"lake_root": "/data/lake"}, "lake_root must be a gs:// URI"),
    ({"lake_root": "s3://bucket/lake"}, "lake_root must be a gs:// URI"),
    ({"lake_root": "gs://"}, "lake_root must be a gs:// URI"),
    ({"job_script_uri": "taxi_platform/spark_jobs/revenue_report.py"}, "job_script_uri must be a gs:// URI"),
    ({"job_script_uri": "gs://taxi-code/jobs/"}, "must name the .py job script"),
    ({"py_files": ["dist/taxi_platform.zip"]}, r"py_files\[0\] must be a gs:// URI"),
    ({"py_files": ["gs://taxi-code/dist/taxi_platform-0.1.0-py3-none-any.whl"]}, r"py_files\[0\] must be a .zip, .egg or .py"),
    ({"jars": ["http://example.com/x.jar"]}, r"jars\[0\] must be a gs:// or file:// URI"),
    ({"staging_bucket": "gs://taxi-staging"}, "staging_bucket is a bucket name"),
])
def test_config_errors_are_clear_and_raised_before_any_request(change, message):
    config = DataprocResource(**{**CLUSTER, **change})
    with pytest.raises(DataprocConfigError, match=message):
        config.validate_config()
    with pytest.raises(DataprocConfigError, match=message):
        build_job_request(config, ARGS, "taxi-revenue-x")
    from taxi_platform.resources.dataproc import submit_and_wait

    from .fakes import FakeJobController

    fake = FakeJobController()
    with pytest.raises(DataprocConfigError, match=message):
        submit_and_wait(config, ARGS, run_id=RUN_ID, client=fake)
    assert fake.calls == [], "nothing may be sent for a bad config"


def test_every_problem_is_named_at_once():
    with pytest.raises(DataprocConfigError) as err:
        DataprocResource(mode="cluster").validate_config()
    text = str(err.value)
    for part in ("project_id is required", "region is required", "cluster_name is required",
                 "job_script_uri must be", "lake_root must be"):
        assert part in text


def test_serverless_needs_no_cluster_and_args_need_months():
    DataprocResource(**SERVERLESS).validate_config()
    with pytest.raises(DataprocConfigError, match="months is empty"):
        job_args(*report_paths(LAKE).values(), months=[])
    with pytest.raises(ValueError, match="not a month key"):
        job_args(*report_paths(LAKE).values(), months=["2021-13"])
    with pytest.raises(DataprocConfigError, match="output must be a gs:// URI"):
        job_args("gs://b/g", "gs://b/y", "/tmp/out", months=["2021-01"])


def test_gcloud_equivalent_of_the_cluster_job():
    from taxi_platform.resources.dataproc import gcloud_command

    cmd = gcloud_command(DataprocResource(**{**CLUSTER, "labels": {}}), ARGS, "taxi-revenue-202101-202103-manual-a1b2c3")
    props = ",".join(f"{k}={v}" for k, v in {**BASE_CONFIG, "spark.executor.memory": "4g",
                                              "spark.sql.adaptive.enabled": "false"}.items())
    assert cmd == [
        "gcloud", "dataproc", "jobs", "submit", "pyspark", SCRIPT, "--project=taxi-proj", "--region=europe-west4",
        "--cluster=taxi-cluster", "--id=taxi-revenue-202101-202103-manual-a1b2c3", f"--py-files={PY_ZIP}",
        "--jars=gs://taxi-code/jars/extra.jar", f"--properties={props}",
        "--labels=taxi-platform-asset=reports-revenue_monthly_zone", "--", *ARGS]


def test_gcloud_equivalent_of_the_serverless_batch_escapes_commas():
    from taxi_platform.resources.dataproc import gcloud_command

    config = DataprocResource(**{**SERVERLESS, "properties": {"spark.driver.extraJavaOptions": "-Da=1,-Db=2"}})
    cmd = gcloud_command(config, ARGS, "taxi-b-1")
    assert cmd[:12] == [
        "gcloud", "dataproc", "batches", "submit", "pyspark", SCRIPT, "--project=taxi-proj", "--region=us-central1",
        "--batch=taxi-b-1", "--version=2.2", f"--py-files={PY_ZIP}",
        "--service-account=spark-runtime@taxi-proj.iam.gserviceaccount.com"]
    assert "--subnet=projects/taxi-proj/regions/us-central1/subnetworks/spark" in cmd
    assert "--staging-bucket=taxi-staging" in cmd
    assert [c for c in cmd if c.startswith("--properties=")][0].startswith("--properties=^#^spark.sql.session.timeZone=UTC#")
    assert cmd[-5:] == ["--", *ARGS]


def test_gcloud_command_cli_prints_the_command_from_env(monkeypatch, capsys):
    from taxi_platform.resources.dataproc import main

    for key, value in {"TAXI_DATAPROC_PROJECT": "taxi-proj", "TAXI_DATAPROC_REGION": "us-central1",
                       "TAXI_DATAPROC_CLUSTER": "taxi-cluster", "TAXI_DATAPROC_JOB_SCRIPT": SCRIPT,
                       "TAXI_DATAPROC_LAKE_ROOT": LAKE, "TAXI_DATAPROC_PY_FILES": PY_ZIP}.items():
        monkeypatch.setenv(key, value)
    assert main(["--months", "2021-01,2021-02", "--id", "taxi-manual-1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"gcloud dataproc jobs submit pyspark {SCRIPT} --project=taxi-proj --region=us-central1 "
                          "--cluster=taxi-cluster --id=taxi-manual-1 ")
    assert out.strip().endswith("-- --input_green=gs://taxi-lake/prod/raw/green_trips "
                                "--input_yellow=gs://taxi-lake/prod/raw/yellow_trips "
                                "--output=gs://taxi-lake/prod/reports/revenue_monthly_zone --months=2021-01,2021-02")
