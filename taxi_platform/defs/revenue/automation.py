"""The revenue pipeline's automation: observe the source months, let Declarative Automation run what changed.

The TLC publishes a month a few weeks after it ends, on no fixed day, and re-publishes old months (its 2023
re-publication changed the types of every file). So nothing here runs on a calendar:

1. ``source_months_observation`` (a sensor, hourly, starts stopped) asks the ``sources`` resource for every month's
   version (``sources.py``: an HTTP HEAD for ``tlc``/``backup``, a stat + edge hash for ``local``, the seed for
   ``sample``) and records an observation of ``source/{green,yellow}_trips`` for each month whose version is new or
   changed since its last tick (its cursor holds the versions it saw). No run is launched by it, no file is fetched.
2. ``revenue_automation`` (Declarative Automation's sensor, starts stopped) evaluates the conditions below and
   launches, per month, ONE run of whatever must be rebuilt (a tick that finds several months emits one backfill,
   which the single-run backfill policy runs as one run):

   - ``raw/{type}_trips`` (``SOURCE_MONTH_CHANGED``): the month's source version is new or changed since the raw
     month was last requested or made, the source month is published, no run of it is in progress, and the raw
     month was made before (a re-publication, any age) or is among the newest ``NEW_MONTH_LOOKBACK`` (a new month;
     older never-made months are a backfill by hand, as before).
   - clean, quarantine, core, the report (``UPSTREAM_MONTH_UPDATED``): Dagster's ``eager`` without its
     latest-partition limit: a dependency's month was updated (or is requested in the same tick), none missing or
     in progress. They join raw's run for that month.

Turn both sensors on in the UI (Automation) or with ``dagster sensor start``. A failed run is not retried by the
automation (the month's source version did not change): re-run the partition from the UI.
"""

from __future__ import annotations

import json
from datetime import timedelta

from dagster import (
    AssetObservation,
    AssetSpec,
    AssetSelection,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from taxi_platform.defs.revenue.sources import SOURCE_TAXI_TYPES, observe_months, source_key
from taxi_platform.redaction import safe_message
from taxi_platform.resources.sources import TaxiSourceResource

OBSERVATION_SENSOR = "source_months_observation"
AUTOMATION_SENSOR = "revenue_automation"
OBSERVE_EVERY_SECONDS = 3600
# A month never materialized is run automatically when it is this recent (the month in progress + about 3 before).
NEW_MONTH_LOOKBACK = timedelta(days=95)

SOURCE_MONTH_CHANGED = (
    AutomationCondition.any_deps_updated().since_last_handled()
    & ~AutomationCondition.any_deps_missing()
    & ~AutomationCondition.in_progress()
    & (~AutomationCondition.missing() | AutomationCondition.in_latest_time_window(NEW_MONTH_LOOKBACK))
).with_label("source month new or changed")

UPSTREAM_MONTH_UPDATED = (
    AutomationCondition.any_deps_updated().since_last_handled()
    & ~AutomationCondition.any_deps_missing()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("upstream month updated")


def build_observation_sensor(
    name: str = OBSERVATION_SENSOR,
    minimum_interval_seconds: int = OBSERVE_EVERY_SECONDS,
    months: list[str] | None = None,
    taxi_types: tuple[str, ...] = SOURCE_TAXI_TYPES,
):
    """The observation sensor (module docstring) of ``source/{t}_trips`` for each of ``taxi_types`` (the for-hire
    pipeline builds its own for fhv and fhvhv); ``months`` limits what it asks about (default: every partition)."""

    @sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=DefaultSensorStatus.STOPPED,
        asset_selection=AssetSelection.assets(*[source_key(t) for t in taxi_types]),
        description=f"Observes the source's monthly {' and '.join(taxi_types)} files (versions, not contents) and "
        "records the months whose version is new or changed; Declarative Automation then re-runs those months.",
    )
    def _sensor(context: SensorEvaluationContext, sources: TaxiSourceResource) -> SensorResult:
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        notes: list[str] = []
        events = []
        for taxi_type in taxi_types:
            for month, version in observe_months(sources, taxi_type, months, warn=notes.append).items():
                if seen.get(f"{taxi_type}/{month}") != version:
                    seen[f"{taxi_type}/{month}"] = version
                    events.append(AssetObservation(
                        asset_key=source_key(taxi_type), partition=month, tags={DATA_VERSION_TAG: version}
                    ))
        for note in notes:  # source errors: redacted (no credentials, query strings, secrets) and capped
            context.log.warning(safe_message(note))
        cursor = json.dumps(seen, sort_keys=True)
        if events:
            context.log.info(f"{len(events)} new or changed source months: "
                             + ", ".join(f"{e.asset_key.path[-1]} {e.partition}" for e in events[:20]))
            return SensorResult(asset_events=events, cursor=cursor)
        reason = f"no new or changed month at the {sources.kind} source"
        if notes:
            reason += f" ({len(notes)} months unknown for now: " + "; ".join(notes[:3]) + ")"
        return SensorResult(skip_reason=safe_message(reason, limit=4000), cursor=cursor)

    return _sensor


source_months_observation = build_observation_sensor()


def build_automation_sensor(
    target, name: str = AUTOMATION_SENSOR, pipeline: str = "revenue", observed_by: str = OBSERVATION_SENSOR
) -> AutomationConditionSensorDefinition:
    """Declarative Automation's sensor over ``target`` (starts stopped; one backfill per tick, one run per month)."""
    return AutomationConditionSensorDefinition(
        name,
        target=target,
        default_status=DefaultSensorStatus.STOPPED,
        emit_backfills=True,  # several months in one tick: one backfill, run as one run (single-run policy)
        description=f"Declarative Automation of the {pipeline} pipeline: runs a month's graph when its source file "
        f"appears or is re-published (observed by {observed_by}).",
    )


def automated(spec: AssetSpec, raw_keys) -> AssetSpec:
    """A pipeline's automation, declared in one place: raw follows its source's months (``SOURCE_MONTH_CHANGED``),
    everything else follows its upstream months (``UPSTREAM_MONTH_UPDATED``). Use with ``map_asset_specs``."""
    condition = SOURCE_MONTH_CHANGED if spec.key in raw_keys else UPSTREAM_MONTH_UPDATED
    return spec.replace_attributes(automation_condition=condition)
