"""The lake IO manager: Spark DataFrames (and raw month files) as parquet under ``{lake_root}/{asset key path}/``.

``lake_root`` is a local folder or ``gs://bucket/prefix``; the IO manager talks to either through a store with one
interface: ``local_swap.LocalStore`` (staged folders replaced by rename, crash journal) or ``gcs_store.GcsStore``
(object stores have no rename: each folder's ``_manifest.json`` names its current files and is replaced in one write).

Layout (Hive-style, chosen because one read of several months gets each row's ``month`` back from the folder name,
which single-run backfills of a whole range need; any parquet reader understands it)::

    {lake_root}/raw/green_trips/month=2021-01/part-00000.parquet      the month's file as published
    {lake_root}/clean/green_trips/month=2021-01/part-*.parquet         up to ``files_per_partition`` files a month
    {lake_root}/reports/revenue_monthly_zone/month=2021-01/part-*.parquet   one file a month
    {lake_root}/ref/taxi_zones/part-*.parquet                           unpartitioned datasets
    {lake_root}/_staging/, {lake_root}/_trash/                          in-flight writes (ignored by readers)

On the local store each such folder is a symlink to an immutable version beside it (``{dataset}/_versions/...``,
see ``local_versions``); on GCS a ``_manifest.json`` names each folder's current files.

Writes: a partitioned asset hands over a DataFrame with a ``month`` column; the months of the run's partition range are
written in one Spark job to a staging folder, then each month folder replaces the old one atomically
(``local_swap.publish_all``). Writing a month twice leaves one copy; a crash mid-write leaves the previous version readable
(``local_swap.recover``); months outside the run's range are refused before anything is replaced; a month of the range
with no rows is written as an empty file carrying the schema, so the range is exactly what the lake holds afterwards.
The write does not shuffle the rows (a month gets as many files as tasks held its rows; a month over
``files_per_partition`` is compacted in staging), and an ``ObservedWrite`` lets an asset get counts computed during
the write itself instead of a separate pass. A ``SplitWrite`` writes two publish-together outputs of one step (clean +
quarantine) in ONE Spark job over their rows, so the input is read and transformed once, not once per output.

Reads: one partition, a range (one DataFrame with ``month``), or an unpartitioned dataset; only the files of each
folder's current version are read, named as the store resolved them once (``store.files``), so a commit of the same
months while Spark reads does not pull the files from under it. Raw assets (definition
metadata ``lake/layout = month_files``) load as ``{month: DataFrame}`` (``month_files.PublishedMonths``): their
published types may differ by month; months that share a parquet schema are read in one Spark read, split by month,
and that read is handed over too (``groups``) so a consumer can transform it once. A range of any other monthly
dataset is ONE read of its months' files (one scan, no union of per-month reads).
"""


import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

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
from dagster._core.execution.plan.outputs import StepOutputHandle  # the step's other outputs (Together)
from pydantic import Field, PrivateAttr, field_validator

from taxi_platform.io_managers.commits import Publish, footer_rows, parquet_file
from taxi_platform.io_managers.errors import CommitError, LakeError, MissingPartitionError  # noqa: F401 (re-exported)
from taxi_platform.io_managers.gcs_store import GcsStore
from taxi_platform.io_managers.local_swap import GLOB_CHARACTERS, LocalStore
from taxi_platform.io_managers.month_files import MonthFiles, PublishedMonths
from taxi_platform.resources.gcp import GcpResource
from taxi_platform.resources.spark import SparkResource
from taxi_platform.schemas import COLUMN_DESCRIPTIONS, MONTH_COLUMN

LAYOUT_KEY = "lake/layout"
MONTH_FILES_LAYOUT = "month_files"
FILES_PER_PARTITION_KEY = "lake/files_per_partition"
# AssetIn metadata: an optional input gets only the months the lake holds (None when it holds none of them)
OPTIONAL_INPUT_KEY = "lake/optional"
# Output metadata: the outputs of one step that carry it are published in ONE commit, once the last of them is
# handled (e.g. clean + quarantine: both new or both old for every month, never one of each).
PUBLISH_TOGETHER_KEY = "lake/publish_together"
PREVIEW_ROWS = 5


# Seconds to wait for the metrics Spark observed during a write (they are normally there when the write returns).
OBSERVED_METRICS_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class ObservedWrite:
    """An output to write plus metadata known only once it is written, instead of a separate pass over the data.

    ``df`` may carry ``observation`` (``df = source.observe(observation, *aggregates)``: Spark computes the aggregates
    during the write). After writing ``df`` the lake adds ``to_metadata(metrics, written)`` to the output's metadata:
    ``metrics`` is the observation's dict (None without an observation, or when the target could not deliver it:
    ``to_metadata`` then computes what it needs another way) and ``written`` is the lake's own metadata of the write
    (``dagster/row_count``, ``rows_by_month``... from the written files' footers).
    """

    df: Any
    to_metadata: Callable[[Optional[dict], dict], dict]
    observation: Any = None


@dataclass(frozen=True)
class Together:
    """The values of a step's outputs that carry ``lake/publish_together``, each output given this same object.

    The lake stages all of them and commits them as one while handling the first one Dagster hands it, so that no
    output of the group is recorded as materialized unless the commit of all of them succeeded (Dagster records an
    output's materialization as soon as its ``handle_output`` returns, before the step's next output is handled).
    """

    values: dict[str, Any]  # output name -> what that output would be given on its own


# The folder name Spark gives a null partition value (ExternalCatalogUtils.DEFAULT_PARTITION_NAME).
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# Where a split write's labelled rows are rewritten with their label, inside its staging folder.
LABELLED_FOLDER = "_labelled"


@dataclass(frozen=True)
class SplitWrite:
    """Two outputs of one step written by ONE Spark job over their rows: one scan of the input and one pass of the
    transform for both (e.g. clean + quarantine: every raw row read, conformed and classified once, not per output).

    ``df`` is a monthly DataFrame with a string ``label`` column: its rows where ``label`` is null are the
    ``unlabelled`` output's, stored without ``label`` (e.g. the clean trips), the others the ``labelled`` output's,
    stored with it (e.g. the quarantined rows and their reason). The step yields ``split.part(name)`` as the value of
    both outputs, which must be in the step's publish-together group (``lake/publish_together``).

    How: the first part handled writes ``df`` to staging partitioned by (``label``, month), so the unlabelled rows
    land in ``label=__HIVE_DEFAULT_PARTITION__/month=.../`` with exactly their output's schema; the labelled rows
    (few, by design) are then rewritten in a second, small job that reads the label back from the folder names.
    Each output's months are verified against the rows Spark counted for it during the write, and the two are
    published in one commit.

    ``observe_labelled``: applied to the labelled rows (the labelled output's shape, with ``month``) before they are
    rewritten, e.g. ``lambda rows: rows.observe(observation, *aggregates)`` to count the quarantine's reasons while
    only the labelled rows pass, not every row; with no labelled row it is applied to an empty DataFrame, so that
    the observation delivers its metrics (zeros) on every target that counts rows (on one that cannot, the caller's
    fallback runs).
    """

    df: Any
    label: str
    unlabelled: str
    labelled: str
    observe_labelled: Optional[Callable[[Any], Any]] = None

    def part(self, name: str) -> "SplitPart":
        if name not in (self.unlabelled, self.labelled):
            raise ValueError(f"{name!r} is not one of this split's outputs {[self.unlabelled, self.labelled]}")
        return SplitPart(self, name)


@dataclass(frozen=True)
class SplitPart:
    """One output's value in a ``SplitWrite``."""

    split: SplitWrite
    name: str


def observed_metrics(observation, timeout: float = OBSERVED_METRICS_TIMEOUT_SECONDS) -> Optional[dict]:
    """The observation's metrics once its first action has finished, or None if they do not come.

    Classic Spark blocks in ``Observation.get`` until the metrics arrive, which they normally do when the action
    returns; the wait is bounded so that a target that never delivers them cannot hang a run.
    """
    found: dict[str, Any] = {}

    def get() -> None:
        try:
            found["metrics"] = dict(observation.get)
        except Exception:  # e.g. a Spark Connect server that returned none: the caller falls back
            pass

    waiter = threading.Thread(target=get, name="observed-metrics", daemon=True)
    waiter.start()
    waiter.join(timeout)
    return found.get("metrics")


class LakeIOManager(ConfigurableIOManager):
    """Parquet datasets under a local folder or gs:// prefix, one Hive-style ``month=YYYY-MM`` folder per month."""

    lake_root: str = Field(default="data/lake", description="Lake root: a local folder (relative to the working dir) or gs://bucket/prefix.")
    spark: ResourceDependency[SparkResource]
    gcp: Optional[GcpResource] = Field(default=None, description="Needed for a gs:// lake_root: project and credentials.")
    files_per_partition: int = Field(
        default=4, description=f"Default number of files per month; an asset's '{FILES_PER_PARTITION_KEY}' wins."
    )

    @field_validator("lake_root")
    @classmethod
    def _no_glob_characters(cls, value: str) -> str:
        """Spark takes []{}*? in a path as a glob (PATH_NOT_FOUND): refused when the definitions load."""
        if any(c in value for c in GLOB_CHARACTERS):
            raise ValueError(f"lake root {value!r} contains one of {GLOB_CHARACTERS}: Spark reads such a path as a "
                             "glob pattern (PATH_NOT_FOUND); choose a folder name without them")
        return value

    # ---- where things are ------------------------------------------------------------------------------------
    def store(self):
        if self.lake_root.startswith("gs://"):
            if self.gcp is None:
                raise LakeError(f"lake_root {self.lake_root!r} is on GCS: the lake IO manager needs its gcp resource")
            return GcsStore(self.lake_root, self.gcp.storage_client())
        if "://" in self.lake_root:
            raise LakeError(f"lake_root {self.lake_root!r}: use a local folder or gs://bucket/prefix")
        return LocalStore(self.lake_root)

    def root(self) -> str:
        """The lake root as Spark sees it: an absolute local path or the gs:// URI."""
        return self.lake_root.rstrip("/") if self.lake_root.startswith("gs://") else str(LocalStore(self.lake_root).root)

    def dataset_uri(self, asset_key: AssetKey) -> str:
        return self.store().join(self.root(), *asset_key.path)

    def month_uri(self, asset_key: AssetKey, month: str) -> str:
        return self.store().join(self.dataset_uri(asset_key), f"{MONTH_COLUMN}={month}")

    def setup_for_execution(self, context) -> None:
        """Before any step: the bucket exists and the credentials work (a clear error instead of a failed write)."""
        self.store().check()

    # ---- writes ----------------------------------------------------------------------------------------------
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if obj is None:
            return
        store = self.store()
        store.recover()  # a writer finishes what dead writers left (a reader never needs to)
        group = self._publish_group(context)
        if group:
            self._handle_together(store, context, obj, group)
            return
        staging, items, metadata = self._stage(store, context, obj)
        try:
            store.publish_all(items, context.run_id)
        finally:
            store.discard(staging)
        context.add_output_metadata(metadata())

    def _handle_together(self, store, context: OutputContext, obj: Any, group: set[str]) -> None:
        """A publish-together output: the FIRST one handled stages every output of the group (``Together`` holds
        their values) and commits them as one; Dagster records an output's materialization as soon as its
        ``handle_output`` returns, so no output of the group is recorded before the commit. The others only add the
        metadata of their part of that commit."""
        if not isinstance(obj, Together) or set(obj.values) != group:
            raise LakeError(f"{context.asset_key.to_user_string()}: outputs published together ({sorted(group)}) "
                            "must each be given the same lake.Together holding all of their values")
        step = (context.run_id, context.step_key)
        done = self._committed.pop((step, context.name), None)
        if done is not None:
            context.add_output_metadata(done)
            return
        contexts = {name: context if name == context.name else context.step_context.get_output_context(
            StepOutputHandle(context.step_key, name)) for name in sorted(group)}
        staged: dict[str, tuple[str, list[Publish], Callable[[], dict]]] = {}
        try:
            for name, output in contexts.items():
                staged[name] = self._stage(store, output, obj.values[name])
            store.publish_all([i for name in sorted(staged) for i in staged[name][1]], context.run_id)
        finally:
            self._splits.clear()
            for staging in dict.fromkeys(staging for staging, _, _ in staged.values()):  # parts of a split share one
                store.discard(staging)
        for name in contexts:
            metadata = staged[name][2]()
            if name == context.name:
                context.add_output_metadata(metadata)
            else:
                self._committed[(step, name)] = metadata

    _committed: dict = PrivateAttr(default_factory=dict)
    # id(SplitWrite) -> (the split, its staging folder, {"rows", "labelled": rows Spark wrote} or None), while the
    # publish-together group that holds its parts is handled
    _splits: dict = PrivateAttr(default_factory=dict)

    def teardown_after_execution(self, context) -> None:
        self._committed.clear()  # metadata of outputs whose handling never came (the step failed in between)
        self._splits.clear()

    def _stage(self, store, context: OutputContext, obj: Any) -> tuple[str, list[Publish], Callable[[], dict]]:
        """Stage one output: (staging folder, verified ``Publish`` items, a function giving its metadata).

        The metadata describes the staged files (what the commit publishes); observed metrics come once written.
        """
        key = context.asset_key
        spark_info: dict[str, str] = {}
        observed = obj if isinstance(obj, ObservedWrite) else None
        if observed is not None:
            obj = observed.df
        if isinstance(obj, MonthFiles):
            staging, items = self._stage_month_files(store, context, obj)  # no Spark: raw files as they are
            months = [i.unit for i in items]
        else:
            # Where Spark ran this write: target, master or Spark Connect address, version, Spark UI URL.
            spark_info = self.spark.describe()
            if isinstance(obj, SplitPart):
                months = list(context.asset_partition_keys)
                staging, items = self._stage_split_part(store, context, obj)
            elif context.has_asset_partitions:
                months = list(context.asset_partition_keys)
                staging, items = self._stage_months(store, context, obj)
            else:
                months = None
                staging, items = self._stage_whole(store, context, obj)
        try:
            folders = [(m if months is not None else "", i) for m, i in zip(months or [""], items)]
            files = {name: store.staged_files(i.staged) or [] for name, i in folders}
            written = self._written_metadata(store, key, files, months, {name: i.expected_rows for name, i in folders})
        except BaseException:
            store.discard(staging)
            raise

        def metadata() -> dict:
            extra = {}
            if observed is not None:
                metrics = observed_metrics(observed.observation) if observed.observation is not None else None
                extra = observed.to_metadata(metrics, written)
            return {**written, **spark_info, **extra}

        return staging, items, metadata

    @staticmethod
    def _publish_group(context: OutputContext) -> set[str]:
        """Names of this step's outputs published with this one (empty: this output is published alone)."""
        if not (context.definition_metadata or {}).get(PUBLISH_TOGETHER_KEY):
            return set()
        return {o.name for o in context.op_def.output_defs if (o.metadata or {}).get(PUBLISH_TOGETHER_KEY)}

    def _files_per_partition(self, context: OutputContext) -> int:
        return int((context.definition_metadata or {}).get(FILES_PER_PARTITION_KEY, self.files_per_partition))

    def _stage_months(self, store, context: OutputContext, df) -> tuple[str, list[Publish]]:
        """Write the run's months to staging in one Spark job; one verified ``Publish`` per month."""
        key, months = context.asset_key, list(context.asset_partition_keys)
        self._check_month_column(key, df)
        files = self._files_per_partition(context)
        df, counted = _count_rows(df)
        if files <= 1:
            # One file a month (reports: small, aggregated data): one task per month, a cheap shuffle.
            df = df.repartition(MONTH_COLUMN)
        # Otherwise no shuffle: each task writes its rows straight into their month folders, one file per month it
        # holds, so a month read from the lake gets at most as many files as it had input splits (core/trips: its
        # clean files); a month that got more than `files` is compacted below. (Shuffling every row to bound the
        # file count cost as much as the whole rest of the step.)
        staging = self._write_staging(store, context, df, [MONTH_COLUMN])
        try:
            expected = counted()
            items = self._verified_months(store, context, staging, None if expected is None else expected["rows"],
                                          _schema_without(df, [MONTH_COLUMN]))
        except BaseException:
            store.discard(staging)
            raise
        return staging, items

    def _stage_split_part(self, store, context: OutputContext, part: SplitPart) -> tuple[str, list[Publish]]:
        """Stage one output of a ``SplitWrite``: the first part handled writes both outputs' rows in one job."""
        split, months = part.split, list(context.asset_partition_keys)
        if part.name != context.name or context.name not in self._publish_group(context):
            raise LakeError(f"{context.asset_key.to_user_string()}: the split write's part {part.name!r} was given to "
                            f"output {context.name!r}; each part must be the value of the publish-together output "
                            "of its name")
        from pyspark.sql import functions as F

        if id(split) not in self._splits:
            self._check_month_column(context.asset_key, split.df)
            df, counted = _count_rows(split.df, split.label)
            staging = self._write_staging(store, context, df, [split.label, MONTH_COLUMN])
            labelled = store.join(staging, LABELLED_FOLDER)
            try:
                expected = counted()
                spark = self.spark.get_session()
                columns = [c for c in split.df.columns if c != MONTH_COLUMN]
                observe = split.observe_labelled or (lambda rows: rows)
                if expected is None or expected["labelled"]:
                    rows = (spark.read.option("basePath", staging).parquet(staging)
                            .where(F.col(split.label).isNotNull()).select(*columns, MONTH_COLUMN))
                    observe(rows).repartition(MONTH_COLUMN).write.mode("overwrite").partitionBy(MONTH_COLUMN).parquet(
                        labelled)
                elif split.observe_labelled is not None:  # no labelled row: the observation still gets its zeros
                    # (over no rows in one task; a write of a pruned, empty read would deliver no metrics at all)
                    nothing = spark.createDataFrame([], split.df.select(*columns, MONTH_COLUMN).schema)
                    observe(nothing).write.format("noop").mode("overwrite").save()
                # the split is kept in the entry so that its id() is not reused while the entry lives
                self._splits[id(split)] = (split, staging, expected)
            except BaseException:
                store.discard(staging)
                raise
        _, staging, expected = self._splits[id(split)]
        is_labelled = part.name == split.labelled
        if is_labelled:
            folder, drop = store.join(staging, LABELLED_FOLDER), [MONTH_COLUMN]
            rows = None if expected is None else expected["labelled"]
        else:
            folder, drop = store.join(staging, f"{split.label}={NULL_PARTITION}"), [split.label, MONTH_COLUMN]
            rows = None if expected is None else expected["rows"] - expected["labelled"]
        items = self._verified_months(store, context, folder, rows, _schema_without(split.df, drop))
        return staging, items

    @staticmethod
    def _check_month_column(key: AssetKey, df) -> None:
        if MONTH_COLUMN not in df.columns:
            raise LakeError(f"{key.to_user_string()}: a monthly dataset needs a '{MONTH_COLUMN}' column (YYYY-MM); "
                            f"got {df.columns}")

    def _write_staging(self, store, context: OutputContext, df, partition_by: list[str]) -> str:
        """A new staging folder holding ``df`` written as parquet, partitioned by ``partition_by``."""
        months = list(context.asset_partition_keys)
        what = f"{context.asset_key.to_user_string()} {months[0]}..{months[-1]}"
        staging = _named_os_errors(what, lambda: store.new_staging(context.run_id))
        try:
            _named_os_errors(what, lambda: df.write.mode("overwrite").partitionBy(*partition_by).parquet(staging))
        except BaseException:
            store.discard(staging)
            raise
        return staging

    def _verified_months(self, store, context: OutputContext, folder: str, expected: Optional[int],
                         schema) -> list[Publish]:
        """One ``Publish`` per month of the run from the ``month=`` folders Spark wrote under ``folder``.

        ``expected``: the rows Spark counted while it wrote them (None when the target could not count them).
        Refuses months outside the run's range, and staged folders that together hold other than ``expected`` rows
        (as their parquet footers give them: a folder removed under the write, a file lost or added); writes an
        empty file (with ``schema``) for a month without rows; compacts a month of more files than the output's
        ``files_per_partition``. Each ``Publish`` carries its month's footer rows, which the commit verifies again.
        """
        key, months = context.asset_key, list(context.asset_partition_keys)
        name = key.to_user_string()
        written = {f.split("=", 1)[1] for f in store.staged_subfolders(folder) if f.startswith(f"{MONTH_COLUMN}=")}
        unexpected = sorted(written - set(months))
        if unexpected:
            raise LakeError(
                f"{name}: rows for months {unexpected} are outside this run's partitions "
                f"{months[0]}..{months[-1]}; nothing was replaced"
            )
        found = {m: self._staged_rows(store, name, store.join(folder, f"{MONTH_COLUMN}={m}")) for m in sorted(written)}
        if expected is not None and sum(found.values()) != expected:
            missing = sorted(set(months) - written)
            raise CommitError(
                f"{name}: the write produced {expected} rows for {months[0]}..{months[-1]} but its staged month "
                f"folders under {folder} hold {sum(found.values())} {found}; months without a staged folder: "
                f"{missing} (removed under the write?); nothing was replaced"
            )
        spark = self.spark.get_session()
        for month in sorted(set(months) - written):
            empty = spark.createDataFrame([], schema)
            empty.coalesce(1).write.mode("overwrite").parquet(store.join(folder, f"{MONTH_COLUMN}={month}"))
        folders = {m: store.join(folder, f"{MONTH_COLUMN}={m}") for m in months}
        folders.update(self._compact(store, folder, schema, self._files_per_partition(context)))
        return [Publish(folders[m], self.month_uri(key, m), f"{name} {m}", found.get(m, 0), unit=m) for m in months]

    @staticmethod
    def _staged_rows(store, name: str, staged: str) -> int:
        """The rows in the parquet footers of a staged folder (0 when it is gone: the caller's total then differs)."""
        try:
            return footer_rows(store.staged_files(staged) or [], store.open)
        except FileNotFoundError as error:
            raise CommitError(f"{name}: a staged file vanished under the write ({error}); nothing was replaced") from None

    def _compact(self, store, staging: str, schema, files: int) -> dict[str, str]:
        """Rewrite the staged months that got more than ``files`` files as ``files`` files; {month: new folder}.

        Lists the staged files through Spark (the same listing on a local disk and gs://, no footer read).
        """
        from pyspark.sql.types import StringType, StructField, StructType

        spark = self.spark.get_session()
        by_month: dict[str, int] = {}
        for uri in spark.read.schema(schema).parquet(staging).inputFiles():
            folder = uri.rstrip("/").rsplit("/", 2)[-2]
            if folder.startswith(f"{MONTH_COLUMN}="):
                month = folder.split("=", 1)[1]
                by_month[month] = by_month.get(month, 0) + 1
        over = sorted(m for m, count in by_month.items() if count > files)
        compacted = {m: store.join(staging, "_compacted", f"{MONTH_COLUMN}={m}") for m in over}
        if files == 1 and len(over) > 1:  # every such month in one job (e.g. a split write's small quarantine)
            sources = [store.join(staging, f"{MONTH_COLUMN}={m}") for m in over]
            (spark.read.schema(StructType([*schema.fields, StructField(MONTH_COLUMN, StringType())]))
             .option("basePath", staging).parquet(*sources).repartition(MONTH_COLUMN)
             .write.mode("overwrite").partitionBy(MONTH_COLUMN).parquet(store.join(staging, "_compacted")))
            return compacted
        for month in over:
            target = compacted[month]
            source = store.join(staging, f"{MONTH_COLUMN}={month}")
            spark.read.schema(schema).parquet(source).coalesce(files).write.mode("overwrite").parquet(target)
        return compacted

    def _stage_month_files(self, store, context: OutputContext, obj: MonthFiles) -> tuple[str, list[Publish]]:
        """Stage every month's file, one ``Publish`` per month: the months are then committed together (all or
        none on the local store; on GCS all verified and copied before the first month is committed)."""
        key = context.asset_key
        name = key.to_user_string()
        months = list(context.asset_partition_keys) if context.has_asset_partitions else sorted(obj.files)
        missing = [m for m in months if m not in obj.files]
        if missing:
            obj.cleanup()
            raise LakeError(f"{name}: no file was produced for months {missing}")
        staging = store.new_staging(context.run_id)
        try:
            items = []
            for month in months:
                staged = store.join(staging, f"{MONTH_COLUMN}={month}")
                try:
                    rows = parquet_file(str(obj.files[month])).metadata.num_rows
                except Exception as error:
                    raise LakeError(f"{name} {month}: the file {obj.files[month]} is not readable parquet ({error}); "
                                    "nothing was replaced") from error
                store.stage_file(obj.files[month], store.join(staged, "part-00000.parquet"), f"{name} {month}")
                items.append(Publish(staged, self.month_uri(key, month), f"{name} {month}", rows, unit=month))
        except BaseException:
            store.discard(staging)
            raise
        finally:
            obj.cleanup()
        return staging, items

    def _stage_whole(self, store, context: OutputContext, df) -> tuple[str, list[Publish]]:
        df, counted = _count_rows(df)
        staging = store.new_staging(context.run_id)
        try:
            df.coalesce(self._files_per_partition(context)).write.mode("overwrite").parquet(staging)
            expected = counted()
        except BaseException:
            store.discard(staging)
            raise
        rows = None if expected is None else expected["rows"]
        return staging, [Publish(staging, self.dataset_uri(context.asset_key), context.asset_key.to_user_string(), rows)]

    # ---- reads -----------------------------------------------------------------------------------------------
    def load_input(self, context: InputContext):
        """Reads only: no recovery, no write (works on a read-only mount or as another user)."""
        store = self.store()
        key = context.asset_key
        spark = self.spark.get_session()
        dataset = self.dataset_uri(key)
        if not context.has_asset_partitions:
            files = store.files(dataset)
            if files is None:
                raise MissingPartitionError(f"{key.to_user_string()} has not been materialized: nothing at {dataset}")
            return spark.read.parquet(*files)

        months = list(context.asset_partition_keys)
        if (context.definition_metadata or {}).get(OPTIONAL_INPUT_KEY):
            months = [m for m in months if store.files(self.month_uri(key, m)) is not None]
            if not months:
                return None
        files_by_month = self.month_files(store, key, months)
        upstream = context.upstream_output
        layout = (upstream.definition_metadata or {}).get(LAYOUT_KEY) if upstream is not None else None
        if layout == MONTH_FILES_LAYOUT:
            return self._read_month_files(spark, store, dataset, files_by_month)
        return _months_read(spark, dataset, files_by_month)

    def _read_month_files(self, spark, store, dataset: str, files_by_month: dict[str, list[str]]) -> PublishedMonths:
        """{month: DataFrame of that month's files as published}, with the months read together as ``groups``.

        Months published with the same parquet schema (physical and logical types, read from the footers) are read
        in ONE Spark read and split by their ``month`` folder (partition pruning): the same rows and columns as a
        read per month, without a Spark read (listing, footer, analysis: about 0.1 s of driver time each) per month
        and taxi type; the read itself is the group's entry in ``PublishedMonths.groups``. A month whose schema
        differs, or whose files name a ``month`` column, is read on its own.
        """
        from pyspark.sql import functions as F

        groups: dict[Optional[str], list[str]] = {}
        for month, files in files_by_month.items():
            key = _parquet_schema_text(store, files)
            groups.setdefault(key, []).append(month)
        frames, shared = {}, []
        for key, months in groups.items():
            if key is None or len(months) == 1:
                frames.update({m: spark.read.parquet(*files_by_month[m]) for m in months})
                continue
            together = _months_read(spark, dataset, {m: files_by_month[m] for m in months})
            shared.append((tuple(months), together))
            frames.update({m: together.where(F.col(MONTH_COLUMN) == m).drop(MONTH_COLUMN) for m in months})
        return PublishedMonths({month: frames[month] for month in files_by_month}, shared)

    def month_files(self, store, key: AssetKey, months: list[str]) -> dict[str, list[str]]:
        """The current files of each month; a clear error naming the months that were never written."""
        found = {m: store.files(self.month_uri(key, m)) for m in months}
        missing = [m for m, files in found.items() if files is None]
        if missing:
            raise MissingPartitionError(
                f"{key.to_user_string()} has no data for months {missing} under {self.dataset_uri(key)}: "
                "materialize those partitions first"
            )
        # the lake writes every month it commits as at least one file (an empty one carrying the schema for no rows):
        # a current version without data files was emptied outside the lake, and reading it would pass for no rows
        emptied = [m for m, files in found.items() if not files]
        if emptied:
            raise LakeError(
                f"{key.to_user_string()} months {emptied} under {self.dataset_uri(key)}: the current version holds no "
                "data files (removed outside the lake?); re-materialize those partitions"
            )
        return found

    # ---- metadata --------------------------------------------------------------------------------------------
    def _written_metadata(self, store, key: AssetKey, files_by_folder: dict[str, list[str]],
                          months: Optional[list[str]], known_rows: dict[str, Optional[int]]) -> dict[str, Any]:
        """Row counts of what was written (no Spark job), path, size, schema, preview. ``known_rows``: each folder's
        rows as staging already read them from its footers (the commit verifies them again); None: read here."""
        rows_by_folder = {folder: known_rows.get(folder) for folder in files_by_folder}
        for folder, files in files_by_folder.items():
            if rows_by_folder[folder] is None:
                rows_by_folder[folder] = footer_rows(files, store.open)
        every_file = [f for files in files_by_folder.values() for f in files]
        schema = None
        if every_file:
            with store.open(every_file[0]) as handle:
                schema = parquet_file(handle).schema_arrow
        metadata: dict[str, Any] = {
            "dagster/row_count": sum(rows_by_folder.values()),
            "path": MetadataValue.path(self.dataset_uri(key)),
            "files": len(every_file),
            "bytes": sum(store.size(f) for f in every_file),
        }
        if months is not None:
            metadata["rows_by_month"] = MetadataValue.json(rows_by_folder)
        if schema is not None:
            metadata["dagster/column_schema"] = TableSchema(
                columns=[TableColumn(name=f.name, type=str(f.type), description=COLUMN_DESCRIPTIONS.get(f.name, ""))
                         for f in schema]
            )
            metadata["preview"] = MetadataValue.md(_markdown_preview(store, every_file))
        return metadata


# OS errors Spark reports in its exception text (it has no errno): a write failing with one names the dataset.
_OS_ERROR_PHRASES = ("No space left on device", "Disk quota exceeded", "Read-only file system", "Permission denied",
                     "Too many open files", "Invalid cross-device link")


def _named_os_errors(what: str, action):
    """Run ``action``; an OS error (Python's, or Spark's I/O failure) becomes a ``LakeError`` naming ``what``
    (dataset and months) and the OS error; other errors pass unchanged."""
    try:
        return action()
    except OSError as error:
        raise LakeError(f"{what}: staging the write failed ({error.strerror or error}); nothing was replaced") from error
    except Exception as error:
        text = str(error)
        phrase = next((p for p in _OS_ERROR_PHRASES if p in text), None)
        if phrase is None:
            raise
        raise LakeError(f"{what}: staging the write failed ({phrase}); nothing was replaced") from error


def _months_read(spark, dataset: str, files_by_month: dict[str, list[str]]):
    """The months' files as ONE Spark read (with ``month`` from the folders): one scan, packed into tasks by size.

    Not a union of per-month reads: a union of 24 month scans (12 months of green and yellow) cost core/trips about
    20 s more on 2 cores (each branch its own generated code, compiled and warmed up by the JIT on its own), and the
    report 50% more. A step writing the result by month still gets at most as many files in a month as the read has
    splits of that month (a task writes one file per month it holds), so core/trips' bound is its inputs' files.
    """
    every_file = [f for files in files_by_month.values() for f in files]
    return spark.read.option("basePath", dataset).parquet(*every_file)


def _count_rows(df, label: Optional[str] = None):
    """(df observed, a function giving {"rows": n} once ``df`` was written, with ``"labelled"``: the rows whose
    ``label`` is set, when ``label`` is given).

    Spark counts the rows while it writes them (an observation, no extra pass): one or two aggregates a row, however
    many months the run has; the months' folders are then checked against the total (``_verified_months``). The
    function returns None when the target cannot deliver the counts (the commit then checks the footers it staged).
    """
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    observation = Observation(f"lake_rows_{uuid.uuid4().hex[:12]}")
    columns = [F.count(F.lit(1)).alias("rows")]
    if label is not None:
        columns.append(F.count(F.col(label)).alias("labelled"))  # count(column): its non-null values
    try:
        observed = df.observe(observation, *columns)
    except Exception:  # e.g. a target without observations
        return df, lambda: None

    def counted() -> Optional[dict[str, int]]:
        metrics = observed_metrics(observation)
        if metrics is None:
            return None
        return {name: int(metrics[name] or 0) for name in metrics}

    return observed, counted


def _schema_without(df, columns: list[str]):
    """``df``'s schema without ``columns`` (the partition columns, which live in folder names)."""
    from pyspark.sql.types import StructType

    return StructType([f for f in df.schema.fields if f.name not in columns])


def _parquet_schema_text(store, files: list[str]) -> Optional[str]:
    """The parquet schema shared by ``files`` as text (physical + logical types), or None when they differ, are
    none, or have a ``month`` column of their own (it would clash with the folder's)."""
    texts = set()
    for uri in files:
        with store.open(uri) as handle:
            schema = parquet_file(handle).schema
        if any(name.lower() == MONTH_COLUMN for name in schema.names):
            return None
        texts.add(str(schema).split("\n", 1)[-1])  # the first line is the object's repr
    return texts.pop() if len(texts) == 1 else None


def _markdown_preview(store, files: list[str]) -> str:
    """The first rows of the written data as a markdown table (read from the files: no Spark job)."""
    rows: list[dict] = []
    for uri in files:
        with store.open(uri) as handle:
            batch = next(parquet_file(handle).iter_batches(batch_size=PREVIEW_ROWS), None)
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
