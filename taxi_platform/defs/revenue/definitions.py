"""The revenue pipeline: source months (observed) -> raw -> clean/quarantine -> core/trips -> the report; checks, job,
automation (``automation.py``)."""

from functools import partial

from dagster import AssetSelection, Definitions, map_asset_specs

from taxi_platform.defs.metadata import OWNERS, declared
from taxi_platform.defs.revenue.automation import automated, build_automation_sensor, source_months_observation
from taxi_platform.defs.revenue.checks import asset_checks
from taxi_platform.defs.revenue.clean import clean_assets
from taxi_platform.defs.revenue.core import trips
from taxi_platform.defs.revenue.freshness import build_freshness_check
from taxi_platform.defs.revenue.jobs import monthly_revenue_job
from taxi_platform.defs.revenue.raw import RAW_TAXI_TYPES, raw_assets, raw_key
from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY, revenue_monthly_zone
from taxi_platform.defs.revenue.sources import source_assets

# the local graph of the pipeline (the report computed in this process)
revenue_assets = [*raw_assets, *clean_assets, trips, revenue_monthly_zone]
RAW_KEYS = {raw_key(t) for t in RAW_TAXI_TYPES}



def revenue_defs(report_on_dataproc: bool = False) -> Definitions:
    """The pipeline; ``report_on_dataproc``: the report (same key) is computed on Dataproc by the job script."""
    assets, checks = revenue_assets, asset_checks
    if report_on_dataproc:
        from taxi_platform.defs.revenue.reports_on_dataproc import revenue_monthly_zone_on_dataproc

        assets = [a for a in revenue_assets if a is not revenue_monthly_zone] + [revenue_monthly_zone_on_dataproc]
        # The report's checks read it through the local lake IO manager: they cannot see a gs:// report.
        checks = [c for c in asset_checks if all(k.asset_key != REVENUE_MONTHLY_ZONE_KEY for k in c.check_keys)]
    assets = declared(map_asset_specs(partial(automated, raw_keys=RAW_KEYS), assets), OWNERS["revenue"])
    freshness = build_freshness_check()
    return Definitions(
        assets=[*declared(source_assets, OWNERS["revenue"]), *assets],
        asset_checks=[*checks, freshness],
        jobs=[monthly_revenue_job],
        sensors=[
            source_months_observation,
            build_automation_sensor(AssetSelection.assets(*assets) | AssetSelection.checks(freshness)),
        ],
    )
