"""The for-hire pipeline: fhv and fhvhv source months (observed) -> raw -> clean/quarantine, and the course's base_id
UDF, with their checks and automation (``automation.py``)."""

from functools import partial

from dagster import AssetSelection, Definitions, map_asset_specs

from taxi_platform.defs.for_hire.assets import FHV_TAXI_TYPES, fhv_assets, fhv_checks, fhv_source_assets
from taxi_platform.defs.for_hire.automation import (
    build_for_hire_automation_sensor,
    for_hire_source_months_observation,
)
from taxi_platform.defs.metadata import OWNERS, declared
from taxi_platform.defs.revenue.automation import automated
from taxi_platform.defs.revenue.raw import raw_key


def for_hire_defs() -> Definitions:
    raw_keys = {raw_key(t) for t in FHV_TAXI_TYPES}
    assets = declared(map_asset_specs(partial(automated, raw_keys=raw_keys), fhv_assets), OWNERS["for_hire"])
    return Definitions(
        assets=[*declared(fhv_source_assets, OWNERS["for_hire"]), *assets],
        asset_checks=fhv_checks,
        sensors=[for_hire_source_months_observation, build_for_hire_automation_sensor(AssetSelection.assets(*assets))],
    )
