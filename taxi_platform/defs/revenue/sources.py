"""source/{green,yellow}_trips: the TLC's monthly files as observed external assets, one data version per month.

Each month of a source asset is a file the configured source publishes (``sources`` resource: TLC parquet, the course's
CSV backup, local files or the sample generator). Dagster does not make these files: it observes them. An
observation asks the source for every month's version without downloading it (``TaxiSourceResource.version``: ETag,
else Last-Modified + Content-Length over HTTP; size, mtime and an edge hash for local files; rows and seed for the
sample) and records it as the month's data version. ``raw/{type}_trips`` depends on it, so Declarative Automation
sees a new month (a first version) or a re-published one (a changed version) and re-runs that month's graph
(``automation.py``). Observations come from the ``source_months_observation`` sensor, or from the UI's
"Observe sources" button (this asset's observe function); both record only what they found.
"""

from __future__ import annotations

import warnings
from typing import Callable

from dagster import AssetKey, BetaWarning, DataVersion, DataVersionsByPartition, observable_source_asset

from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sources.base import SourceError

# observable_source_asset (partitioned, with DataVersionsByPartition) is beta in Dagster 1.13: the platform's design.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*observable_source_asset.*")

SOURCE_TAXI_TYPES = ("green", "yellow")
SOURCES_GROUP = "sources"


def source_key(taxi_type: str) -> AssetKey:
    return AssetKey(["source", f"{taxi_type}_trips"])


def observe_months(
    sources: TaxiSourceResource,
    taxi_type: str,
    months: list[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """{month: version} of the published months among ``months`` (default: every monthly partition).

    A month the source cannot answer for right now (``SourceError``: timeout, 5xx, an odd answer) is left out and
    reported to ``warn``: its last recorded version stands until the next observation.
    """
    versions: dict[str, str] = {}
    for month in monthly_partitions.get_partition_keys() if months is None else months:
        try:
            version = sources.version(taxi_type, month)
        except SourceError as error:
            if warn:
                warn(f"{taxi_type} {month}: version unknown for now ({error})")
            continue
        if version is not None:
            versions[month] = version
    return versions


def build_source_asset(taxi_type: str):
    @observable_source_asset(
        key=source_key(taxi_type),
        partitions_def=monthly_partitions,
        group_name=SOURCES_GROUP,
        description=f"The {taxi_type} taxi trips files the configured source publishes, one per month, observed "
        "(not downloaded): each month's data version is its ETag / Last-Modified + Content-Length (tlc, backup), "
        "size + mtime + hash (local) or the seed (sample). A new or changed version re-runs the month.",
    )
    def _source(context, sources: TaxiSourceResource) -> DataVersionsByPartition:
        versions = observe_months(sources, taxi_type, warn=context.log.warning)
        context.log.info(f"{taxi_type}: {len(versions)} published months at the {sources.kind} source")
        return DataVersionsByPartition({month: DataVersion(v) for month, v in versions.items()})

    _source.__name__ = f"source_{taxi_type}_trips"
    return _source


source_assets = [build_source_asset(t) for t in SOURCE_TAXI_TYPES]
