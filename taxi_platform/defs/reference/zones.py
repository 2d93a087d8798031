"""ref/taxi_zones: the TLC taxi zone lookup (the package ships the public table)."""


from dagster import AssetKey, asset

from taxi_platform.defs.metadata import column_schema
from taxi_platform.io_managers.lake import FILES_PER_PARTITION_KEY
from taxi_platform.reference import load_zone_lookup
from taxi_platform.resources.spark import SparkResource
from taxi_platform.schemas import TAXI_ZONES_SCHEMA, spark_schema

TAXI_ZONES_KEY = AssetKey(["ref", "taxi_zones"])


@asset(
    key=TAXI_ZONES_KEY,
    io_manager_key="lake_io_manager",
    metadata={FILES_PER_PARTITION_KEY: 1, "dagster/column_schema": column_schema(TAXI_ZONES_SCHEMA)},
    group_name="ref",
    kinds={"spark", "parquet"},
    description="The TLC taxi zone lookup: LocationID, Borough, Zone, service_zone (265 zones).",
)
def taxi_zones(spark: SparkResource):
    return spark.get_session().createDataFrame(load_zone_lookup().to_pandas(), schema=spark_schema(TAXI_ZONES_SCHEMA))
