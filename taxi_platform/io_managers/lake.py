"""The lake IO manager: Spark DataFrames (and raw month files) as parquet under ``{lake_root}/{asset key path}/``.

Layout (Hive-style, chosen because one read of several months gets each row's ``month`` back from the folder name,
which single-run backfills of a whole range need; any parquet reader understands it)::

    {lake_root}/raw/green_trips/month=2021-01/part-00000.parquet      the month's file as published
    {lake_root}/clean/green_trips/month=2021-01/part-*.parquet         up to ``files_per_partition`` files a month
    {lake_root}/reports/revenue_monthly_zone/month=2021-01/part-*.parquet   one file a month
    {lake_root}/ref/taxi_zones/part-*.parquet                           unpartitioned datasets
    {lake_root}/_staging/, {lake_root}/_trash/                          in-flight writes (ignored by readers)

Writes: a partitioned asset hands over a DataFrame with a ``month`` column; the months of the run's partition range are
written in one Spark job to a staging folder, then each month folder replaces the old one atomically
(``local_swap.swap``). Writing a month twice leaves one copy; a crash mid-write leaves the previous version readable
(``local_swap.recover``); months outside the run's range are refused before anything is replaced; a month of the range
with no rows is written as an empty file carrying the schema, so the range is exactly what the lake holds afterwards.

Reads: one partition, a range (one DataFrame with ``month``), or an unpartitioned dataset. Raw assets (definition
metadata ``lake/layout = month_files``) load as ``{month: DataFrame}``: their published types may differ by month.
"""


import shutil
from pathlib import Path
from typing import Optional
from typing import Any

import pyarrow.parquet as pq
from dagster import (
    AssetKey,
    ConfigurableIOManager,
    InputContext,
    MetadataValue,
    OutputContext,
    ResourceDependency,
    TableColumn,
    TableSchema,
)
from pydantic import Field

from taxi_platform.io_managers.local_swap import new_staging_dir, recover, swap
from taxi_platform.io_managers.month_files import MonthFiles
from taxi_platform.resources.spark import SparkResource
from taxi_platform.schemas import MONTH_COLUMN

LAYOUT_KEY = "lake/layout"
MONTH_FILES_LAYOUT = "month_files"
FILES_PER_PARTITION_KEY = "lake/files_per_partition"
PREVIEW_ROWS = 5


class LakeError(Exception):
    """A lake read or write that cannot be done; the message names the dataset, the month and the path."""


class MissingPartitionError(LakeError):
    pass


class LakeIOManager(ConfigurableIOManager):
    """Parquet datasets on a local path, one Hive-style ``month=YYYY-MM`` folder per monthly partition."""

    lake_root: str = Field(default="data/lake", description="Root folder of the lake (relative to the working dir).")
    spark: ResourceDependency[SparkResource]
    files_per_partition: int = Field(
        default=4, description=f"Default number of files per month; an asset's '{FILES_PER_PARTITION_KEY}' wins."
    )

    # ---- paths -----------------------------------------------------------------------------------------------
    def root(self) -> Path:
        if "://" in self.lake_root:
            raise LakeError(f"lake_root {self.lake_root!r}: only local paths are supported by this lake")
        return Path(self.lake_root).expanduser().resolve()

    def dataset_path(self, asset_key: AssetKey) -> Path:
        return self.root().joinpath(*asset_key.path)

    def month_path(self, asset_key: AssetKey, month: str) -> Path:
        return self.dataset_path(asset_key) / f"{MONTH_COLUMN}={month}"

    # ---- writes ----------------------------------------------------------------------------------------------
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if obj is None:
            return
        recover(self.root())
        key = context.asset_key
        spark_info: dict[str, str] = {}
        if isinstance(obj, MonthFiles):
            months = self._store_month_files(context, obj)  # no Spark: raw files are moved as they are
        else:
            # Where Spark ran this write: target, master or Spark Connect address, version, Spark UI URL.
            spark_info = self.spark.describe()
            if context.has_asset_partitions:
                months = self._write_months(context, obj)
            else:
                months = None
                self._write_whole(context, obj)
        context.add_output_metadata({**self._written_metadata(key, months), **spark_info})

    def _files_per_partition(self, context: OutputContext) -> int:
        return int((context.definition_metadata or {}).get(FILES_PER_PARTITION_KEY, self.files_per_partition))

    def _write_months(self, context: OutputContext, df) -> list[str]:
        from pyspark.sql import functions as F
        from pyspark.sql.types import StructType

        key, months = context.asset_key, list(context.asset_partition_keys)
        name = key.to_user_string()
        if MONTH_COLUMN not in df.columns:
            raise LakeError(f"{name}: a monthly dataset needs a '{MONTH_COLUMN}' column (YYYY-MM); got {df.columns}")
        files = self._files_per_partition(context)
        if files <= 1:
            df = df.repartition(MONTH_COLUMN)
        else:
            salt = F.pmod(F.xxhash64(*[F.col(f"`{c}`") for c in df.columns]), F.lit(files))
            df = df.repartition(len(months) * files, F.col(MONTH_COLUMN), salt)

        staging = new_staging_dir(self.root(), context.run_id)
        try:
            df.write.mode("overwrite").partitionBy(MONTH_COLUMN).parquet(str(staging))
            written = {p.name.split("=", 1)[1] for p in staging.glob(f"{MONTH_COLUMN}=*")}
            unexpected = sorted(written - set(months))
            if unexpected:
                raise LakeError(
                    f"{name}: rows for months {unexpected} are outside this run's partitions "
                    f"{months[0]}..{months[-1]}; nothing was replaced"
                )
            schema = StructType([f for f in df.schema.fields if f.name != MONTH_COLUMN])
            spark = self.spark.get_session()
            for month in sorted(set(months) - written):
                empty = spark.createDataFrame([], schema)
                empty.coalesce(1).write.mode("overwrite").parquet(str(staging / f"{MONTH_COLUMN}={month}"))
            for month in months:
                swap(self.root(), staging / f"{MONTH_COLUMN}={month}", self.month_path(key, month))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return months

    def _store_month_files(self, context: OutputContext, obj: MonthFiles) -> list[str]:
        key = context.asset_key
        months = list(context.asset_partition_keys) if context.has_asset_partitions else sorted(obj.files)
        missing = [m for m in months if m not in obj.files]
        if missing:
            raise LakeError(f"{key.to_user_string()}: no file was produced for months {missing}")
        try:
            for month in months:
                staging = new_staging_dir(self.root(), context.run_id)
                (staging).mkdir(parents=True)
                shutil.move(str(obj.files[month]), staging / "part-00000.parquet")
                swap(self.root(), staging, self.month_path(key, month))
        finally:
            obj.cleanup()
        return months

    def _write_whole(self, context: OutputContext, df) -> None:
        staging = new_staging_dir(self.root(), context.run_id)
        try:
            df.coalesce(self._files_per_partition(context)).write.mode("overwrite").parquet(str(staging))
            swap(self.root(), staging, self.dataset_path(context.asset_key))
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    # ---- reads -----------------------------------------------------------------------------------------------
    def load_input(self, context: InputContext):
        recover(self.root())
        key = context.asset_key
        spark = self.spark.get_session()
        dataset = self.dataset_path(key)
        if not context.has_asset_partitions:
            if not dataset.exists():
                raise MissingPartitionError(f"{key.to_user_string()} has not been materialized: nothing at {dataset}")
            return spark.read.parquet(str(dataset))

        months = list(context.asset_partition_keys)
        self.require_months(key, months)
        upstream = context.upstream_output
        layout = (upstream.definition_metadata or {}).get(LAYOUT_KEY) if upstream is not None else None
        if layout == MONTH_FILES_LAYOUT:
            return {month: spark.read.parquet(str(self.month_path(key, month))) for month in months}
        paths = [str(self.month_path(key, month)) for month in months]
        return spark.read.option("basePath", str(dataset)).parquet(*paths)

    def require_months(self, key: AssetKey, months: list[str]) -> None:
        missing = [m for m in months if not self.month_path(key, m).is_dir()]
        if missing:
            raise MissingPartitionError(
                f"{key.to_user_string()} has no data for months {missing} under {self.dataset_path(key)}: "
                "materialize those partitions first"
            )

    # ---- metadata --------------------------------------------------------------------------------------------
    def _written_metadata(self, key: AssetKey, months: Optional[list[str]]) -> dict[str, Any]:
        folders = [self.month_path(key, m) for m in months] if months is not None else [self.dataset_path(key)]
        rows_by_folder = {folder.name: 0 for folder in folders}
        files = []
        for folder in folders:
            for file in sorted(folder.glob("*.parquet")):
                files.append(file)
                rows_by_folder[folder.name] += pq.ParquetFile(file).metadata.num_rows
        metadata: dict[str, Any] = {
            "dagster/row_count": sum(rows_by_folder.values()),
            "path": MetadataValue.path(str(self.dataset_path(key))),
            "files": len(files),
            "bytes": sum(f.stat().st_size for f in files),
        }
        if months is not None:
            metadata["rows_by_month"] = MetadataValue.json({k.split("=", 1)[1]: v for k, v in rows_by_folder.items()})
        if files:
            parquet = pq.ParquetFile(files[0])
            schema = parquet.schema_arrow
            metadata["dagster/column_schema"] = TableSchema(
                columns=[TableColumn(name=f.name, type=str(f.type)) for f in schema]
            )
            metadata["preview"] = MetadataValue.md(_markdown_preview(files))
        return metadata


def _markdown_preview(files: list[Path]) -> str:
    """The first rows of the written data as a markdown table (read from the files: no Spark job)."""
    rows: list[dict] = []
    for file in files:
        batch = next(pq.ParquetFile(file).iter_batches(batch_size=PREVIEW_ROWS), None)
        if batch is not None:
            rows.extend(batch.to_pylist()[: PREVIEW_ROWS - len(rows)])
        if len(rows) >= PREVIEW_ROWS:
            break
    if not rows:
        return "_no rows_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join("" if r[c] is None else str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
