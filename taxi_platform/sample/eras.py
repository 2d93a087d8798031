"""The column names and types the TLC published per taxi type and month ("era"), modelled on the TLC parquet files.

The TLC re-published its trip records as monthly parquet files whose physical types drift between months. The eras
modelled here (any month before 2019-01 reuses the 2019 era):

yellow / green
    - 2019-01..2021-12: VendorID int64, timestamps ``timestamp[ns]``, passenger_count double, RatecodeID double,
      PULocationID/DOLocationID int64, payment_type int64, money columns double, store_and_fwd_flag string.
      yellow has ``airport_fee`` double from 2021-01 only (absent before); green ``ehail_fee`` is an all-null column of
      arrow type ``null``; green trip_type double.
    - 2022-01..2022-12: as above but timestamps ``timestamp[us]``; yellow ``airport_fee`` double; green ehail_fee
      double (all null).
    - 2023-01 onwards: VendorID int32, timestamps ``timestamp[us]``, passenger_count int64, RatecodeID int64,
      PULocationID/DOLocationID int32, payment_type int64, yellow ``Airport_fee`` (capital A) double; green ehail_fee
      double (all null), trip_type int64.
    - 2025-01 onwards: additionally ``cbd_congestion_fee`` double (last column).
    Column order is the TLC's: yellow VendorID, tpep_pickup_datetime, ... congestion_surcharge, [airport_fee |
    Airport_fee], [cbd_congestion_fee]; green the course order (schemas.GREEN) + [cbd_congestion_fee].

fhvhv
    hvfhs_license_num .. wav_match_flag (24 columns, the parquet layout), PULocationID/DOLocationID int64 before 2023,
    int32 from 2023; timestamps ns before 2022, us from 2022; plus ``SR_Flag`` string (mostly null) up to 2020-12, as
    in the 2019-2020 CSV era, so the course columns (schemas.FHVHV) are present.

fhv
    dispatching_base_num, pickup_datetime, dropOff_datetime, PUlocationID, DOlocationID (odd casing as published),
    SR_Flag, Affiliated_base_number; PU/DO double (with nulls); timestamps ns before 2022, us from 2022. SR_Flag is a
    text code ("1" or null), but the 2019 files publish it as a double (1.0 or null) as the TLC's FHV 2019-02 does:
    clean must store "1" either way (``taxi_platform.conversions``: code_text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa

TAXI_TYPES: tuple[str, ...] = ("green", "yellow", "fhv", "fhvhv")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
MIN_YEAR, MAX_YEAR = 2009, 2099
# The fhv months (yyyymm) whose SR_Flag is published as a double (1.0 or null) rather than text.
FHV_SR_FLAG_DOUBLE_MONTHS = range(201901, 201913)
# The last month (yyyymm) whose fhvhv file carries the CSV-era SR_Flag column (replaced by shared_request_flag).
FHVHV_SR_FLAG_LAST_MONTH = 202012


@dataclass(frozen=True)
class Era:
    """What changes between eras for one taxi type and month."""

    taxi_type: str
    year: int
    month: int

    @property
    def key(self) -> int:
        """yyyymm as an int, for comparisons like ``era.key >= 202301``."""
        return self.year * 100 + self.month

    @property
    def ts_unit(self) -> str:
        return "ns" if self.key < 202201 else "us"

    @property
    def modern(self) -> bool:
        """2023+ layout: int32 ids, int64 counts, ``Airport_fee``, the 2022-12-19 fare rules."""
        return self.key >= 202301

    @property
    def has_airport_fee(self) -> bool:
        return self.taxi_type == "yellow" and self.key >= 202101

    @property
    def airport_fee_name(self) -> str:
        return "Airport_fee" if self.modern else "airport_fee"

    @property
    def has_cbd_fee(self) -> bool:
        return self.taxi_type in ("yellow", "green") and self.key >= 202501

    @property
    def has_congestion(self) -> bool:
        """The congestion surcharge started 2019-02-02: the 2019-01 files carry the column, all null."""
        return self.key >= 201902

    @property
    def has_sr_flag(self) -> bool:
        """fhvhv: the CSV-era SR_Flag column, kept up to 2020-12 (fhv always has it)."""
        return self.taxi_type == "fhv" or self.key <= FHVHV_SR_FLAG_LAST_MONTH


def validate_taxi_type(taxi_type: str) -> str:
    """The taxi type itself, or ValueError naming it."""
    if taxi_type not in TAXI_TYPES:
        raise ValueError(f"unknown taxi type: {taxi_type!r} (expected one of {', '.join(TAXI_TYPES)})")
    return taxi_type


def parse_month(month: str) -> tuple[int, int]:
    """("2021-01") -> (2021, 1), or ValueError naming the input (no Dagster import, unlike partitions.parse_month)."""
    match = _MONTH_RE.match(month) if isinstance(month, str) else None
    if match is None:
        raise ValueError(f"not a month key: {month!r} (expected 'YYYY-MM', e.g. '2021-01')")
    year, mon = int(match.group(1)), int(match.group(2))
    if not 1 <= mon <= 12 or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"not a month key: {month!r} (month 01-12, year {MIN_YEAR}-{MAX_YEAR})")
    return year, mon


def era_of(taxi_type: str, month: str) -> Era:
    """The validated era of a (taxi type, month)."""
    validate_taxi_type(taxi_type)
    year, mon = parse_month(month)
    return Era(taxi_type, year, mon)


def _taxi_fields(era: Era) -> list[tuple[str, pa.DataType]]:
    ts = pa.timestamp(era.ts_unit)
    d = pa.float64()
    vendor = pa.int32() if era.modern else pa.int64()
    loc = pa.int32() if era.modern else pa.int64()
    count = pa.int64() if era.modern else d
    if era.taxi_type == "yellow":
        fields = [
            ("VendorID", vendor),
            ("tpep_pickup_datetime", ts),
            ("tpep_dropoff_datetime", ts),
            ("passenger_count", count),
            ("trip_distance", d),
            ("RatecodeID", count),
            ("store_and_fwd_flag", pa.string()),
            ("PULocationID", loc),
            ("DOLocationID", loc),
            ("payment_type", pa.int64()),
            ("fare_amount", d),
            ("extra", d),
            ("mta_tax", d),
            ("tip_amount", d),
            ("tolls_amount", d),
            ("improvement_surcharge", d),
            ("total_amount", d),
            ("congestion_surcharge", d),
        ]
        if era.has_airport_fee:
            fields.append((era.airport_fee_name, d))
    else:
        fields = [
            ("VendorID", vendor),
            ("lpep_pickup_datetime", ts),
            ("lpep_dropoff_datetime", ts),
            ("store_and_fwd_flag", pa.string()),
            ("RatecodeID", count),
            ("PULocationID", loc),
            ("DOLocationID", loc),
            ("passenger_count", count),
            ("trip_distance", d),
            ("fare_amount", d),
            ("extra", d),
            ("mta_tax", d),
            ("tip_amount", d),
            ("tolls_amount", d),
            ("ehail_fee", pa.null() if era.key < 202201 else d),
            ("improvement_surcharge", d),
            ("total_amount", d),
            ("payment_type", pa.int64()),
            ("trip_type", count),
            ("congestion_surcharge", d),
        ]
    if era.has_cbd_fee:
        fields.append(("cbd_congestion_fee", d))
    return fields


def _fhvhv_fields(era: Era) -> list[tuple[str, pa.DataType]]:
    ts = pa.timestamp(era.ts_unit)
    loc = pa.int32() if era.modern else pa.int64()
    s, d = pa.string(), pa.float64()
    fields = [
        ("hvfhs_license_num", s),
        ("dispatching_base_num", s),
        ("originating_base_num", s),
        ("request_datetime", ts),
        ("on_scene_datetime", ts),
        ("pickup_datetime", ts),
        ("dropoff_datetime", ts),
        ("PULocationID", loc),
        ("DOLocationID", loc),
        ("trip_miles", d),
        ("trip_time", pa.int64()),
        ("base_passenger_fare", d),
        ("tolls", d),
        ("bcf", d),
        ("sales_tax", d),
        ("congestion_surcharge", d),
        ("airport_fee", d),
        ("tips", d),
        ("driver_pay", d),
        ("shared_request_flag", s),
        ("shared_match_flag", s),
        ("access_a_ride_flag", s),
        ("wav_request_flag", s),
        ("wav_match_flag", s),
    ]
    if era.has_sr_flag:
        fields.append(("SR_Flag", s))
    return fields


def _fhv_fields(era: Era) -> list[tuple[str, pa.DataType]]:
    ts = pa.timestamp(era.ts_unit)
    return [
        ("dispatching_base_num", pa.string()),
        ("pickup_datetime", ts),
        ("dropOff_datetime", ts),
        ("PUlocationID", pa.float64()),
        ("DOlocationID", pa.float64()),
        ("SR_Flag", pa.float64() if era.key in FHV_SR_FLAG_DOUBLE_MONTHS else pa.string()),
        ("Affiliated_base_number", pa.string()),
    ]


@lru_cache(maxsize=None)
def _schema(era: Era) -> pa.Schema:
    builders = {"yellow": _taxi_fields, "green": _taxi_fields, "fhvhv": _fhvhv_fields, "fhv": _fhv_fields}
    return pa.schema([pa.field(name, kind, nullable=True) for name, kind in builders[era.taxi_type](era)])


def schema_of(era: Era) -> pa.Schema:
    """The published schema of an already validated era."""
    return _schema(era)


def published_schema(taxi_type: str, month: str) -> pa.Schema:
    """The column names and types the TLC published for ``taxi_type`` in ``month`` ("YYYY-MM"); see the module doc."""
    return _schema(era_of(taxi_type, month))
