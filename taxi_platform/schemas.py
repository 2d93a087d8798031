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
