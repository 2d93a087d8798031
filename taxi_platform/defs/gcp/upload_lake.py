"""The course's ``gsutil -m cp -r`` step as a Dagster job: upload an existing local lake to the deployment's GCS lake."""

from pathlib import Path

from dagster import Config, MetadataValue, OpExecutionContext, Output, job, op

from taxi_platform.io_managers.gcs_sync import sync_to_gcs


class UploadLakeConfig(Config):
    local_lake: str = "data/lake"
    workers: int = 8


@op(required_resource_keys={"gcp", "lake_io_manager"}, description="Upload a local lake to the gs:// lake root.")
def upload_local_lake(context: OpExecutionContext, config: UploadLakeConfig):
    destination = context.resources.lake_io_manager.lake_root
    report = sync_to_gcs(Path(config.local_lake), destination, context.resources.gcp.storage_client(), config.workers)
    context.log.info(f"{len(report.uploaded)} files uploaded, {len(report.skipped)} already there, to {destination}")
    for folder in report.newer_on_gcs:
        context.log.warning(f"{folder}: left alone, GCS holds a newer version than {config.local_lake}")
    for folder in report.changed_during_upload:
        context.log.warning(f"{folder}: left alone, another write committed it during the upload")
    metadata = {k: MetadataValue.json(v) if isinstance(v, list) else v for k, v in report.as_metadata().items()}
    return Output(None, metadata={**metadata, "destination": MetadataValue.path(destination)})


@job(description="Upload an existing local lake (e.g. data/lake) to the gcp deployment's GCS lake, in parallel, "
     "skipping files already there with the same checksum, and never replacing a month GCS holds a newer version of.")
def upload_lake_to_gcs():
    upload_local_lake()
