"""Submission and waiting against recorded fakes of the Dataproc clients; the asset through a real dagster.materialize."""

import os

import pytest
from dagster import DagsterInstance, materialize
from google.cloud import dataproc_v1

from taxi_platform.defs.revenue.reports_on_dataproc import revenue_monthly_zone_on_dataproc
from taxi_platform.resources.dataproc import (
    DataprocConfigError,
    DataprocJobError,
    DataprocResource,
    build_batch_request,
    build_job_request,
    submit_and_wait,
)

from .fakes import BATCH_OUTPUT, JOB_DRIVER_OUTPUT, FakeBatchController, FakeJobController, with_fake_client
from .test_requests import ARGS, CLUSTER, RUN_ID, SERVERLESS

os.environ.setdefault("NO_GCE_CHECK", "True")

RANGE = {"dagster/asset_partition_range_start": "2021-01", "dagster/asset_partition_range_end": "2021-03"}
FAST = {"poll_interval_seconds": 0.001}


class Log:
    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(msg)


def no_sleep(_):
    pass


def test_cluster_job_is_submitted_then_polled_until_done():
    fake, log = FakeJobController(states=("PENDING", "RUNNING", "RUNNING", "DONE")), Log()
    config = DataprocResource(**CLUSTER)
    result = submit_and_wait(config, ARGS, run_id=RUN_ID, client=fake, log=log, workload="taxi-job-1", sleep=no_sleep)
    assert [c[0] for c in fake.calls] == ["submit_job"] + ["get_job"] * 4
    assert fake.calls[0][1] == build_job_request(config, ARGS, "taxi-job-1", RUN_ID), "sends exactly the built request"
    assert all(c[1] == {"project_id": "taxi-proj", "region": "europe-west4", "job_id": "taxi-job-1"}
               for c in fake.calls[1:]), "polls the job id it submitted (not job_uuid)"
    assert (result.state, result.workload_id, result.polls) == ("DONE", "taxi-job-1", 4)
    assert result.driver_output_uri == JOB_DRIVER_OUTPUT.format(job_id="taxi-job-1")
    assert result.console_url == ("https://console.cloud.google.com/dataproc/jobs/taxi-job-1"
                                  "?project=taxi-proj&region=europe-west4")
    assert any("submitted to cluster taxi-cluster" in line for line in log.lines)


def test_failed_cluster_job_raises_with_job_id_state_details_and_driver_output():
    fake = FakeJobController(states=("RUNNING", "ERROR"), details="Job failed with message [ValueError: not a month key]")
    with pytest.raises(DataprocJobError) as err:
        submit_and_wait(DataprocResource(**CLUSTER), ARGS, run_id=RUN_ID, client=fake, workload="taxi-job-2",
                        sleep=no_sleep)
    text = str(err.value)
    output = JOB_DRIVER_OUTPUT.format(job_id="taxi-job-2")
    assert "Dataproc job taxi-job-2 ended in state ERROR" in text
    assert "ValueError: not a month key" in text
    assert f"Driver output: {output}" in text
    assert f"gsutil cat '{output}*'" in text
    assert "gcloud dataproc jobs wait taxi-job-2 --region=europe-west4 --project=taxi-proj" in text
    assert (err.value.job_id, err.value.state, err.value.driver_output_uri) == ("taxi-job-2", "ERROR", output)
    assert err.value.metadata["driver_output_uri"].value == output


def test_cancelled_job_is_a_failure_too():
    with pytest.raises(DataprocJobError, match="taxi-job-3 ended in state CANCELLED"):
        submit_and_wait(DataprocResource(**CLUSTER), ARGS, client=FakeJobController(states=("CANCELLED",)),
                        workload="taxi-job-3", sleep=no_sleep)


def test_timeout_cancels_the_job_and_fails_with_its_id():
    fake = FakeJobController(states=("RUNNING",))
    ticks = iter(range(0, 10_000, 60))
    config = DataprocResource(**{**CLUSTER, "timeout_seconds": 300})
    with pytest.raises(DataprocJobError, match="taxi-job-4 ended in state TIMEOUT") as err:
        submit_and_wait(config, ARGS, client=fake, workload="taxi-job-4", sleep=no_sleep, clock=lambda: next(ticks))
    assert ("cancel_job", {"project_id": "taxi-proj", "region": "europe-west4", "job_id": "taxi-job-4"}) in fake.calls
    assert err.value.driver_output_uri.endswith("/jobs/taxi-job-4/driveroutput")


def test_serverless_batch_is_created_then_polled_until_succeeded():
    fake = FakeBatchController(states=("PENDING", "RUNNING", "SUCCEEDED"))
    config = DataprocResource(**SERVERLESS)
    result = submit_and_wait(config, ARGS, run_id=RUN_ID, client=fake, workload="taxi-batch-1", sleep=no_sleep)
    name = "projects/taxi-proj/locations/us-central1/batches/taxi-batch-1"
    assert fake.calls[0] == ("create_batch", build_batch_request(config, ARGS, "taxi-batch-1", RUN_ID))
    assert fake.calls[1:] == [("get_batch", {"name": name})] * 3
    assert (result.state, result.resource_name) == ("SUCCEEDED", name)
    assert result.driver_output_uri == BATCH_OUTPUT.format(batch_id="taxi-batch-1")
    assert result.console_url == ("https://console.cloud.google.com/dataproc/batches/us-central1/taxi-batch-1"
                                  "?project=taxi-proj")


def test_failed_batch_raises_with_its_name_and_output_uri():
    fake = FakeBatchController(states=("RUNNING", "FAILED"), state_message="Job failed with message [Py4JJavaError]")
    with pytest.raises(DataprocJobError) as err:
        submit_and_wait(DataprocResource(**SERVERLESS), ARGS, client=fake, workload="taxi-batch-2", sleep=no_sleep)
    text = str(err.value)
    assert "Dataproc batch projects/taxi-proj/locations/us-central1/batches/taxi-batch-2 ended in state FAILED" in text
    assert "Py4JJavaError" in text
    assert BATCH_OUTPUT.format(batch_id="taxi-batch-2") in text
    assert "gcloud dataproc batches describe taxi-batch-2 --region=us-central1 --project=taxi-proj" in text


def test_batch_timeout_cancels_the_operation():
    fake = FakeBatchController(states=("RUNNING",))
    ticks = iter(range(0, 10_000, 60))
    with pytest.raises(DataprocJobError, match="TIMEOUT"):
        submit_and_wait(DataprocResource(**{**SERVERLESS, "timeout_seconds": 100}), ARGS, client=fake,
                        workload="taxi-batch-3", sleep=no_sleep, clock=lambda: next(ticks))
    assert ("cancel_operation", {"name": "projects/p/regions/us-central1/operations/op-123"}) in fake.calls


# ------------------------------------------------------------------------------------------- through dagster


def test_asset_materializes_a_backfill_range_as_one_dataproc_job():
    fake = FakeJobController(states=("RUNNING", "DONE"))
    resource = with_fake_client(fake, **CLUSTER, **FAST)
    result = materialize([revenue_monthly_zone_on_dataproc], resources={"dataproc": resource}, tags=RANGE)
    assert result.success
    submits = [c[1] for c in fake.calls if c[0] == "submit_job"]
    assert len(submits) == 1, "a single-run backfill is one Dataproc job"
    job = submits[0].job
    assert list(job.pyspark_job.args) == ARGS
    assert job.labels["dagster-run-id"] == result.run_id
    job_id = job.reference.job_id
    assert job_id.startswith(f"taxi-revenue-202101-202103-{result.run_id[:8]}-")

    mats = result.asset_materializations_for_node("reports__revenue_monthly_zone")
    assert sorted(m.partition for m in mats) == ["2021-01", "2021-02", "2021-03"]
    meta = mats[0].metadata
    assert meta["dataproc_job_id"].value == job_id
    assert meta["dataproc_state"].value == "DONE"
    assert meta["dataproc_mode"].value == "cluster"
    assert meta["dataproc_cluster"].value == "taxi-cluster"
    assert meta["driver_output_uri"].value == JOB_DRIVER_OUTPUT.format(job_id=job_id)
    assert meta["console_url"].value == (f"https://console.cloud.google.com/dataproc/jobs/{job_id}"
                                         "?project=taxi-proj&region=europe-west4")
    assert meta["months"].value == ["2021-01", "2021-02", "2021-03"]
    assert meta["output_path"].value == "gs://taxi-lake/prod/reports/revenue_monthly_zone"
    assert meta["input_green"].value == "gs://taxi-lake/prod/raw/green_trips"


def test_asset_on_serverless_records_the_batch():
    fake = FakeBatchController(states=("RUNNING", "SUCCEEDED"))
    resource = with_fake_client(fake, **SERVERLESS, **FAST)
    result = materialize([revenue_monthly_zone_on_dataproc], resources={"dataproc": resource}, partition_key="2021-02")
    assert result.success
    request = fake.created
    assert request.parent == "projects/taxi-proj/locations/us-central1"
    assert list(request.batch.pyspark_batch.args)[-1] == "--months=2021-02"
    meta = result.asset_materializations_for_node("reports__revenue_monthly_zone")[0].metadata
    assert meta["dataproc_batch"].value == f"{request.parent}/batches/{request.batch_id}"
    assert meta["dataproc_state"].value == "SUCCEEDED"
    assert meta["driver_output_uri"].value == BATCH_OUTPUT.format(batch_id=request.batch_id)


def test_failed_job_fails_the_run_with_the_job_id_and_driver_output():
    fake = FakeJobController(states=("RUNNING", "ERROR"), details="Job failed with message [boom]")
    resource = with_fake_client(fake, **CLUSTER, **FAST)
    result = materialize([revenue_monthly_zone_on_dataproc], resources={"dataproc": resource},
                         partition_key="2021-01", raise_on_error=False)
    assert not result.success
    job_id = fake.submitted.job.reference.job_id
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    text = failure.step_failure_data.error.message
    assert f"Dataproc job {job_id} ended in state ERROR" in text and "boom" in text
    assert JOB_DRIVER_OUTPUT.format(job_id=job_id) in text
    assert failure.step_failure_data.user_failure_data.metadata["dataproc_job"].value == job_id
    assert not result.asset_materializations_for_node("reports__revenue_monthly_zone")


def test_bad_config_fails_the_run_before_any_request():
    fake = FakeJobController()
    resource = with_fake_client(fake, **{**CLUSTER, "lake_root": "data/lake"})
    result = materialize([revenue_monthly_zone_on_dataproc], resources={"dataproc": resource},
                         partition_key="2021-01", raise_on_error=False)
    assert not result.success and fake.calls == []
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "lake_root must be a gs:// URI, got 'data/lake'" in failure.step_failure_data.error.to_string()


def test_keyfile_path_never_reaches_logs_metadata_or_errors(tmp_path, monkeypatch, capfd):
    from .fakes import write_service_account_keyfile

    secret_dir = tmp_path / "very-secret-dir-4242"
    secret_dir.mkdir()
    keyfile = write_service_account_keyfile(secret_dir / "sa-key-4242.json")
    monkeypatch.setenv("TAXI_TEST_DATAPROC_KEYFILE", keyfile)
    config = {**CLUSTER, **FAST, "credentials_env_var": "TAXI_TEST_DATAPROC_KEYFILE"}

    # the keyfile is really read (the fake resource loads credentials like the real clients do)
    assert DataprocResource(**config).credentials().service_account_email == \
        "dagster-runner@taxi-test.iam.gserviceaccount.com"

    instance = DagsterInstance.ephemeral()
    ok = materialize([revenue_monthly_zone_on_dataproc], instance=instance, partition_key="2021-01",
                     resources={"dataproc": with_fake_client(FakeJobController(), **config)})
    failed = materialize([revenue_monthly_zone_on_dataproc], instance=instance, partition_key="2021-01",
                         raise_on_error=False,
                         resources={"dataproc": with_fake_client(
                             FakeJobController(states=("ERROR",), details="bad"), **config)})
    assert ok.success and not failed.success
    monkeypatch.setenv("TAXI_TEST_DATAPROC_KEYFILE", str(secret_dir / "missing-4242.json"))
    missing = materialize([revenue_monthly_zone_on_dataproc], instance=instance, partition_key="2021-01",
                          raise_on_error=False, resources={"dataproc": with_fake_client(FakeJobController(), **config)})
    assert not missing.success

    texts = [str(entry) for run in (ok, failed, missing) for entry in instance.all_logs(run.run_id)]
    out, err = capfd.readouterr()
    texts += [out, err, repr(instance.get_run_by_id(ok.run_id))]
    blob = "\n".join(texts)
    assert "TAXI_TEST_DATAPROC_KEYFILE is set but does not name a readable service-account keyfile" in blob
    assert "Dataproc job" in blob  # the logs were captured at all
    for secret in ("very-secret-dir-4242", "sa-key-4242", "missing-4242", "PRIVATE KEY"):
        assert secret not in blob


def test_real_clients_use_the_regional_endpoint_and_the_keyfile_without_network(tmp_path, monkeypatch):
    """Building the google clients is offline (channels connect lazily); nothing here sends a request."""
    from .fakes import write_service_account_keyfile

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", write_service_account_keyfile(tmp_path / "key.json"))
    jobs = DataprocResource(**CLUSTER).job_controller_client()
    batches = DataprocResource(**SERVERLESS).batch_controller_client()
    assert isinstance(jobs, dataproc_v1.JobControllerClient)
    assert isinstance(batches, dataproc_v1.BatchControllerClient)
    assert jobs.api_endpoint == "europe-west4-dataproc.googleapis.com:443"
    assert batches.api_endpoint == "us-central1-dataproc.googleapis.com:443"
    assert jobs.transport._credentials.service_account_email == "dagster-runner@taxi-test.iam.gserviceaccount.com"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "nope.json"))
    with pytest.raises(DataprocConfigError, match="GOOGLE_APPLICATION_CREDENTIALS is set but") as err:
        DataprocResource(**CLUSTER).job_controller_client()
    assert "nope.json" not in str(err.value)


def test_interrupted_run_cancels_the_job():
    from dagster._core.errors import DagsterExecutionInterruptedError

    def interrupted(_):
        raise DagsterExecutionInterruptedError()

    fake = FakeJobController(states=("RUNNING",))
    with pytest.raises(DagsterExecutionInterruptedError):
        submit_and_wait(DataprocResource(**CLUSTER), ARGS, client=fake, workload="taxi-job-5", sleep=interrupted)
    assert fake.calls[-1] == ("cancel_job", {"project_id": "taxi-proj", "region": "europe-west4", "job_id": "taxi-job-5"})
