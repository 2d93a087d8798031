"""clean/{type}_trips and quarantine/{type}_trips: the course's explicit schema, drift fixed, bad rows set aside.

Each month of raw is conformed on its own (its published types may differ from other months), then every row is
either clean or quarantined with the first rule it breaks (the rules: ``transforms/quarantine.py``).
"""


import uuid

from dagster import AssetExecutionContext, AssetIn, AssetKey, AssetOut, BackfillPolicy, MetadataValue, Output, multi_asset

from taxi_platform.assets.raw import RAW_TAXI_TYPES, raw_key
from taxi_platform.io_managers.lake import FILES_PER_PARTITION_KEY, ObservedWrite
from taxi_platform.partitions import monthly_partitions
from taxi_platform.schemas import MONTH_COLUMN, QUARANTINE_REASON_COLUMN
from taxi_platform.transforms.conform import conform_months
from taxi_platform.transforms.quarantine import classify, clean_rows, count_columns, counts_of, quarantined_rows


def clean_key(taxi_type: str) -> AssetKey:
    return AssetKey(["clean", f"{taxi_type}_trips"])


def quarantine_key(taxi_type: str) -> AssetKey:
    return AssetKey(["quarantine", f"{taxi_type}_trips"])


def count_by_month_and_reason(classified) -> dict[str, dict[str, int]]:
    """{month: {reason or "clean": rows}} in one aggregation."""
    from pyspark.sql import functions as F

    counts: dict[str, dict[str, int]] = {}
    reason = F.coalesce(F.col(QUARANTINE_REASON_COLUMN), F.lit("clean")).alias("reason")
    for row in classified.groupBy(MONTH_COLUMN, reason).count().collect():
        counts.setdefault(row[MONTH_COLUMN], {})[row["reason"]] = int(row["count"])
    return counts


def build_clean_assets(taxi_type: str, group_name: str = "clean"):
    """clean/ and quarantine/{taxi_type}_trips; ``group_name`` as in ``build_raw_asset``."""

    @multi_asset(
        outs={
            "clean": AssetOut(
                key=clean_key(taxi_type),
                io_manager_key="lake_io_manager",
                metadata={FILES_PER_PARTITION_KEY: 4},
                group_name=group_name,
                kinds={"spark", "parquet"},
                description=f"{taxi_type} trips in the course's explicit schema, pickup/dropoff renamed, "
                "types fixed whatever the month published; only rows that pass every quarantine rule.",
            ),
            "quarantine": AssetOut(
                key=quarantine_key(taxi_type),
                io_manager_key="lake_io_manager",
                metadata={FILES_PER_PARTITION_KEY: 1},
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

        months = list(context.partition_keys)
        classified = classify(conform_months(raw, taxi_type, dataset=f"raw/{taxi_type}_trips"))
        # One pass per output and nothing cached: the counts are observed while the clean rows are written
        # (persisting the classified rows and counting them first cost more than reading the raw months twice).
        observation = Observation(f"clean_{taxi_type}_trips_{uuid.uuid4().hex[:8]}")
        observed = classified.observe(observation, *count_columns(months))
        counts: dict[str, dict[str, int]] = {}

        def clean_metadata(metrics) -> dict:
            if metrics is None:  # the target returned no observed metrics: count in a separate pass
                by_month = count_by_month_and_reason(classified)
                clean = {m: by_month.get(m, {}).get("clean", 0) for m in months}
                reasons: dict[str, int] = {}
                for month_counts in by_month.values():
                    for reason, rows in month_counts.items():
                        if reason != "clean":
                            reasons[reason] = reasons.get(reason, 0) + rows
            else:
                clean, reasons = counts_of(metrics)
            counts.update(clean=clean, reasons=reasons)
            quarantined = sum(reasons.values())
            context.log.info(f"{taxi_type}: {sum(clean.values())} clean rows, {quarantined} quarantined {reasons}")
            return {"quarantined_rows": quarantined, "clean_rows_by_month": MetadataValue.json(clean)}

        # The lake writes the clean rows, then adds clean_metadata(observed counts) to this output's metadata.
        yield Output(ObservedWrite(clean_rows(observed), observation, clean_metadata), output_name="clean")
        if not counts:  # an IO manager that does not know ObservedWrite: count now
            clean_metadata(None)
        reasons = counts["reasons"]
        yield Output(
            quarantined_rows(classified),
            output_name="quarantine",
            metadata={"quarantined_rows": sum(reasons.values()), "quarantine_reasons": MetadataValue.json(reasons)},
        )

    return _clean


clean_assets = [build_clean_assets(t) for t in RAW_TAXI_TYPES]
