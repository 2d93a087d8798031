"""Upkeep of the stores every deployment has (the lake, local or GCS, and BigQuery): the ``vacuum_lake`` job."""

from dagster import Definitions

from taxi_platform.defs.lake.vacuum import vacuum_lake


def lake_defs() -> Definitions:
    return Definitions(jobs=[vacuum_lake])
