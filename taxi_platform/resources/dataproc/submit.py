"""Submit a job (cluster) or a batch (Serverless), poll it until it ends, cancel it on timeout or interruption, and
turn a failure into ``DataprocJobError`` (job id, state, details, driver output URI and how to read it)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from dagster import Failure, MetadataValue

from taxi_platform.resources.dataproc.naming import batch_console_url, job_console_url, workload_id
from taxi_platform.resources.dataproc.resource import DataprocResource
from taxi_platform.resources.dataproc.job_requests import build_batch_request, build_job_request

if TYPE_CHECKING:  # google-cloud-dataproc is imported on use only: loading the definitions must stay fast
    from google.cloud import dataproc_v1


class DataprocJobError(Failure):
    """A Dataproc job or batch did not succeed (failed, cancelled or timed out).

    ``str(error)`` names the job id (or batch name), its final state, Dataproc's details and where the driver output
    is, with the command to read it. The same facts are attributes and the failure's metadata in the Dagster UI.
    """

    def __init__(self, *, kind: str, job_id: str, state: str, details: str, driver_output_uri: str,
                 console_url: str, read_hint: str):
        self.kind, self.job_id, self.state, self.details = kind, job_id, state, details
        self.driver_output_uri, self.console_url = driver_output_uri, console_url
        output = driver_output_uri or "(Dataproc reported no driver output URI)"
        description = (
            f"Dataproc {kind} {job_id} ended in state {state}: {details or 'no details from Dataproc'}. "
            f"Driver output: {output}. {read_hint} Console: {console_url}"
        )
        super().__init__(
            description=description,
            metadata={
                f"dataproc_{kind}": job_id,
                "state": state,
                "details": details,
                "driver_output_uri": driver_output_uri,
                "console_url": MetadataValue.url(console_url),
            },
            allow_retries=False,
        )




@dataclass
class DataprocRunResult:
    """What a successful job or batch left behind (no secrets: safe as asset metadata)."""

    mode: str
    workload_id: str  # the job id (cluster) or the batch id (serverless)
    resource_name: str  # the job id, or projects/P/locations/R/batches/ID
    state: str
    driver_output_uri: str
    console_url: str
    polls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _read_hint(kind: str, config: DataprocResource, workload: str, output_uri: str) -> str:
    read = f"Read it with: gsutil cat '{output_uri}*'" if output_uri else "No driver output was recorded"
    if kind == "job":
        return (f"{read} (or: gcloud dataproc jobs wait {workload} --region={config.region} "
                f"--project={config.project_id}).")
    return (f"{read} (or: gcloud dataproc batches describe {workload} --region={config.region} "
            f"--project={config.project_id}).")


def _job_state_name(job) -> str:
    return job.status.state.name


def submit_and_wait(
    config: DataprocResource,
    args: Sequence[str],
    *,
    run_id: str | None = None,
    client=None,
    log=None,
    workload: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DataprocRunResult:
    """Submit the job script with ``args`` (a job or a batch, by ``config.mode``) and poll until it ends.

    Returns a DataprocRunResult on success; raises DataprocJobError (job id, state, details, driver output URI and how
    to read it) on ERROR/FAILED/CANCELLED or after ``timeout_seconds`` (the workload is cancelled first).
    ``client`` defaults to the resource's regional client; tests pass a fake.
    """
    config.validate_config()
    months = next((a.split("=", 1)[1].split(",") for a in args if a.startswith("--months=")), [])
    workload = workload or workload_id(months or ["0000-00"], run_id or "")
    if config.mode == "serverless":
        request = build_batch_request(config, args, workload, run_id)
    else:
        request = build_job_request(config, args, workload, run_id)
    client = client if client is not None else config.client()
    info = log.info if log is not None else (lambda msg: None)
    if config.mode == "serverless":
        return _run_batch(config, client, request, workload, info, sleep, clock)
    return _run_job(config, client, request, workload, info, sleep, clock)


def _run_job(config, client, request, job_id, info, sleep, clock) -> DataprocRunResult:
    from google.cloud.dataproc_v1 import JobStatus

    console = job_console_url(config.project_id, config.region, job_id)
    job = client.submit_job(request=request)
    job_id = job.reference.job_id or job_id
    info(f"Dataproc job {job_id} submitted to cluster {config.cluster_name} ({config.region}): {console}")
    started, polls, last_state = clock(), 0, None
    try:
        while not (job.done or job.status.state in (JobStatus.State.DONE, JobStatus.State.ERROR,
                                                    JobStatus.State.CANCELLED)):
            if last_state != job.status.state:
                last_state = job.status.state
                info(f"Dataproc job {job_id}: {_job_state_name(job)}")
            if clock() - started > config.timeout_seconds:
                _cancel(lambda: client.cancel_job(project_id=config.project_id, region=config.region, job_id=job_id),
                        info, f"job {job_id}")
                raise DataprocJobError(kind="job", job_id=job_id, state="TIMEOUT",
                                       details=f"still {_job_state_name(job)} after {config.timeout_seconds:g}s; "
                                       "cancellation requested",
                                       driver_output_uri=job.driver_output_resource_uri, console_url=console,
                                       read_hint=_read_hint("job", config, job_id, job.driver_output_resource_uri))
            sleep(config.poll_interval_seconds)
            polls += 1
            job = client.get_job(project_id=config.project_id, region=config.region, job_id=job_id)
    except BaseException as e:
        if not isinstance(e, Exception):  # interrupted (run terminated, Ctrl-C): stop the job too
            _cancel(lambda: client.cancel_job(project_id=config.project_id, region=config.region, job_id=job_id),
                    info, f"job {job_id}")
        raise
    state = _job_state_name(job)
    output = job.driver_output_resource_uri
    if job.status.state != JobStatus.State.DONE:
        raise DataprocJobError(kind="job", job_id=job_id, state=state, details=job.status.details,
                               driver_output_uri=output, console_url=console,
                               read_hint=_read_hint("job", config, job_id, output))
    info(f"Dataproc job {job_id}: DONE; driver output {output}")
    return DataprocRunResult(mode="cluster", workload_id=job_id, resource_name=job_id, state=state,
                             driver_output_uri=output, console_url=console, polls=polls,
                             extra={"job_uuid": job.job_uuid} if job.job_uuid else {})


def _run_batch(config, client, request, batch_id, info, sleep, clock) -> DataprocRunResult:
    from google.cloud.dataproc_v1 import Batch

    name = f"{config.parent()}/batches/{batch_id}"
    console = batch_console_url(config.project_id, config.region, batch_id)
    operation = client.create_batch(request=request)
    operation_name = _operation_name(operation)
    info(f"Dataproc Serverless batch {name} created (runtime {config.runtime_version}): {console}")
    done = (Batch.State.SUCCEEDED, Batch.State.FAILED, Batch.State.CANCELLED)
    started, polls, last_state = clock(), 0, None
    batch = client.get_batch(name=name)

    def cancel():
        if operation_name:
            _cancel(lambda: client.cancel_operation(request={"name": operation_name}), info, f"batch {name}")

    try:
        while batch.state not in done:
            if last_state != batch.state:
                last_state = batch.state
                info(f"Dataproc batch {batch_id}: {batch.state.name}")
            if clock() - started > config.timeout_seconds:
                cancel()
                output = batch.runtime_info.output_uri
                raise DataprocJobError(kind="batch", job_id=name, state="TIMEOUT",
                                       details=f"still {batch.state.name} after {config.timeout_seconds:g}s; "
                                       "cancellation requested",
                                       driver_output_uri=output, console_url=console,
                                       read_hint=_read_hint("batch", config, batch_id, output))
            sleep(config.poll_interval_seconds)
            polls += 1
            batch = client.get_batch(name=name)
    except BaseException as e:
        if not isinstance(e, Exception):  # interrupted (run terminated, Ctrl-C): stop the batch too
            cancel()
        raise
    output = batch.runtime_info.output_uri
    if batch.state != Batch.State.SUCCEEDED:
        raise DataprocJobError(kind="batch", job_id=name, state=batch.state.name, details=batch.state_message,
                               driver_output_uri=output, console_url=console,
                               read_hint=_read_hint("batch", config, batch_id, output))
    info(f"Dataproc batch {batch_id}: SUCCEEDED; driver output {output}")
    return DataprocRunResult(mode="serverless", workload_id=batch_id, resource_name=name, state=batch.state.name,
                             driver_output_uri=output, console_url=console, polls=polls,
                             extra={"batch_uuid": batch.uuid} if batch.uuid else {})


def _operation_name(operation) -> str:
    """The long-running operation's name (google.api_core Operation or a raw operations_pb2.Operation)."""
    raw = getattr(operation, "operation", operation)
    return getattr(raw, "name", "") or ""


def _cancel(call: Callable[[], Any], info, what: str) -> None:
    try:
        call()
        info(f"cancellation of Dataproc {what} requested")
    except Exception as e:  # the original failure matters more than a failed cancel
        info(f"could not cancel Dataproc {what}: {type(e).__name__}: {e}")
