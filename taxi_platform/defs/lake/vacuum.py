"""The ``vacuum_lake`` job: remove what crashed writes left, on every store the deployment has (launchable from the UI).

- the lake (local): commits of dead runs rolled back, dead runs' ``_staging``, superseded versions in ``_retired``;
- the lake (GCS): ``_staging`` objects, and files of month folders their manifest does not name (copies of writes
  that died before committing), older than the grace period;
- BigQuery (gcp deployment): ``_staging_*`` tables and staged parquet of dead writes, older than the grace period.

``dry_run`` lists what would go (in the step's metadata and log) and deletes nothing. The grace period protects live
writes: keep it well above the longest write (default 6 hours).
"""

from dagster import Config, MetadataValue, OpExecutionContext, Output, job, op

from taxi_platform.io_managers.local_swap import STALE_STAGING_SECONDS


class VacuumConfig(Config):
    grace_hours: float = STALE_STAGING_SECONDS / 3600
    dry_run: bool = False


@op(required_resource_keys={"lake_io_manager", "report_io_manager"},
    description="Remove unreferenced files, dead runs' staging and BigQuery staging tables older than the grace period.")
def vacuum_stores(context: OpExecutionContext, config: VacuumConfig):
    grace = config.grace_hours * 3600
    found: dict[str, list[str]] = {}
    lake = context.resources.lake_io_manager
    found["lake"] = lake.store().vacuum(grace_seconds=grace, dry_run=config.dry_run)
    reports = context.resources.report_io_manager
    if reports is not lake and hasattr(reports, "vacuum"):
        found["bigquery"] = reports.vacuum(grace_seconds=grace, dry_run=config.dry_run)
    verb = "would remove" if config.dry_run else "removed"
    for store, paths in found.items():
        context.log.info(f"{store}: {verb} {len(paths)} leftovers" + "".join(f"\n  {p}" for p in paths[:200]))
    return Output(None, metadata={
        "dry_run": config.dry_run, "grace_hours": config.grace_hours,
        **{f"{store}_leftovers": len(paths) for store, paths in found.items()},
        "paths": MetadataValue.json({store: paths[:1000] for store, paths in found.items()}),
    })


@job(description="Remove what crashed writes left on every store (dead staging, unreferenced files, BigQuery staging "
     "tables) older than a grace period; dry_run lists without deleting.")
def vacuum_lake():
    vacuum_stores()
