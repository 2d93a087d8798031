"""The for-hire datasets: raw/clean/quarantine fhv and fhvhv trips, and analytics/fhvhv_base_ids.

Built with the same builders as green and yellow (``build_raw_asset``, ``build_clean_assets``), monthly partitioned,
one run per backfill, in their own asset group ("for_hire") so the monthly revenue job (groups raw/clean/core/reports)
does not pull them in. The quarantine rules that read fare/total/distance columns do not apply to them (they have
none, see ``transforms/quarantine.py``).

Each raw month is fetched from an observed source month (``source/{fhv,fhvhv}_trips``, built by the revenue
pipeline's ``build_source_asset``: the same data versions, ETag / Last-Modified + length, size + mtime + hash, seed),
so the for-hire automation (``automation.py``) re-runs exactly a new or re-published fhv/fhvhv month.

Registration (definitions.py / checks): ``fhv_source_assets``, ``fhv_assets`` and ``fhv_checks``.
"""

from dagster import AssetExecutionContext, AssetIn, AssetKey, MetadataValue, Output

from taxi_platform.defs.monthly import monthly_lake_asset
from taxi_platform.defs.revenue.clean import build_clean_assets, clean_key, quarantine_key
from taxi_platform.defs.revenue.raw import build_raw_asset, raw_key
from taxi_platform.defs.revenue.sources import build_source_asset, source_key

# importing taxi_platform.checks (its __init__) also silences the preview warning of partitioned asset checks
from taxi_platform.checks.contracts import build_schema_check
from taxi_platform.checks.reconcile import build_raw_rows_check
from taxi_platform.schemas import CLEAN_SCHEMAS, Contract

FHV_TAXI_TYPES = ("fhv", "fhvhv")
FOR_HIRE_GROUP = "for_hire"

FHVHV_BASE_IDS_KEY = AssetKey(["analytics", "fhvhv_base_ids"])
FHVHV_BASE_IDS_SCHEMA: Contract = tuple(CLEAN_SCHEMAS["fhvhv"]) + (
    ("base_id", "string"),
    ("pickup_date", "date"),
    ("dropoff_date", "date"),
)


@monthly_lake_asset(
    key=FHVHV_BASE_IDS_KEY,
    ins={"trips": AssetIn(key=clean_key("fhvhv"))},
    contract=FHVHV_BASE_IDS_SCHEMA,
    files_per_partition=4,
    group_name=FOR_HIRE_GROUP,
    kinds={"spark", "parquet"},
    description="Clean fhvhv trips with the course's base_id of dispatching_base_num (native Spark expressions, "
    "equal to the course's Python UDF; null for a null or malformed base number) and pickup_date / dropoff_date.",
)
def fhvhv_base_ids(context: AssetExecutionContext, trips) -> Output:
    from pyspark.sql import functions as F

    from taxi_platform.transforms.base_ids import with_base_ids

    result = with_base_ids(trips, implementation="native")
    stats = result.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("base_id").alias("distinct_base_ids"),
        F.count(F.when(F.col("base_id").isNull(), 1)).alias("null_base_ids"),
    ).collect()[0]
    context.log.info(f"fhvhv base ids: {stats['distinct_base_ids']} distinct over {stats['rows']} rows")
    return Output(
        result,
        metadata={
            "rows": int(stats["rows"]),
            "distinct_base_ids": int(stats["distinct_base_ids"]),
            "null_base_ids": int(stats["null_base_ids"]),
            "months": MetadataValue.json(list(context.partition_keys)),
        },
    )


fhv_source_assets = [build_source_asset(t) for t in FHV_TAXI_TYPES]
fhv_raw_assets = [build_raw_asset(t, group_name=FOR_HIRE_GROUP, source=source_key(t)) for t in FHV_TAXI_TYPES]
fhv_clean_assets = [build_clean_assets(t, group_name=FOR_HIRE_GROUP) for t in FHV_TAXI_TYPES]

fhv_assets = [*fhv_raw_assets, *fhv_clean_assets, fhvhv_base_ids]

fhv_checks = [
    *[build_schema_check(clean_key(t), CLEAN_SCHEMAS[t]) for t in FHV_TAXI_TYPES],
    *[build_raw_rows_check(clean_key(t), raw_key(t), quarantine_key(t)) for t in FHV_TAXI_TYPES],
    build_schema_check(FHVHV_BASE_IDS_KEY, FHVHV_BASE_IDS_SCHEMA),
]
