"""reports/revenue_monthly_zone computed on Dataproc: the same asset key as the local report, another compute.

Selected instead of ``defs/revenue/reports.py`` when ``TAXI_SPARK_TARGET=dataproc`` (see ``resources/deployments.py``).
The asset submits ``taxi_platform/spark_jobs/revenue_report.py`` (uploaded to GCS) with gs:// paths under the resource's
``lake_root`` for exactly the months of the run (one job for a whole single-run backfill), waits for it and records
the job as the materialization's metadata. Nothing is loaded into the Dagster process: the raw months are deps (they
must be in ``{lake_root}/raw/...``), and the job writes the report itself.
"""


from dagster import AssetExecutionContext, AssetsDefinition, BackfillPolicy, MaterializeResult, MetadataValue, asset

from taxi_platform.defs.revenue.raw import raw_key
from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.dataproc import DataprocResource, job_args, report_paths, submit_and_wait

DATAPROC_RESOURCE_KEY = "dataproc"


def build_dataproc_revenue_report() -> AssetsDefinition:
    """The Dataproc-computed ``reports/revenue_monthly_zone`` (needs the ``dataproc`` resource)."""

    @asset(
        key=REVENUE_MONTHLY_ZONE_KEY,
        deps=[raw_key("green"), raw_key("yellow")],
        partitions_def=monthly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="reports",
        kinds={"spark", "dataproc", "gcs"},
        description="Revenue per pickup zone, month and service type, computed by the revenue_report job script on "
        "Google Cloud Dataproc (a cluster job or a Serverless batch) from the raw months in the gs:// lake.",
    )
    def revenue_monthly_zone(context: AssetExecutionContext, dataproc: DataprocResource) -> MaterializeResult:
        dataproc.validate_config()
        months = sorted(context.partition_keys)
        paths = report_paths(dataproc.lake_root)
        args = job_args(paths["input_green"], paths["input_yellow"], paths["output"], months)
        result = submit_and_wait(dataproc, args, run_id=context.run.run_id, log=context.log)
        kind = "dataproc_batch" if result.mode == "serverless" else "dataproc_job_id"
        metadata = {
            kind: result.resource_name,
            "dataproc_mode": result.mode,
            "dataproc_state": result.state,
            "driver_output_uri": MetadataValue.path(result.driver_output_uri) if result.driver_output_uri else "",
            "console_url": MetadataValue.url(result.console_url),
            "months": MetadataValue.json(months),
            "output_path": MetadataValue.path(paths["output"]),
            "input_green": MetadataValue.path(paths["input_green"]),
            "input_yellow": MetadataValue.path(paths["input_yellow"]),
            "job_script_uri": MetadataValue.path(dataproc.job_script_uri),
            "dataproc_region": dataproc.region,
        }
        if result.mode == "cluster":
            metadata["dataproc_cluster"] = dataproc.cluster_name
        metadata.update({k: str(v) for k, v in result.extra.items()})
        return MaterializeResult(metadata=metadata)

    return revenue_monthly_zone


revenue_monthly_zone_on_dataproc = build_dataproc_revenue_report()
