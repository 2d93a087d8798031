"""The for-hire pipeline: fhv and fhvhv (raw, clean, quarantine) and the course's base_id UDF, with their checks."""

from dagster import Definitions

from taxi_platform.defs.metadata import OWNERS, declared
from taxi_platform.defs.for_hire.assets import fhv_assets, fhv_checks


def for_hire_defs() -> Definitions:
    return Definitions(assets=declared(fhv_assets, OWNERS["for_hire"]), asset_checks=fhv_checks)
