"""``DataprocResource``: where and how the report's Spark job runs on Dataproc (settings, validation, credentials,
clients built lazily). Nothing talks to Google until a run submits."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dagster import ConfigurableResource
from pydantic import Field

from taxi_platform.resources.dataproc.naming import CLOUD_PLATFORM_SCOPE, DataprocConfigError, MODES, PY_FILE_EXTENSIONS, REPORT_DATASET, _CLUSTER_RE, _require_gs, batch_console_url, client_options, job_console_url, regional_endpoint, sanitize_label
from taxi_platform.spark_settings import BASE_CONFIG

if TYPE_CHECKING:  # google-cloud-dataproc is imported on use only: loading the definitions must stay fast
    from google.cloud import dataproc_v1


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
