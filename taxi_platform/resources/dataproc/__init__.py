"""The ``dataproc`` Spark target: run the spark-submit job script (``taxi_platform/spark_jobs/revenue_report.py``) on Google
Cloud Dataproc, on an existing cluster (``mode="cluster"``, a Dataproc *job*) or on Dataproc Serverless
(``mode="serverless"``, a *batch*), and wait for it.

Requests are built by pure functions (``build_job_request``, ``build_batch_request``, ``job_args``,
``regional_endpoint``) so that exactly what is sent can be tested without Google: there is no Dataproc emulator.
Submission uses google-cloud-dataproc's ``JobControllerClient`` / ``BatchControllerClient`` directly, not dagster-gcp's
``PipesDataprocJobClient`` (see docs/dataproc.md, "Why not Pipes": it has no serverless batches, it appends Pipes
bootstrap arguments the job script's argparse rejects, it polls by ``job_uuid`` instead of the job id it submitted, and
its failure error has neither the job id nor the driver output URI).

Clients are built lazily, on the first submission of a run, never when the definitions load. Credentials: the
service-account keyfile whose path is in the env var named by ``credentials_env_var`` (default
``GOOGLE_APPLICATION_CREDENTIALS``), else google-auth's Application Default Credentials. The keyfile path is never
logged nor put in metadata.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from dagster import ConfigurableResource, Failure, MetadataValue
from pydantic import Field

from taxi_platform.partitions import parse_month
from taxi_platform.spark_settings import BASE_CONFIG

if TYPE_CHECKING:  # google-cloud-dataproc is imported on use only: loading the definitions must stay fast
    from google.cloud import dataproc_v1

MODES = ("cluster", "serverless")
PY_FILE_EXTENSIONS = (".zip", ".egg", ".py")  # what python_file_uris / --py-files put on the PYTHONPATH
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
REPORT_DATASET = "reports/revenue_monthly_zone"
RAW_DATASETS = {"green": "raw/green_trips", "yellow": "raw/yellow_trips"}
_REGION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")  # us-central1, europe-west4, northamerica-northeast1
_CLUSTER_RE = re.compile(r"^[a-z]([-a-z0-9]{0,49}[a-z0-9])?$")
_LABEL_BAD = re.compile(r"[^a-z0-9_-]")


class DataprocConfigError(ValueError):
    """The dataproc target's configuration cannot work; raised before any request is built or sent."""


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


# ----------------------------------------------------------------------------------------------- pure request builders


def regional_endpoint(region: str) -> str:
    """The regional Dataproc API endpoint: jobs and batches of ``region`` are only reachable there."""
    if not region or not _REGION_RE.match(region):
        raise DataprocConfigError(f"region {region!r} is not a Dataproc region (e.g. 'us-central1'); 'global' is not "
                                  "supported: the target uses regional endpoints")
    return f"{region}-dataproc.googleapis.com:443"


def client_options(region: str) -> dict[str, str]:
    return {"api_endpoint": regional_endpoint(region)}


def _require_gs(name: str, value: str, *, allow_file: bool = False) -> None:
    schemes = ("gs://", "file://") if allow_file else ("gs://",)
    if not isinstance(value, str) or not value.startswith(schemes) or len(value.rstrip("/")) <= len(value.split("//")[0]) + 2:
        raise DataprocConfigError(f"{name} must be a {' or '.join(schemes)} URI, got {value!r}")


def report_paths(lake_root: str) -> dict[str, str]:
    """The gs:// inputs and output of the report under ``lake_root`` (the lake layout, month=YYYY-MM folders)."""
    _require_gs("lake_root", lake_root)
    root = lake_root.rstrip("/")
    return {
        "input_green": f"{root}/{RAW_DATASETS['green']}",
        "input_yellow": f"{root}/{RAW_DATASETS['yellow']}",
        "output": f"{root}/{REPORT_DATASET}",
    }


def job_args(input_green: str, input_yellow: str, output: str, months: Sequence[str]) -> list[str]:
    """The job script's arguments, in its order: ``--input_green= --input_yellow= --output= --months=a,b``."""
    for name, value in (("input_green", input_green), ("input_yellow", input_yellow), ("output", output)):
        _require_gs(name, value)
    if not months:
        raise DataprocConfigError("months is empty: the job needs at least one month (YYYY-MM)")
    for month in months:
        parse_month(month)
    return [
        f"--input_green={input_green}",
        f"--input_yellow={input_yellow}",
        f"--output={output}",
        f"--months={','.join(months)}",
    ]


def workload_id(months: Sequence[str], run_id: str, token: str | None = None) -> str:
    """A job id / batch id that is valid for both (lowercase letters, digits, '-', 4-63 chars, starts with a letter)
    and readable: ``taxi-revenue-202101-202103-<first 8 of the run id>-<6 random hex>``.
    The random part keeps a retried step from colliding with the id of its first attempt."""
    first, last = min(months).replace("-", ""), max(months).replace("-", "")
    run = re.sub(r"[^a-z0-9]", "", (run_id or "norun").lower())[:8] or "norun"
    token = token if token is not None else uuid.uuid4().hex[:6]
    return f"taxi-revenue-{first}-{last}-{run}-{token}"


def sanitize_label(text: str) -> str:
    """Dataproc label keys/values: lowercase letters, digits, '_' and '-', at most 63 characters."""
    return _LABEL_BAD.sub("-", str(text).lower())[:63]


def job_console_url(project_id: str, region: str, job_id: str) -> str:
    return f"https://console.cloud.google.com/dataproc/jobs/{job_id}?project={project_id}&region={region}"


def batch_console_url(project_id: str, region: str, batch_id: str) -> str:
    return f"https://console.cloud.google.com/dataproc/batches/{region}/{batch_id}?project={project_id}"


# ------------------------------------------------------------------------------------------------------- the resource


class DataprocResource(ConfigurableResource):
    """Where and how the report's Spark job runs on Dataproc. Nothing talks to Google until a run submits.

    Not dagster-gcp's ``DataprocResource`` (that one creates clusters through the discovery API); this one only
    submits the platform's job script, to an existing cluster or as a Serverless batch.
    """

    project_id: str = Field(default="", description="Google Cloud project of the cluster/batches (required).")
    region: str = Field(default="", description="Dataproc region, e.g. us-central1 (required; regional endpoint).")
    mode: str = Field(default="cluster", description="'cluster' (a job on cluster_name) or 'serverless' (a batch).")
    cluster_name: str = Field(default="", description="The existing cluster that runs the job (cluster mode).")
    job_script_uri: str = Field(default="", description="gs:// URI of taxi_platform/spark_jobs/revenue_report.py.")
    lake_root: str = Field(default="", description="gs://bucket/prefix of the lake: raw/ inputs, reports/ output.")
    py_files: list[str] = Field(default_factory=list,
                                description="gs:// URIs put on the job's PYTHONPATH: the taxi_platform zip (.zip/.egg/.py).")
    jars: list[str] = Field(default_factory=list, description="Extra jar URIs (the GCS connector is built in).")
    properties: dict[str, str] = Field(default_factory=dict,
                                       description="Spark properties, on top of the platform's BASE_CONFIG.")
    service_account: str = Field(default="", description="Runtime service account of serverless batches.")
    runtime_version: str = Field(default="2.2", description="Dataproc Serverless runtime version.")
    container_image: str = Field(default="", description="Custom container image of serverless batches.")
    subnetwork_uri: str = Field(default="", description="Subnetwork of serverless batches (default: 'default').")
    staging_bucket: str = Field(default="", description="Staging bucket name of serverless batches.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels added to every job/batch.")
    credentials_env_var: str = Field(
        default="GOOGLE_APPLICATION_CREDENTIALS",
        description="Name of the env var holding a service-account keyfile path; unset -> Application Default "
        "Credentials. The path itself is never logged.",
    )
    poll_interval_seconds: float = Field(default=10.0, description="Seconds between two status polls.")
    timeout_seconds: float = Field(default=6 * 3600, description="Cancel and fail the job after this long.")

    # -- validation

    def validate_config(self) -> None:
        """Raise DataprocConfigError naming every setting that cannot work; called before any request is built."""
        problems = []
        if not self.project_id:
            problems.append("project_id is required")
        if not self.region:
            problems.append("region is required")
        else:
            try:
                regional_endpoint(self.region)
            except DataprocConfigError as e:
                problems.append(str(e))
        if self.mode not in MODES:
            problems.append(f"mode must be one of {list(MODES)}, got {self.mode!r}")
        if self.mode == "cluster":
            if not self.cluster_name:
                problems.append("cluster_name is required in cluster mode")
            elif not _CLUSTER_RE.match(self.cluster_name):
                problems.append(f"cluster_name {self.cluster_name!r} is not a Dataproc cluster name")
        checks: list[tuple[str, str, bool]] = [("job_script_uri", self.job_script_uri, False),
                                              ("lake_root", self.lake_root, False)]
        checks += [(f"py_files[{i}]", uri, False) for i, uri in enumerate(self.py_files)]
        checks += [(f"jars[{i}]", uri, True) for i, uri in enumerate(self.jars)]
        for name, value, allow_file in checks:
            try:
                _require_gs(name, value, allow_file=allow_file)
            except DataprocConfigError as e:
                problems.append(str(e))
        for i, uri in enumerate(self.py_files):
            if not uri.lower().endswith(PY_FILE_EXTENSIONS):
                problems.append(f"py_files[{i}] must be a .zip, .egg or .py file (Dataproc's python_file_uris and "
                                f"Spark's --py-files do not put a .whl on the PYTHONPATH), got {uri!r}")
        if self.job_script_uri.startswith("gs://") and not self.job_script_uri.endswith(".py"):
            problems.append(f"job_script_uri must name the .py job script, got {self.job_script_uri!r}")
        if self.staging_bucket.startswith("gs://"):
            problems.append("staging_bucket is a bucket name, not a gs:// URI")
        if self.poll_interval_seconds <= 0 or self.timeout_seconds <= 0:
            problems.append("poll_interval_seconds and timeout_seconds must be > 0")
        if problems:
            raise DataprocConfigError("Dataproc target is misconfigured: " + "; ".join(problems))

    # -- what is sent

    def spark_properties(self) -> dict[str, str]:
        """BASE_CONFIG (the platform's settings for every target), then ``properties``."""
        return {**BASE_CONFIG, **{str(k): str(v) for k, v in self.properties.items()}}

    def job_labels(self, run_id: str | None) -> dict[str, str]:
        labels = {sanitize_label(k): sanitize_label(v) for k, v in self.labels.items()}
        labels["taxi-platform-asset"] = sanitize_label(REPORT_DATASET)
        if run_id:
            labels["dagster-run-id"] = sanitize_label(run_id)
        return labels

    def parent(self) -> str:
        return f"projects/{self.project_id}/locations/{self.region}"

    def console_url(self, workload: str) -> str:
        if self.mode == "serverless":
            return batch_console_url(self.project_id, self.region, workload)
        return job_console_url(self.project_id, self.region, workload)

    # -- clients (tests override these two methods to inject fakes)

    def credentials(self):
        """Keyfile credentials from the env var named by credentials_env_var, else None (Application Default)."""
        var = self.credentials_env_var
        path = os.environ.get(var) if var else None
        if not path:
            return None
        if not os.path.isfile(path):
            # Name the variable, never the path it holds.
            raise DataprocConfigError(f"env var {var} is set but does not name a readable service-account keyfile")
        from google.oauth2 import service_account

        return service_account.Credentials.from_service_account_file(path, scopes=[CLOUD_PLATFORM_SCOPE])

    def job_controller_client(self):
        from google.cloud import dataproc_v1

        return dataproc_v1.JobControllerClient(credentials=self.credentials(), client_options=client_options(self.region))

    def batch_controller_client(self):
        from google.cloud import dataproc_v1

        return dataproc_v1.BatchControllerClient(credentials=self.credentials(),
                                                 client_options=client_options(self.region))

    def client(self):
        return self.batch_controller_client() if self.mode == "serverless" else self.job_controller_client()


def build_job_request(config: DataprocResource, args: Sequence[str], job_id: str,
                      run_id: str | None = None) -> "dataproc_v1.SubmitJobRequest":
    """The SubmitJobRequest of cluster mode: a PySpark job of the job script on ``config.cluster_name``."""
    from google.cloud import dataproc_v1

    config.validate_config()
    if config.mode != "cluster":
        raise DataprocConfigError(f"build_job_request is for mode='cluster', this target is mode={config.mode!r}")
    return dataproc_v1.SubmitJobRequest(
        project_id=config.project_id,
        region=config.region,
        job=dataproc_v1.Job(
            reference=dataproc_v1.JobReference(project_id=config.project_id, job_id=job_id),
            placement=dataproc_v1.JobPlacement(cluster_name=config.cluster_name),
            pyspark_job=dataproc_v1.PySparkJob(
                main_python_file_uri=config.job_script_uri,
                args=list(args),
                python_file_uris=list(config.py_files),
                jar_file_uris=list(config.jars),
                properties=config.spark_properties(),
            ),
            labels=config.job_labels(run_id),
        ),
    )


def build_batch_request(config: DataprocResource, args: Sequence[str], batch_id: str,
                        run_id: str | None = None) -> "dataproc_v1.CreateBatchRequest":
    """The CreateBatchRequest of serverless mode: a PySpark batch of the job script under projects/P/locations/R."""
    from google.cloud import dataproc_v1

    config.validate_config()
    if config.mode != "serverless":
        raise DataprocConfigError(f"build_batch_request is for mode='serverless', this target is mode={config.mode!r}")
    execution = dataproc_v1.ExecutionConfig(
        service_account=config.service_account,
        subnetwork_uri=config.subnetwork_uri,
        staging_bucket=config.staging_bucket,
    )
    return dataproc_v1.CreateBatchRequest(
        parent=config.parent(),
        batch_id=batch_id,
        batch=dataproc_v1.Batch(
            pyspark_batch=dataproc_v1.PySparkBatch(
                main_python_file_uri=config.job_script_uri,
                args=list(args),
                python_file_uris=list(config.py_files),
                jar_file_uris=list(config.jars),
            ),
            runtime_config=dataproc_v1.RuntimeConfig(
                version=config.runtime_version,
                container_image=config.container_image,
                properties=config.spark_properties(),
            ),
            environment_config=dataproc_v1.EnvironmentConfig(execution_config=execution),
            labels=config.job_labels(run_id),
        ),
    )


def _gcloud_map(flag: str, values: Mapping[str, str]) -> list[str]:
    if not values:
        return []
    items = [f"{k}={v}" for k, v in values.items()]
    if any("," in item for item in items):  # gcloud's alternate delimiter syntax: ^#^k=v#k2=v2
        return [f"{flag}=^#^" + "#".join(items)]
    return [f"{flag}=" + ",".join(items)]


def gcloud_command(config: DataprocResource, args: Sequence[str], workload: str) -> list[str]:
    """The ``gcloud dataproc jobs|batches submit pyspark`` command equivalent to what the asset submits."""
    config.validate_config()
    common = [config.job_script_uri, f"--project={config.project_id}", f"--region={config.region}"]
    files = ([f"--py-files={','.join(config.py_files)}"] if config.py_files else []) + (
        [f"--jars={','.join(config.jars)}"] if config.jars else [])
    labels = config.job_labels(None)
    if config.mode == "cluster":
        cmd = ["gcloud", "dataproc", "jobs", "submit", "pyspark", *common, f"--cluster={config.cluster_name}",
               f"--id={workload}", *files]
    else:
        cmd = ["gcloud", "dataproc", "batches", "submit", "pyspark", *common, f"--batch={workload}",
               f"--version={config.runtime_version}", *files]
        for flag, value in (("--service-account", config.service_account), ("--subnet", config.subnetwork_uri),
                            ("--staging-bucket", config.staging_bucket),
                            ("--container-image", config.container_image)):
            if value:
                cmd.append(f"{flag}={value}")
    return [*cmd, *_gcloud_map("--properties", config.spark_properties()), *_gcloud_map("--labels", labels),
            "--", *args]


# ------------------------------------------------------------------------------------------------- submit and wait


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


def resource_from_env(env: Mapping[str, str]) -> DataprocResource:
    """The dataproc target configured from TAXI_DATAPROC_* env vars (see docs/dataproc.md); validated at once."""
    missing = [name for name in ("TAXI_DATAPROC_PROJECT", "TAXI_DATAPROC_REGION", "TAXI_DATAPROC_JOB_SCRIPT",
                                 "TAXI_DATAPROC_LAKE_ROOT") if not env.get(name)]
    mode = env.get("TAXI_DATAPROC_MODE") or "cluster"
    if mode == "cluster" and not env.get("TAXI_DATAPROC_CLUSTER"):
        missing.append("TAXI_DATAPROC_CLUSTER")
    if missing:
        raise DataprocConfigError("TAXI_SPARK_TARGET=dataproc needs " + ", ".join(missing)
                                  + " (see docs/dataproc.md)")

    def items(name: str) -> list[str]:
        return [x.strip() for x in (env.get(name) or "").split(",") if x.strip()]

    def pairs(name: str) -> dict[str, str]:
        out = {}
        for item in items(name):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise DataprocConfigError(f"{name} must be comma-separated key=value pairs, got item {item!r}")
            out[key.strip()] = value.strip()
        return out

    resource = DataprocResource(
        project_id=env["TAXI_DATAPROC_PROJECT"],
        region=env["TAXI_DATAPROC_REGION"],
        mode=mode,
        cluster_name=env.get("TAXI_DATAPROC_CLUSTER") or "",
        job_script_uri=env["TAXI_DATAPROC_JOB_SCRIPT"],
        lake_root=env["TAXI_DATAPROC_LAKE_ROOT"],
        py_files=items("TAXI_DATAPROC_PY_FILES"),
        jars=items("TAXI_DATAPROC_JARS"),
        properties=pairs("TAXI_DATAPROC_PROPERTIES"),
        service_account=env.get("TAXI_DATAPROC_SERVICE_ACCOUNT") or "",
        runtime_version=env.get("TAXI_DATAPROC_RUNTIME_VERSION") or "2.2",
        container_image=env.get("TAXI_DATAPROC_CONTAINER_IMAGE") or "",
        subnetwork_uri=env.get("TAXI_DATAPROC_SUBNETWORK") or "",
        staging_bucket=env.get("TAXI_DATAPROC_STAGING_BUCKET") or "",
        labels=pairs("TAXI_DATAPROC_LABELS"),
        credentials_env_var=env.get("TAXI_DATAPROC_CREDENTIALS_ENV_VAR") or "GOOGLE_APPLICATION_CREDENTIALS",
        poll_interval_seconds=float(env.get("TAXI_DATAPROC_POLL_SECONDS") or 10),
        timeout_seconds=float(env.get("TAXI_DATAPROC_TIMEOUT_SECONDS") or 6 * 3600),
    )
    resource.validate_config()
    return resource


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m taxi_platform.resources.dataproc --months 2021-01,2021-02``: print the gcloud command equivalent
    to what the asset submits for those months, from the same TAXI_DATAPROC_* env vars. Sends nothing."""
    import argparse
    import shlex

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--months", required=True, help="comma-separated months, e.g. 2021-01,2021-02")
    parser.add_argument("--id", default=None, help="job/batch id (default: taxi-revenue-<months>-manual-<random>)")
    ns = parser.parse_args(argv)
    env = {**os.environ, "TAXI_SPARK_TARGET": "dataproc"}
    config = resource_from_env(env)
    months = [m.strip() for m in ns.months.split(",") if m.strip()]
    paths = report_paths(config.lake_root)
    args = job_args(paths["input_green"], paths["input_yellow"], paths["output"], months)
    print(shlex.join(gcloud_command(config, args, ns.id or workload_id(months, "manual"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
