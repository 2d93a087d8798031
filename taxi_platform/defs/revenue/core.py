"""core/trips: green + yellow in one dataset, the 18 common columns + service_type (the course's trips_data)."""


from dagster import AssetExecutionContext, AssetIn, AssetKey, BackfillPolicy, asset

from taxi_platform.defs.metadata import column_schema
from taxi_platform.defs.revenue.clean import clean_key
from taxi_platform.io_managers.lake import FILES_PER_PARTITION_KEY
from taxi_platform.partitions import monthly_partitions
from taxi_platform.schemas import TRIPS_SCHEMA
from taxi_platform.transforms.trips import combine_trips

TRIPS_KEY = AssetKey(["core", "trips"])


@asset(
    key=TRIPS_KEY,
    ins={"green": AssetIn(key=clean_key("green")), "yellow": AssetIn(key=clean_key("yellow"))},
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    io_manager_key="lake_io_manager",
    metadata={FILES_PER_PARTITION_KEY: 4, "dagster/column_schema": column_schema(TRIPS_SCHEMA)},
    group_name="core",
    kinds={"spark", "parquet"},
    description="Clean green and yellow trips combined: the 18 common columns in the course's order + service_type.",
)
def trips(context: AssetExecutionContext, green, yellow):
    return combine_trips(green, yellow)
