"""Every column contract of the platform, in one place.

Types are written as plain strings ("int", "double", "string", "timestamp") so this module imports nothing heavy;
``spark_schema`` and ``arrow_schema`` turn a contract into a Spark ``StructType`` or a ``pyarrow.Schema`` on demand.

- ``COURSE_SCHEMAS``: the course's explicit schemas per taxi type (the published CSV columns, all nullable).
- ``CLEAN_SCHEMAS``: the clean datasets: the course schema with the lpep_/tpep_ prefixes renamed away.
- ``TRIPS_COLUMNS`` / ``TRIPS_SCHEMA``: the 18 common green/yellow columns, in the course's order, + service_type.
- ``REVENUE_MONTHLY_ZONE_SCHEMA``: the monthly revenue per zone report.

Lake datasets that are partitioned by month also carry ``month`` ("YYYY-MM"), stored as the Hive-style folder
``month=YYYY-MM`` rather than inside the files (see ``io_managers/lake.py``).
"""

from __future__ import annotations

from typing import Sequence

Contract = Sequence[tuple[str, str]]

MONTH_COLUMN = "month"

GREEN: Contract = (
    ("VendorID", "int"),
    ("lpep_pickup_datetime", "timestamp"),
    ("lpep_dropoff_datetime", "timestamp"),
    ("store_and_fwd_flag", "string"),
    ("RatecodeID", "int"),
    ("PULocationID", "int"),
    ("DOLocationID", "int"),
    ("passenger_count", "int"),
    ("trip_distance", "double"),
    ("fare_amount", "double"),
    ("extra", "double"),
    ("mta_tax", "double"),
    ("tip_amount", "double"),
    ("tolls_amount", "double"),
    ("ehail_fee", "double"),
    ("improvement_surcharge", "double"),
    ("total_amount", "double"),
    ("payment_type", "int"),
    ("trip_type", "int"),
    ("congestion_surcharge", "double"),
)

YELLOW: Contract = (
    ("VendorID", "int"),
    ("tpep_pickup_datetime", "timestamp"),
    ("tpep_dropoff_datetime", "timestamp"),
    ("passenger_count", "int"),
    ("trip_distance", "double"),
    ("RatecodeID", "int"),
    ("store_and_fwd_flag", "string"),
    ("PULocationID", "int"),
    ("DOLocationID", "int"),
    ("payment_type", "int"),
    ("fare_amount", "double"),
    ("extra", "double"),
    ("mta_tax", "double"),
    ("tip_amount", "double"),
    ("tolls_amount", "double"),
    ("improvement_surcharge", "double"),
    ("total_amount", "double"),
    ("congestion_surcharge", "double"),
)

FHVHV: Contract = (
    ("hvfhs_license_num", "string"),
    ("dispatching_base_num", "string"),
    ("pickup_datetime", "timestamp"),
    ("dropoff_datetime", "timestamp"),
    ("PULocationID", "int"),
    ("DOLocationID", "int"),
    ("SR_Flag", "string"),
)

FHV: Contract = (
    ("dispatching_base_num", "string"),
    ("pickup_datetime", "timestamp"),
    ("dropoff_datetime", "timestamp"),
    ("PULocationID", "int"),
    ("DOLocationID", "int"),
    ("SR_Flag", "string"),
    ("Affiliated_base_number", "string"),
)

COURSE_SCHEMAS: dict[str, Contract] = {"green": GREEN, "yellow": YELLOW, "fhvhv": FHVHV, "fhv": FHV}

# The published pickup/dropoff column names of each taxi type (renamed to pickup_datetime/dropoff_datetime when cleaned).
PICKUP_DROPOFF: dict[str, tuple[str, str]] = {
    "green": ("lpep_pickup_datetime", "lpep_dropoff_datetime"),
    "yellow": ("tpep_pickup_datetime", "tpep_dropoff_datetime"),
    "fhvhv": ("pickup_datetime", "dropoff_datetime"),
    "fhv": ("pickup_datetime", "dropoff_datetime"),
}


# Columns of the course schemas that a published month may lack and still be used (filled with nulls when cleaned):
# the TLC added them over the years (congestion_surcharge in 2019, ...) or dropped them (SR_Flag after 2020).
OPTIONAL_COLUMNS = frozenset({"congestion_surcharge", "ehail_fee", "SR_Flag", "Affiliated_base_number", "trip_type"})


def required_columns(taxi_type: str) -> list[str]:
    """The course-schema columns a published month of ``taxi_type`` must have (matched case-insensitively)."""
    return [name for name, _ in COURSE_SCHEMAS[taxi_type] if name not in OPTIONAL_COLUMNS]


def _renamed(contract: Contract, taxi_type: str) -> Contract:
    pickup, dropoff = PICKUP_DROPOFF[taxi_type]
    names = {pickup: "pickup_datetime", dropoff: "dropoff_datetime"}
    return tuple((names.get(name, name), kind) for name, kind in contract)


CLEAN_SCHEMAS: dict[str, Contract] = {t: _renamed(c, t) for t, c in COURSE_SCHEMAS.items()}

TRIPS_COLUMNS: tuple[str, ...] = (
    "VendorID",
    "pickup_datetime",
    "dropoff_datetime",
    "store_and_fwd_flag",
    "RatecodeID",
    "PULocationID",
    "DOLocationID",
    "passenger_count",
    "trip_distance",
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "improvement_surcharge",
    "total_amount",
    "payment_type",
    "congestion_surcharge",
)
_CLEAN_GREEN_TYPES = dict(CLEAN_SCHEMAS["green"])
TRIPS_SCHEMA: Contract = tuple((c, _CLEAN_GREEN_TYPES[c]) for c in TRIPS_COLUMNS) + (("service_type", "string"),)

REVENUE_MONTHLY_ZONE_SCHEMA: Contract = (
    ("revenue_zone", "int"),
    ("revenue_month", "timestamp"),
    ("service_type", "string"),
    ("revenue_monthly_fare", "double"),
    ("revenue_monthly_extra", "double"),
    ("revenue_monthly_mta_tax", "double"),
    ("revenue_monthly_tip_amount", "double"),
    ("revenue_monthly_tolls_amount", "double"),
    ("revenue_monthly_improvement_surcharge", "double"),
    ("revenue_monthly_total_amount", "double"),
    ("revenue_monthly_congestion_surcharge", "double"),
    ("avg_monthly_passenger_count", "double"),
    ("avg_monthly_trip_distance", "double"),
)

QUARANTINE_REASON_COLUMN = "quarantine_reason"

TAXI_ZONES_SCHEMA: Contract = (
    ("LocationID", "int"),
    ("Borough", "string"),
    ("Zone", "string"),
    ("service_zone", "string"),
)


def quarantine_schema(taxi_type: str) -> Contract:
    """A quarantined row keeps the clean columns and says why it was set aside."""
    return tuple(CLEAN_SCHEMAS[taxi_type]) + ((QUARANTINE_REASON_COLUMN, "string"),)


def spark_schema(contract: Contract):
    """The contract as a Spark StructType (every field nullable, as in the course)."""
    from pyspark.sql import types as T

    kinds = {
        "int": T.IntegerType(),
        "long": T.LongType(),
        "double": T.DoubleType(),
        "string": T.StringType(),
        "timestamp": T.TimestampType(),
        "date": T.DateType(),
    }
    return T.StructType([T.StructField(name, kinds[kind], True) for name, kind in contract])


def arrow_schema(contract: Contract):
    """The contract as a pyarrow schema (timestamps are naive microseconds, as the TLC publishes them)."""
    import pyarrow as pa

    kinds = {
        "int": pa.int32(),
        "long": pa.int64(),
        "double": pa.float64(),
        "string": pa.string(),
        "timestamp": pa.timestamp("us"),
        "date": pa.date32(),
    }
    return pa.schema([pa.field(name, kinds[kind], nullable=True) for name, kind in contract])


def spark_type_name(contract: Contract) -> dict[str, str]:
    """Spark's simpleString of each contract type, for comparing a DataFrame's dtypes with the contract."""
    names = {"int": "int", "long": "bigint", "double": "double", "string": "string", "timestamp": "timestamp", "date": "date"}
    return {name: names[kind] for name, kind in contract}


# What each contract column means (TLC data dictionaries for the trip columns), shown in the Dagster UI's column table.
# Units: amounts in US dollars, distances in miles, durations in minutes unless named otherwise; times are naive New
# York local time as the TLC publishes them. ``column_description`` raises for a column without one (a test checks
# every contract).
COLUMN_DESCRIPTIONS: dict[str, str] = {
    "VendorID": "TPEP/LPEP provider that sent the record: 1 Creative Mobile Technologies, 2 Curb/VeriFone.",
    "lpep_pickup_datetime": "Green: meter engaged (pickup time), as published.",
    "lpep_dropoff_datetime": "Green: meter disengaged (dropoff time), as published.",
    "tpep_pickup_datetime": "Yellow: meter engaged (pickup time), as published.",
    "tpep_dropoff_datetime": "Yellow: meter disengaged (dropoff time), as published.",
    "pickup_datetime": "Pickup time (naive New York local time).",
    "dropoff_datetime": "Dropoff time (naive New York local time).",
    "store_and_fwd_flag": "Y: the trip was held in vehicle memory before sending (no server connection); N: sent live.",
    "RatecodeID": "Final rate code: 1 standard, 2 JFK, 3 Newark, 4 Nassau/Westchester, 5 negotiated, 6 group ride.",
    "PULocationID": "TLC taxi zone of the pickup (LocationID of ref/taxi_zones, 1-265).",
    "DOLocationID": "TLC taxi zone of the dropoff (LocationID of ref/taxi_zones, 1-265).",
    "passenger_count": "Passengers, as entered by the driver.",
    "trip_distance": "Trip distance reported by the taximeter, miles.",
    "fare_amount": "Time-and-distance fare calculated by the meter, USD.",
    "extra": "Miscellaneous extras and surcharges (rush hour, overnight), USD.",
    "mta_tax": "MTA tax triggered by the metered rate, USD.",
    "tip_amount": "Tip, USD (card tips only; cash tips are not recorded).",
    "tolls_amount": "Tolls paid in the trip, USD.",
    "ehail_fee": "Green: e-hail fee, USD (mostly empty).",
    "improvement_surcharge": "Improvement surcharge assessed at flag drop, USD.",
    "total_amount": "Total charged to passengers (cash tips excluded), USD.",
    "payment_type": "How the passenger paid: 1 card, 2 cash, 3 no charge, 4 dispute, 5 unknown, 6 voided trip.",
    "trip_type": "Green: 1 street-hail, 2 dispatch.",
    "congestion_surcharge": "New York State congestion surcharge, USD (from 2019-02).",
    "dispatching_base_num": "TLC base license number of the base that dispatched the trip.",
    "SR_Flag": "Shared ride: 1 when the trip was part of a shared ride chain (Lyft, 2019-2020), else empty.",
    "Affiliated_base_number": "FHV: TLC base number of the base the vehicle is affiliated with.",
    "hvfhs_license_num": "High-volume FHV company license: HV0002 Juno, HV0003 Uber, HV0004 Via, HV0005 Lyft.",
    "service_type": "Which taxi service the trip or row is from: green or yellow.",
    "quarantine_reason": "The first quarantine rule the row breaks (transforms/quarantine.py).",
    "revenue_zone": "Pickup zone of the revenue (LocationID of ref/taxi_zones).",
    "revenue_month": "First instant of the pickup month (timestamp).",
    "revenue_monthly_fare": "Sum of fare_amount over the zone's trips of the month, USD.",
    "revenue_monthly_extra": "Sum of extra, USD.",
    "revenue_monthly_mta_tax": "Sum of mta_tax, USD.",
    "revenue_monthly_tip_amount": "Sum of tip_amount, USD.",
    "revenue_monthly_tolls_amount": "Sum of tolls_amount, USD.",
    "revenue_monthly_improvement_surcharge": "Sum of improvement_surcharge, USD.",
    "revenue_monthly_total_amount": "Sum of total_amount: the zone's revenue of the month, USD.",
    "revenue_monthly_congestion_surcharge": "Sum of congestion_surcharge, USD.",
    "avg_monthly_passenger_count": "Average passenger_count of the zone's trips of the month.",
    "avg_monthly_trip_distance": "Average trip_distance of the zone's trips of the month, miles.",
    "LocationID": "TLC taxi zone id (1-265; 264 and 265 are the lookup's unknown zones).",
    "Borough": "Borough of the zone (EWR for Newark airport, Unknown for 264/265).",
    "Zone": "Zone name, e.g. JFK Airport.",
    "service_zone": "Service zone: Yellow Zone, Boro Zone, Airports or EWR.",
    "hour": "Pickup hour (timestamp truncated to the hour).",
    "zone": "Pickup zone (LocationID).",
    "borough": "Borough of the pickup zone.",
    "zone_name": "Name of the pickup zone.",
    "green_amount": "Sum of total_amount of green trips picked up in the hour and zone, USD (null: no trip).",
    "green_number_records": "Green trips picked up in the hour and zone (null: none).",
    "yellow_amount": "Sum of total_amount of yellow trips picked up in the hour and zone, USD (null: no trip).",
    "yellow_number_records": "Yellow trips picked up in the hour and zone (null: none).",
    "taxi_type": "Taxi type the answers are about: green, yellow, fhv or fhvhv.",
    "rows_used": "Rows answered over: clean, or clean+quarantine (every raw row).",
    "trips": "Trips of the month the answers are computed over.",
    "spark_version": "Version of the Spark that answered.",
    "spark_ui_port": "Port of the Spark UI of the session that answered (null when there is none).",
    "repartition_n": "N of repartition(N) for the file-size question.",
    "parquet_files": "Parquet files written after repartition(N).",
    "parquet_bytes": "Bytes of those parquet files.",
    "avg_parquet_file_bytes": "Average parquet file size after repartition(N), bytes.",
    "avg_parquet_file_mib": "Average parquet file size after repartition(N), MiB.",
    "day": "Day of the month asked about (date).",
    "trips_on_day": "Trips started on that day.",
    "longest_trip_hours": "Longest trip of the month, hours.",
    "least_frequent_pickup_zone": "Name of the pickup zone with the fewest trips.",
    "least_frequent_pickup_zone_id": "LocationID of that zone.",
    "least_frequent_pickup_borough": "Borough of that zone.",
    "least_frequent_pickup_trips": "Trips picked up in that zone.",
    "actual_duration": "Actual trip duration, minutes.",
    "predicted_duration": "Predicted trip duration, minutes (null where the trip has no distance).",
    "kind": "Model kind: trained, or the course's stand-in (trip_distance * 5).",
    "trained_rows": "Trips the month's model was fitted on.",
    "rmse_minutes": "Root mean square error of the model on its training sample, minutes.",
    "r2": "Coefficient of determination of the model on its training sample.",
    "stand_in_rmse_minutes": "RMSE of the stand-in (trip_distance * 5) on the same trips, minutes.",
    "model_json": "The model as JSON: features, coefficients, training filter and fit metrics.",
    "base_id": "The course's base id: the number in dispatching_base_num (e.g. B02510 -> 2510); null if malformed.",
    "pickup_date": "Pickup date.",
    "dropoff_date": "Dropoff date.",
    MONTH_COLUMN: "Partition month, YYYY-MM (the lake's month=YYYY-MM folder).",
}


def column_description(name: str) -> str:
    """What column ``name`` means (``COLUMN_DESCRIPTIONS``); KeyError naming the column when none is written."""
    try:
        return COLUMN_DESCRIPTIONS[name]
    except KeyError:
        raise KeyError(f"no description for column {name!r}: add it to COLUMN_DESCRIPTIONS in taxi_platform/schemas.py") from None
