"""What is sent to Dataproc: the job request (a cluster), the batch request (Serverless), and the equivalent gcloud
command. Pure functions of the resource's settings and the job script's arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from taxi_platform.resources.dataproc.naming import DataprocConfigError
from taxi_platform.resources.dataproc.resource import DataprocResource

if TYPE_CHECKING:  # google-cloud-dataproc is imported on use only: loading the definitions must stay fast
    from google.cloud import dataproc_v1


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
