"""clean/{type}_trips and quarantine/{type}_trips: the course's explicit schema, drift fixed, bad rows set aside.

Each month of raw is conformed by the conversions its published types call for (they may differ from other months;
months published with one schema are conformed together, as one projection of one scan), then every row is either
clean or quarantined with the first rule it breaks (the rules: ``transforms/quarantine.py``).
"""


import uuid

from dagster import AssetExecutionContext, AssetIn, AssetKey, AssetOut, BackfillPolicy, MetadataValue, Output, multi_asset

from taxi_platform.defs.revenue.raw import RAW_TAXI_TYPES, raw_key
from taxi_platform.io_managers.lake import FILES_PER_PARTITION_KEY, PUBLISH_TOGETHER_KEY, ObservedWrite, SplitWrite, Together
from taxi_platform.partitions import monthly_partitions
from taxi_platform.defs.metadata import column_schema
from taxi_platform.schemas import CLEAN_SCHEMAS, QUARANTINE_REASON_COLUMN, quarantine_schema
from taxi_platform.transforms.conform import conform_months
from taxi_platform.transforms.quarantine import classify, quarantined_rows, reason_count_columns, reason_counts


def clean_key(taxi_type: str) -> AssetKey:
    return AssetKey(["clean", f"{taxi_type}_trips"])


def quarantine_key(taxi_type: str) -> AssetKey:
    return AssetKey(["quarantine", f"{taxi_type}_trips"])


def count_by_reason(quarantined) -> dict[str, int]:
    """{reason: rows} in one aggregation (used when the target returned no observed counts)."""
    rows = quarantined.groupBy(QUARANTINE_REASON_COLUMN).count().collect()
    return {row[QUARANTINE_REASON_COLUMN]: int(row["count"]) for row in rows}


def build_clean_assets(taxi_type: str, group_name: str = "clean"):
    """clean/ and quarantine/{taxi_type}_trips; ``group_name`` as in ``build_raw_asset``."""

    @multi_asset(
        outs={
            "clean": AssetOut(
                key=clean_key(taxi_type),
                io_manager_key="lake_io_manager",
                metadata={FILES_PER_PARTITION_KEY: 4, PUBLISH_TOGETHER_KEY: True,
                          "dagster/column_schema": column_schema(CLEAN_SCHEMAS[taxi_type])},
                group_name=group_name,
                kinds={"spark", "parquet"},
                description=f"{taxi_type} trips in the course's explicit schema, pickup/dropoff renamed, "
                "types fixed whatever the month published; only rows that pass every quarantine rule.",
            ),
            "quarantine": AssetOut(
                key=quarantine_key(taxi_type),
                io_manager_key="lake_io_manager",
                metadata={FILES_PER_PARTITION_KEY: 1, PUBLISH_TOGETHER_KEY: True,
                          "dagster/column_schema": column_schema(quarantine_schema(taxi_type))},
                group_name=group_name,
                kinds={"spark", "parquet"},
                description=f"{taxi_type} rows that cannot be right, with the rule they break "
                f"in '{QUARANTINE_REASON_COLUMN}'.",
            ),
        },
        ins={"raw": AssetIn(key=raw_key(taxi_type))},
        partitions_def=monthly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        name=f"clean_{taxi_type}_trips",
    )
    def _clean(context: AssetExecutionContext, raw: dict):
        from pyspark.sql import Observation

        classified = classify(conform_months(raw, taxi_type, dataset=f"raw/{taxi_type}_trips"))
        # ONE Spark job for both outputs (lake.SplitWrite): every raw row is read, conformed and classified once; the
        # rows without a reason are the clean trips, the others the quarantine. The reasons are counted while the
        # quarantined rows are rewritten (an observation over them alone, no extra pass); the clean rows by month
        # come from the written files' footers.
        observation = Observation(f"quarantine_{taxi_type}_trips_{uuid.uuid4().hex[:8]}")
        split = SplitWrite(classified, label=QUARANTINE_REASON_COLUMN, unlabelled="clean", labelled="quarantine",
                           observe_labelled=lambda rows: rows.observe(observation, *reason_count_columns()))
        reasons: dict[str, int] = {}

        counted: dict[str, int] = {}

        def log_when_both_are_known() -> None:  # the lake calls the two functions below in either order
            if len(counted) == 2:
                context.log.info(f"{taxi_type}: {counted['clean']} clean rows, {counted['quarantine']} quarantined "
                                 f"{reasons}")

        def quarantine_metadata(metrics, written) -> dict:
            reasons.update(reason_counts(metrics) if metrics is not None
                           else count_by_reason(quarantined_rows(classified)))
            counted["quarantine"] = sum(reasons.values())
            log_when_both_are_known()
            return {"quarantined_rows": sum(reasons.values()), "quarantine_reasons": MetadataValue.json(reasons)}

        def log_counts(_, written) -> dict:  # the clean rows by month are the lake's own rows_by_month
            counted["clean"] = written["dagster/row_count"]
            log_when_both_are_known()
            return {}

        # Both outputs get the same Together: the lake stages and commits both while handling the first (none is
        # recorded as materialized unless both were committed), then calls each function with (observed counts,
        # what it wrote); both are called before the first output returns, so the reasons are known when clean is
        # yielded.
        together = Together({
            "quarantine": ObservedWrite(split.part("quarantine"), quarantine_metadata, observation),
            "clean": ObservedWrite(split.part("clean"), log_counts),
        })
        yield Output(together, output_name="quarantine")
        yield Output(together, output_name="clean", metadata={"quarantined_rows": sum(reasons.values())})

    return _clean


clean_assets = [build_clean_assets(t) for t in RAW_TAXI_TYPES]
