"""``monthly_lake_asset``: the decorator of a Spark asset with one lake folder per month, declared once.

Every monthly Spark asset of the platform (core/trips, the reports, analytics, fhvhv_base_ids) is declared the same
way: monthly partitions (``partitions.monthly_partitions``, keys "YYYY-MM"), one run per backfill
(``BackfillPolicy.single_run()``: a range of months is one Spark job), stored by an IO manager of the lake, with the
number of parquet files each month is written as (``FILES_PER_PARTITION_KEY``) and the column contract with each
column's description (``dagster/column_schema``, shown in the UI). Only what differs is passed.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from dagster import AssetIn, AssetKey, BackfillPolicy, asset

from taxi_platform.defs.metadata import column_schema
from taxi_platform.io_managers.lake import FILES_PER_PARTITION_KEY
from taxi_platform.partitions import monthly_partitions


def monthly_lake_asset(
    *,
    key: AssetKey,
    ins: Mapping[str, AssetIn],
    contract,
    files_per_partition: int,
    group_name: str,
    kinds: set[str],
    description: str,
    io_manager_key: str = "lake_io_manager",
    metadata: Optional[Mapping[str, Any]] = None,
    **more: Any,
):
    """``@asset`` with the monthly lake settings (module docstring). ``contract``: the (name, Spark type) columns
    (``schemas.py``); ``files_per_partition``: parquet files per month (>= 1); ``metadata``: further definition
    metadata (e.g. BigQuery's ``partition_expr``); ``more``: any other ``@asset`` argument (config, retry policy)."""
    return asset(
        key=key,
        ins=dict(ins),
        partitions_def=monthly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        io_manager_key=io_manager_key,
        metadata={
            FILES_PER_PARTITION_KEY: files_per_partition,
            **(metadata or {}),
            "dagster/column_schema": column_schema(contract),
        },
        group_name=group_name,
        kinds=kinds,
        description=description,
        **more,
    )
