"""Report assets as BigQuery tables: one table per report, partitioned by month, a month replaced atomically.

No spark-bigquery connector is needed (none is obtainable here, and it is one more jar to keep in step): Spark writes
the months to parquet in a staging location (``gs://...`` in production, so the load never leaves Google's network;
a local folder works too), a BigQuery load job loads them into a staging table, and ONE query job replaces exactly the
run's months in the report table::

    MERGE report T USING staging S ON FALSE
    WHEN NOT MATCHED BY SOURCE AND T.revenue_month >= @start AND T.revenue_month < @end THEN DELETE
    WHEN NOT MATCHED THEN INSERT (col, ...) VALUES (S.col, ...)

Columns are matched by NAME, never by position: a report whose columns come in another order lands right; a new
column is added to the table first (``ALTER TABLE ADD COLUMN``, NULL for the months written before); a column whose
type changed, or that the write lacks, fails the write naming the column, before the MERGE (nothing replaced).

A MERGE is one atomic statement: readers see the old months or the new ones, re-materializing a month leaves no
duplicates, and months outside the run's range are untouched. (Partition decorators, ``table$202101``, would do the
same with a load job alone, but not every BigQuery-compatible engine has them.) The staging table and files are
removed afterwards, also when the run fails.

Reading back, columns are cast to the asset's declared ``dagster/column_schema`` (BigQuery has only INT64, so an
``int`` column comes back as a long otherwise) and a ``month`` column is added.

Types: timestamps land as TIMESTAMP (the Spark session runs in UTC, so parquet timestamps are UTC-adjusted; naive ones
would load as DATETIME), money as FLOAT64 (the lake's doubles, exact to the cent for these sums; use NUMERIC via a
view if you need decimal arithmetic), ints as INT64, column names as in the course report. The table is partitioned
by month on its partition column (asset metadata ``partition_expr``, default ``revenue_month``) and clustered by
``service_type, revenue_zone``.
"""

import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext, ResourceDependency
from pydantic import Field

from taxi_platform.io_managers.gcs_store import GcsStore
from taxi_platform.io_managers.local_swap import LocalStore
from taxi_platform.resources.gcp import GcpResource
from taxi_platform.resources.spark import SparkResource
from taxi_platform.schemas import MONTH_COLUMN

PARTITION_EXPR_KEY = "partition_expr"
TABLE_KEY = "bigquery/table"
CLUSTERING_KEY = "bigquery/clustering"
DEFAULT_PARTITION_EXPR = "revenue_month"
DEFAULT_CLUSTERING = ("service_type", "revenue_zone")


class BigQueryReportError(RuntimeError):
    """A report cannot be written to or read from BigQuery; the message names the table and the months."""


class BigQueryReportIOManager(ConfigurableIOManager):
    """Writes monthly report DataFrames to ``{project}.{dataset}.{table}`` and reads months back as DataFrames."""

    gcp: ResourceDependency[GcpResource]
    spark: ResourceDependency[SparkResource]
    dataset: str = Field(default="taxi_reports", description="BigQuery dataset holding the report tables (must exist).")
    staging_uri: str = Field(description="Where Spark stages parquet for load jobs: gs://bucket/prefix or a local folder.")

    # ---- names -----------------------------------------------------------------------------------------------
    def table_id(self, context) -> str:
        metadata = _definition_metadata(context)
        return f"{self.gcp.project}.{self.dataset}.{metadata.get(TABLE_KEY, context.asset_key.path[-1])}"

    def check_dataset(self) -> None:
        """Fail clearly, before any Spark work, when the dataset is missing or BigQuery is unreachable."""
        from google.api_core import exceptions

        try:
            self.gcp.bigquery_client().get_dataset(f"{self.gcp.project}.{self.dataset}")
        except exceptions.NotFound:
            raise BigQueryReportError(
                f"BigQuery dataset {self.gcp.project}.{self.dataset} does not exist: create it first "
                f"(bq mk --dataset --location={self.gcp.location} {self.gcp.project}:{self.dataset})"
            ) from None

    def setup_for_execution(self, context) -> None:
        self.check_dataset()

    # ---- writes ----------------------------------------------------------------------------------------------
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if obj is None:
            return
        from google.cloud import bigquery

        table_id = self.table_id(context)
        if not context.has_asset_partitions:
            raise BigQueryReportError(f"{table_id}: only monthly-partitioned reports go to BigQuery")
        months = list(context.asset_partition_keys)
        start, end = _month_window(months)
        metadata = _definition_metadata(context)
        partition_expr = metadata.get(PARTITION_EXPR_KEY, DEFAULT_PARTITION_EXPR)
        clustering = list(metadata.get(CLUSTERING_KEY, DEFAULT_CLUSTERING))
        df = obj.drop(MONTH_COLUMN) if MONTH_COLUMN in obj.columns else obj

        client = self.gcp.bigquery_client()
        write_id = f"{context.run_id[:8]}_{uuid.uuid4().hex[:8]}"
        staging_table = f"{self.gcp.project}.{self.dataset}._staging_{context.asset_key.path[-1]}_{write_id}"
        staging_files = f"{self.staging_uri.rstrip('/')}/{context.asset_key.path[-1]}-{write_id}"
        try:
            # UTC-adjusted TIMESTAMP_MICROS (spark_settings.BASE_CONFIG) loads as TIMESTAMP; INT96 would be DATETIME.
            df.write.mode("overwrite").parquet(staging_files)
            self._load(client, staging_files, staging_table)
            staged = client.get_table(staging_table)
            target = bigquery.Table(table_id, schema=staged.schema)
            target.time_partitioning = bigquery.TimePartitioning(type_="MONTH", field=partition_expr)
            target.clustering_fields = [c for c in clustering if c in {f.name for f in staged.schema}] or None
            existing = client.create_table(target, exists_ok=True)
            self._migrate(client, table_id, existing.schema, staged.schema)
            stray = self._rows_outside(client, staging_table, partition_expr, start, end)
            if stray:
                raise BigQueryReportError(
                    f"{table_id}: {stray} rows have {partition_expr} outside the run's months "
                    f"{months[0]}..{months[-1]}; nothing was replaced"
                )
            names = [f.name for f in staged.schema]  # by name, never by position
            client.query(
                f"MERGE `{table_id}` T USING `{staging_table}` S ON FALSE "
                f"WHEN NOT MATCHED BY SOURCE AND T.{partition_expr} >= @start AND T.{partition_expr} < @end "
                f"THEN DELETE WHEN NOT MATCHED THEN INSERT ({', '.join(f'`{n}`' for n in names)}) "
                f"VALUES ({', '.join(f'S.`{n}`' for n in names)})",
                job_config=_window_parameters(start, end),
            ).result()
        finally:
            client.delete_table(staging_table, not_found_ok=True)
            self._remove_staging(staging_files)
        rows = self._rows_by_month(client, table_id, partition_expr, start, end)
        context.add_output_metadata({
            "table": table_id,
            "dagster/row_count": sum(rows.values()),
            "rows_by_month": MetadataValue.json({m: rows.get(m, 0) for m in months}),
            "partitioned_by": f"MONTH({partition_expr})",
            "clustered_by": MetadataValue.json(clustering),
        })

    def _migrate(self, client, table_id: str, table_schema, staged_schema) -> None:
        """Make the table take the staged columns BY NAME: new columns are added (nullable: earlier months get
        NULL); a column whose type changed, or one the write lacks, fails here, naming it, before the MERGE."""
        table = {f.name.lower(): f for f in table_schema}
        staged = {f.name.lower(): f for f in staged_schema}
        for name, field in staged.items():
            if name in table and _bq_type(table[name]) != _bq_type(field):
                raise BigQueryReportError(
                    f"{table_id}: column {field.name} is {_bq_type(table[name])} in the table but {_bq_type(field)} in "
                    "this write; nothing was replaced (migrate the table, or cast the column in the report)"
                )
        missing = [table[n].name for n in table if n not in staged]
        if missing:
            raise BigQueryReportError(f"{table_id}: columns {missing} of the table are not in this write; nothing "
                                      "was replaced (their months would get NULLs)")
        for name, field in staged.items():
            if name not in table:
                client.query(f"ALTER TABLE `{table_id}` ADD COLUMN `{field.name}` {_bq_type(field)}").result()

    def _load(self, client, staging_files: str, staging_table: str) -> None:
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET,
                                        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE)
        if staging_files.startswith("gs://"):
            client.load_table_from_uri(f"{staging_files}/*.parquet", staging_table, job_config=config).result()
            return
        files = sorted(Path(staging_files).glob("*.parquet"))
        for n, file in enumerate(files):
            if n == 1:
                config.write_disposition = bigquery.WriteDisposition.WRITE_APPEND
            with file.open("rb") as handle:
                client.load_table_from_file(handle, staging_table, job_config=config).result()

    def _remove_staging(self, staging_files: str) -> None:
        if staging_files.startswith("gs://"):
            GcsStore(staging_files, self.gcp.storage_client()).discard(staging_files)
        else:
            LocalStore(staging_files).discard(staging_files)

    def _rows_outside(self, client, table: str, expr: str, start: datetime, end: datetime) -> int:
        query = f"SELECT COUNT(*) AS n FROM `{table}` WHERE NOT ({expr} >= @start AND {expr} < @end) OR {expr} IS NULL"
        return int(next(iter(client.query(query, job_config=_window_parameters(start, end)).result()))["n"])

    def _rows_by_month(self, client, table: str, expr: str, start: datetime, end: datetime) -> dict[str, int]:
        query = (f"SELECT FORMAT_TIMESTAMP('%Y-%m', {expr}) AS month, COUNT(*) AS n FROM `{table}` "
                 f"WHERE {expr} >= @start AND {expr} < @end GROUP BY 1")
        return {r["month"]: int(r["n"]) for r in client.query(query, job_config=_window_parameters(start, end)).result()}

    # ---- leftovers -------------------------------------------------------------------------------------------
    def vacuum(self, grace_seconds: float, dry_run: bool = False) -> list[str]:
        """Staging tables (``_staging_*``) and staged parquet of writes older than ``grace_seconds`` (a killed run's;
        a live write loads and merges well within it); returns their names (with ``dry_run``: only lists them)."""
        import time

        cutoff = time.time() - grace_seconds
        client = self.gcp.bigquery_client()
        found = []
        for item in client.list_tables(f"{self.gcp.project}.{self.dataset}"):
            if not item.table_id.startswith("_staging_"):
                continue
            table = client.get_table(item.reference)
            if table.created is not None and table.created.timestamp() < cutoff:
                found.append(f"{item.project}.{item.dataset_id}.{item.table_id}")
                if not dry_run:
                    client.delete_table(item.reference, not_found_ok=True)
        if self.staging_uri.startswith("gs://"):
            store = GcsStore(self.staging_uri, self.gcp.storage_client())
            stale = [b for b in store._list(store.root, recursive=True)
                     if b.updated is not None and b.updated.timestamp() < cutoff]
            found += [f"gs://{store.root.bucket}/{b.name}" for b in stale]
            if not dry_run:
                store._delete(stale)
        elif Path(self.staging_uri).is_dir():
            import shutil

            for folder in Path(self.staging_uri).iterdir():
                if folder.stat().st_mtime < cutoff:
                    found.append(str(folder))
                    if not dry_run:
                        shutil.rmtree(folder, ignore_errors=True)
        return found

    # ---- reads -----------------------------------------------------------------------------------------------
    def load_input(self, context: InputContext):
        from google.api_core import exceptions

        table_id = self.table_id(context.upstream_output) if context.upstream_output else self.table_id(context)
        client = self.gcp.bigquery_client()
        metadata = _definition_metadata(context.upstream_output) if context.upstream_output else {}
        expr = metadata.get(PARTITION_EXPR_KEY, DEFAULT_PARTITION_EXPR)
        query, config = f"SELECT *, FORMAT_TIMESTAMP('%Y-%m', {expr}) AS {MONTH_COLUMN} FROM `{table_id}`", None
        if context.has_asset_partitions:
            start, end = _month_window(list(context.asset_partition_keys))
            query += f" WHERE {expr} >= @start AND {expr} < @end"
            config = _window_parameters(start, end)
        try:
            table = client.query(query, job_config=config).result().to_arrow(create_bqstorage_client=False)
        except (exceptions.NotFound, exceptions.Forbidden) as error:
            raise BigQueryReportError(f"{table_id} cannot be read (not materialized yet?): {error.message}") from None
        df = self.spark.get_session().createDataFrame(table.to_pandas())
        contract = metadata.get("dagster/column_schema")
        if contract is not None:  # BigQuery has INT64 only: back to the asset's declared column types and order
            from pyspark.sql import functions as F

            df = df.select(*[F.col(c.name).cast(c.type) for c in contract.columns], MONTH_COLUMN)
        return df


_TYPE_ALIASES = {"FLOAT64": "FLOAT", "INT64": "INTEGER", "BOOL": "BOOLEAN"}


def _bq_type(field) -> str:
    return _TYPE_ALIASES.get(field.field_type.upper(), field.field_type.upper())


def _definition_metadata(context) -> dict:
    return dict(getattr(context, "definition_metadata", None) or {})


def _month_window(months: list[str]) -> tuple[datetime, datetime]:
    from taxi_platform.partitions import month_bounds

    start, _ = month_bounds(min(months))
    _, end = month_bounds(max(months))
    return start.replace(tzinfo=timezone.utc), end.replace(tzinfo=timezone.utc)


def _window_parameters(start: datetime, end: datetime):
    from google.cloud import bigquery

    return bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter("start", "TIMESTAMP", start),
        bigquery.ScalarQueryParameter("end", "TIMESTAMP", end),
    ])
