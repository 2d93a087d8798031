"""reports/revenue_monthly_zone: the course's monthly revenue per pickup zone and service type."""


from dagster import AssetExecutionContext, AssetIn, AssetKey, BackfillPolicy, TableColumn, TableSchema, asset

from taxi_platform.assets.core import TRIPS_KEY
from taxi_platform.io_managers.lake import FILES_PER_PARTITION_KEY
from taxi_platform.partitions import monthly_partitions
from taxi_platform.schemas import REVENUE_MONTHLY_ZONE_SCHEMA
from taxi_platform.transforms.revenue import revenue_monthly_zone as revenue_monthly_zone_of

REVENUE_MONTHLY_ZONE_KEY = AssetKey(["reports", "revenue_monthly_zone"])


@asset(
    key=REVENUE_MONTHLY_ZONE_KEY,
    ins={"trips": AssetIn(key=TRIPS_KEY)},
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    # the lake (parquet, local deployment) or BigQuery (gcp deployment): the asset does not know which
    io_manager_key="report_io_manager",
    metadata={
        FILES_PER_PARTITION_KEY: 1,  # the course writes the report as a single file (coalesce(1))
        "partition_expr": "revenue_month",  # BigQuery: the table is partitioned by month on this column
        # the column contract, shown in the UI; IO managers that cannot keep Spark types (BigQuery) cast back to it
        "dagster/column_schema": TableSchema(
            columns=[TableColumn(name=name, type=kind) for name, kind in REVENUE_MONTHLY_ZONE_SCHEMA]
        ),
    },
    group_name="reports",
    kinds={"spark", "parquet"},
    description="Revenue per pickup zone, month and service type: sums of every fare component, average "
    "passenger count and trip distance (the course's revenue_monthly_zone, 'monthly' spelled correctly).",
)
def revenue_monthly_zone(context: AssetExecutionContext, trips):
    return revenue_monthly_zone_of(trips)
