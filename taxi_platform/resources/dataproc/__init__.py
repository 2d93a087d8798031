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

One module per role:

- ``naming.py``: endpoints, gs:// paths, the job script's arguments, ids, labels, console URLs (pure), the config error;
- ``resource.py``: ``DataprocResource`` (settings, validation, credentials, clients built lazily);
- ``job_requests.py``: the job / batch requests and the equivalent gcloud command (pure);
- ``submit.py``: submit, poll, cancel, ``DataprocJobError``;
- ``env.py``: the resource from ``TAXI_DATAPROC_*`` env vars, and the ``python -m`` command-line helper.
"""

from taxi_platform.resources.dataproc.env import main, resource_from_env
from taxi_platform.resources.dataproc.job_requests import build_batch_request, build_job_request, gcloud_command
from taxi_platform.resources.dataproc.naming import (
    CLOUD_PLATFORM_SCOPE,
    MODES,
    PY_FILE_EXTENSIONS,
    RAW_DATASETS,
    REPORT_DATASET,
    DataprocConfigError,
    batch_console_url,
    client_options,
    job_args,
    job_console_url,
    regional_endpoint,
    report_paths,
    sanitize_label,
    workload_id,
)
from taxi_platform.resources.dataproc.resource import DataprocResource
from taxi_platform.resources.dataproc.submit import DataprocJobError, DataprocRunResult, submit_and_wait

__all__ = [
    "CLOUD_PLATFORM_SCOPE", "MODES", "PY_FILE_EXTENSIONS", "RAW_DATASETS", "REPORT_DATASET", "DataprocConfigError",
    "DataprocJobError", "DataprocResource", "DataprocRunResult", "batch_console_url", "build_batch_request",
    "build_job_request", "client_options", "gcloud_command", "job_args", "job_console_url", "main", "regional_endpoint",
    "report_paths", "resource_from_env", "sanitize_label", "submit_and_wait", "workload_id",
]
