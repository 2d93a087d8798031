"""The reference pipeline: the TLC zone lookup and its job."""

from dagster import Definitions

from taxi_platform.defs.metadata import OWNERS, declared
from taxi_platform.defs.reference.jobs import reference_job
from taxi_platform.defs.reference.zones import taxi_zones


def reference_defs() -> Definitions:
    return Definitions(assets=declared([taxi_zones], OWNERS["reference"]), jobs=[reference_job])
