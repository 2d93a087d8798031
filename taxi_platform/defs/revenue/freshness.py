"""Freshness of the report: the newest published month is in reports/revenue_monthly_zone within a set time of its
publication.

``newest_month_fresh`` (an asset check of the report, severity ERROR, not blocking) looks at what Dagster recorded:

- the newest month whose green AND yellow source files are published: the newest partition with observations of
  both ``source/green_trips`` and ``source/yellow_trips`` (``sources.py``, ``automation.py``);
- its publication time: when its current version was first observed (for a re-published month, when the new version
  was first seen), the later of green's and yellow's;
- the report's first materialization of that month at or after that time.

It passes when that materialization came within ``max_lag`` of the publication, or when none came yet and less than
``max_lag`` has passed; it fails when the month was materialized late or is still missing after ``max_lag``. With no
source month observed yet it passes with ``newest_month: none``. ``max_lag``: ``TAXI_REPORT_MAX_LAG_HOURS`` (default
24 hours). The revenue automation sensor evaluates it every hour (its automation condition); the UI shows its
latest result on the report's Checks tab with the month, both times and the lag in hours.
"""

import os
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, NamedTuple, Optional

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetKey,
    AssetRecordsFilter,
    AutomationCondition,
    DagsterInstance,
    MetadataValue,
    asset_check,
)
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from taxi_platform.defs.revenue.jobs import FRESHNESS_CHECK
from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY
from taxi_platform.defs.revenue.sources import SOURCE_TAXI_TYPES, source_key
from taxi_platform.partitions import monthly_partitions

MAX_LAG_ENV_VAR = "TAXI_REPORT_MAX_LAG_HOURS"
DEFAULT_MAX_LAG = timedelta(hours=24)
LOOK_BACK_MONTHS = 24  # how far back the newest observed month is searched for
EVERY_HOUR = "0 * * * *"
_OBSERVATION_HISTORY = 100  # observations of one month read to find when its current version was first seen


def max_lag_from_env(env=os.environ) -> timedelta:
    text = env.get(MAX_LAG_ENV_VAR)
    if not text:
        return DEFAULT_MAX_LAG
    try:
        hours = float(text)
    except ValueError:
        raise ValueError(f"{MAX_LAG_ENV_VAR}={text!r} is not a number of hours") from None
    if hours <= 0:
        raise ValueError(f"{MAX_LAG_ENV_VAR} must be > 0 hours, got {text}")
    return timedelta(hours=hours)


def version_first_seen(instance: DagsterInstance, key: AssetKey, month: str) -> Optional[float]:
    """When the month's current data version was first observed (epoch seconds); None if never observed."""
    records = instance.fetch_observations(
        AssetRecordsFilter(asset_key=key, asset_partitions=[month]), limit=_OBSERVATION_HISTORY, ascending=False
    ).records
    if not records:
        return None

    def version(record):
        return (record.event_log_entry.asset_observation.tags or {}).get(DATA_VERSION_TAG)

    current, first_seen = version(records[0]), records[0].timestamp
    for record in records[1:]:
        if version(record) != current:
            break
        first_seen = record.timestamp
    return first_seen


def newest_published_month(instance: DagsterInstance) -> Optional[tuple[str, float]]:
    """(month, publication time) of the newest month observed for every source taxi type, or None."""
    for month in reversed(monthly_partitions.get_partition_keys()[-LOOK_BACK_MONTHS:]):
        seen = [version_first_seen(instance, source_key(t), month) for t in SOURCE_TAXI_TYPES]
        if all(s is not None for s in seen):
            return month, max(seen)
    return None


class Freshness(NamedTuple):
    passed: bool
    description: str  # one sentence for the UI: the month, its lag and the lag allowed
    metadata: dict


def _utc(ts: Optional[float]) -> str:
    return "none" if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def report_freshness(instance: DagsterInstance, max_lag: timedelta, now: float) -> Freshness:
    newest = newest_published_month(instance)
    if newest is None:
        return Freshness(True, "No source month observed yet.",
                         {"newest_month": "none", "note": "no source month observed yet"})
    month, published = newest
    made = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=REVENUE_MONTHLY_ZONE_KEY, asset_partitions=[month], after_timestamp=published),
        limit=1,
        ascending=True,
    ).records
    materialized = made[0].timestamp if made else None
    lag_seconds = (materialized if materialized is not None else now) - published
    passed = lag_seconds <= max_lag.total_seconds()
    state = ("on time" if passed else "late") if materialized is not None else ("pending" if passed else "missing")
    lag, allowed = f"{lag_seconds / 3600:.2f} h", f"{max_lag.total_seconds() / 3600:g} h"
    description = {
        "on time": f"{month} reached the report {lag} after its publication (at most {allowed}).",
        "late": f"{month} reached the report {lag} after its publication: later than the {allowed} allowed.",
        "pending": f"{month} was published {lag} ago and is not in the report yet (allowed: {allowed}).",
        "missing": f"{month} was published {lag} ago and is still not in the report (allowed: {allowed}).",
    }[state]
    return Freshness(passed, description, {
        "newest_month": month,
        "state": state,
        "published_at": MetadataValue.text(_utc(published)),
        "materialized_at": MetadataValue.text(_utc(materialized)),
        "lag_hours": MetadataValue.float(round(lag_seconds / 3600, 3)),
        "lag_seconds": MetadataValue.float(round(lag_seconds, 1)),
        "max_lag_hours": MetadataValue.float(max_lag.total_seconds() / 3600),
    })


def build_freshness_check(max_lag: Optional[timedelta] = None, clock: Callable[[], float] = time.time):
    """The check (module docstring); ``max_lag`` defaults to the env setting, ``clock`` (epoch seconds) to now."""
    lag = max_lag if max_lag is not None else max_lag_from_env()

    @asset_check(
        asset=REVENUE_MONTHLY_ZONE_KEY,
        name=FRESHNESS_CHECK,
        description=f"The newest month published at the source (green and yellow) is in the report within "
        f"{lag.total_seconds() / 3600:g} h of its publication ({MAX_LAG_ENV_VAR}).",
        automation_condition=AutomationCondition.cron_tick_passed(EVERY_HOUR) & ~AutomationCondition.in_progress(),
    )
    def newest_month_fresh(context: AssetCheckExecutionContext) -> AssetCheckResult:
        verdict = report_freshness(context.instance, lag, clock())
        return AssetCheckResult(passed=verdict.passed, description=verdict.description, metadata=verdict.metadata)

    return newest_month_fresh
