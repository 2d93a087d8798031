"""reports/hourly_revenue_by_zone: the course's hourly revenue per pickup zone, green vs yellow, with zone names."""


from dagster import AssetExecutionContext, AssetIn, AssetKey

from taxi_platform.defs.monthly import monthly_lake_asset
from taxi_platform.defs.revenue.clean import clean_key
from taxi_platform.defs.reference.zones import TAXI_ZONES_KEY
from taxi_platform.transforms.hourly import HOURLY_REVENUE_BY_ZONE_SCHEMA
from taxi_platform.transforms.hourly import hourly_revenue_by_zone as hourly_revenue_by_zone_of

HOURLY_REVENUE_BY_ZONE_KEY = AssetKey(["reports", "hourly_revenue_by_zone"])


@monthly_lake_asset(
    key=HOURLY_REVENUE_BY_ZONE_KEY,
    # ref/taxi_zones is unpartitioned: the lake IO manager loads it whole (its input has no asset partitions)
    ins={
        "green": AssetIn(key=clean_key("green")),
        "yellow": AssetIn(key=clean_key("yellow")),
        "zones": AssetIn(key=TAXI_ZONES_KEY),
    },
    contract=HOURLY_REVENUE_BY_ZONE_SCHEMA,
    files_per_partition=1,
    group_name="analytics",
    kinds={"spark", "parquet"},
    description="Per pickup hour and zone (pickups from 2020-01-01, as the course): green and yellow revenue "
    "(sum of total_amount) and trip counts side by side (null where a service had no trip), with the zone's "
    "borough, name and service zone (the lookup is broadcast, the trips are not shuffled for it).",
)
def hourly_revenue_by_zone(context: AssetExecutionContext, green, yellow, zones):
    return hourly_revenue_by_zone_of(green, yellow, zones)


hourly_assets = [hourly_revenue_by_zone]
