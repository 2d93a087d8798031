"""core/trips: green + yellow in one dataset, the 18 common columns + service_type (the course's trips_data)."""


from dagster import AssetExecutionContext, AssetIn, AssetKey

from taxi_platform.defs.monthly import monthly_lake_asset
from taxi_platform.defs.revenue.clean import clean_key
from taxi_platform.schemas import TRIPS_SCHEMA
from taxi_platform.transforms.trips import combine_trips

TRIPS_KEY = AssetKey(["core", "trips"])


@monthly_lake_asset(
    key=TRIPS_KEY,
    ins={"green": AssetIn(key=clean_key("green")), "yellow": AssetIn(key=clean_key("yellow"))},
    contract=TRIPS_SCHEMA,
    # A month gets a file per read split of it (the lake reads clean in one scan and writes without a shuffle): clean
    # writes at most 4 files a month per taxi type, so 8 keeps core from compacting, i.e. writing a month twice.
    files_per_partition=8,
    group_name="core",
    kinds={"spark", "parquet"},
    description="Clean green and yellow trips combined: the 18 common columns in the course's order + service_type.",
)
def trips(context: AssetExecutionContext, green, yellow):
    return combine_trips(green, yellow)
