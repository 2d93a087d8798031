"""The for-hire pipeline's automation: the revenue pipeline's scheme (``defs/revenue/automation.py``) for fhv, fhvhv.

1. ``for_hire_source_months_observation`` (hourly, starts stopped) records an observation of
   ``source/{fhv,fhvhv}_trips`` for each month whose version is new or changed since its last tick; it runs nothing.
2. ``for_hire_automation`` (Declarative Automation, starts stopped) then launches ONE run per such month:
   ``raw/{fhv,fhvhv}_trips`` on ``SOURCE_MONTH_CHANGED`` (a new recent month or a re-published one, any age),
   clean, quarantine and ``analytics/fhvhv_base_ids`` on ``UPSTREAM_MONTH_UPDATED``.

Same builders and conditions as the revenue pipeline; only the taxi types and sensor names differ.
"""

from __future__ import annotations

from taxi_platform.defs.for_hire.assets import FHV_TAXI_TYPES
from taxi_platform.defs.revenue.automation import build_automation_sensor, build_observation_sensor

FOR_HIRE_OBSERVATION_SENSOR = "for_hire_source_months_observation"
FOR_HIRE_AUTOMATION_SENSOR = "for_hire_automation"

for_hire_source_months_observation = build_observation_sensor(
    name=FOR_HIRE_OBSERVATION_SENSOR, taxi_types=FHV_TAXI_TYPES
)


def build_for_hire_automation_sensor(target):
    return build_automation_sensor(
        target, name=FOR_HIRE_AUTOMATION_SENSOR, pipeline="for-hire", observed_by=FOR_HIRE_OBSERVATION_SENSOR
    )
