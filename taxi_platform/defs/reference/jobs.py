"""The reference pipeline's job."""

from dagster import AssetSelection, define_asset_job

from taxi_platform.defs.reference.zones import TAXI_ZONES_KEY

reference_job = define_asset_job(
    "reference_data",
    selection=AssetSelection.assets(TAXI_ZONES_KEY),
    description="The unpartitioned reference tables (the TLC zone lookup).",
)
