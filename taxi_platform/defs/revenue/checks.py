"""The checks of the revenue pipeline (clean green/yellow, core/trips, the report), built with the shared builders."""

from taxi_platform.defs.revenue.clean import clean_key, quarantine_key
from taxi_platform.defs.revenue.core import TRIPS_KEY
from taxi_platform.defs.revenue.raw import RAW_TAXI_TYPES, raw_key
from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY
from taxi_platform.checks.contracts import build_no_null_keys_check, build_schema_check
from taxi_platform.checks.duplicates import build_likely_duplicates_check
from taxi_platform.checks.reconcile import build_raw_rows_check, build_report_totals_check, build_trips_rows_check
from taxi_platform.schemas import CLEAN_SCHEMAS, REVENUE_MONTHLY_ZONE_SCHEMA, TRIPS_SCHEMA

TRIP_KEYS = ("pickup_datetime", "dropoff_datetime", "PULocationID", "DOLocationID")
CLEAN_KEYS = {t: clean_key(t) for t in RAW_TAXI_TYPES}

asset_checks = [
    *[build_schema_check(clean_key(t), CLEAN_SCHEMAS[t]) for t in RAW_TAXI_TYPES],
    *[build_no_null_keys_check(clean_key(t), TRIP_KEYS) for t in RAW_TAXI_TYPES],
    *[build_raw_rows_check(clean_key(t), raw_key(t), quarantine_key(t)) for t in RAW_TAXI_TYPES],
    *[build_likely_duplicates_check(clean_key(t)) for t in RAW_TAXI_TYPES],
    build_schema_check(TRIPS_KEY, TRIPS_SCHEMA),
    build_no_null_keys_check(TRIPS_KEY, TRIP_KEYS + ("service_type",)),
    build_trips_rows_check(TRIPS_KEY, CLEAN_KEYS),
    build_schema_check(REVENUE_MONTHLY_ZONE_KEY, REVENUE_MONTHLY_ZONE_SCHEMA),
    build_no_null_keys_check(REVENUE_MONTHLY_ZONE_KEY, ("revenue_zone", "revenue_month", "service_type")),
    build_report_totals_check(REVENUE_MONTHLY_ZONE_KEY, CLEAN_KEYS),
]
