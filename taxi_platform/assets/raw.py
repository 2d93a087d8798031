"""raw/{type}_trips: each month's file exactly as the configured source publishes it.

The source (TLC parquet, the course's CSV backup, local files, or the offline sample generator) is the ``sources``
resource; these assets never know which one is configured. No Spark here: a month is fetched, verified and stored.
"""


import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, MetadataValue, Output, asset

from taxi_platform.io_managers.lake import LAYOUT_KEY, MONTH_FILES_LAYOUT
from taxi_platform.io_managers.month_files import MonthFiles
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.sources import TaxiSourceResource

RAW_TAXI_TYPES = ("green", "yellow")


def raw_key(taxi_type: str) -> AssetKey:
    return AssetKey(["raw", f"{taxi_type}_trips"])


def build_raw_asset(taxi_type: str, group_name: str = "raw"):
    """raw/{taxi_type}_trips; ``group_name`` lets datasets outside the revenue job (fhv, fhvhv) live in their own group."""

    @asset(
        key=raw_key(taxi_type),
        partitions_def=monthly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        io_manager_key="lake_io_manager",
        metadata={LAYOUT_KEY: MONTH_FILES_LAYOUT},
        group_name=group_name,
        kinds={"parquet"},
        description=f"The {taxi_type} taxi trips of each month, exactly as the configured source publishes them.",
    )
    def _raw(context: AssetExecutionContext, sources: TaxiSourceResource) -> Output[MonthFiles]:
        workdir = Path(tempfile.mkdtemp(prefix=f"taxi_platform-raw-{taxi_type}-"))
        files: dict[str, Path] = {}
        by_month: dict[str, dict] = {}
        try:
            for month in context.partition_keys:
                fetched = sources.fetch_month(taxi_type, month, workdir)
                files[month] = fetched.path
                schema = pq.read_schema(fetched.path)
                by_month[month] = {
                    "source": fetched.source_uri,
                    "rows": fetched.num_rows,
                    "bytes": fetched.num_bytes,
                    "published_schema": {f.name: str(f.type) for f in schema},
                }
                context.log.info(f"{taxi_type} {month}: {fetched.num_rows} rows from {fetched.source_uri}")
        except BaseException:
            MonthFiles(files, workdir).cleanup()
            raise
        return Output(
            MonthFiles(files=files, workdir=workdir),
            metadata={
                "source": MetadataValue.json(sources.describe()),
                "months": MetadataValue.json(by_month),
            },
        )

    _raw.__name__ = f"raw_{taxi_type}_trips"
    return _raw


raw_assets = [build_raw_asset(t) for t in RAW_TAXI_TYPES]
