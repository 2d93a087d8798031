"""The reference pipeline: the TLC zone lookup and its job."""

from dagster import Definitions

from taxi_platform.defs.reference.jobs import reference_job
from taxi_platform.defs.reference.zones import taxi_zones


def reference_defs() -> Definitions:
    return Definitions(assets=[taxi_zones], jobs=[reference_job])
