"""The column names and types the TLC published per taxi type and month ("era"), taken from the TLC's parquet footers.

Sources (public text quoting the footers of the TLC's own files, https://d37ci6vzurychx.cloudfront.net/trip-data/):

[A] The "TLC schema-change timeline (real, from the Parquet footers of consecutive monthly files)" of a data-lake
    manifest that downloaded every yellow, green, fhv and fhvhv file 2019-01..2026-08 on 2026-10-02 and compared the
    arrow schemas of consecutive months (found in the code corpus by its text "TLC schema-change timeline"; its
    repository is not named there). Every change below without another source is from [A].
[B] snowch/vast-docker-compose-examples, jupyter-pyspark/examples/yellow_taxi_data_pt0_schema.ipynb: the physical
    types of every yellow footer 2009-01..2024-08 (fetched with range requests); agrees with [A] on every yellow change
    in 2019+ (airport_fee 2020-08/-10/-11; the 2023-02 changes) and shows yellow airport_fee present since 2011.
[C] pyarrow prints of single files: yellow 2022-01 (VendorID int64, ``timestamp[us]``, passenger_count/RatecodeID
    double, airport_fee double; a pymysql how-to), yellow 2025-01 and 2025-09 (VendorID int32, ``timestamp[us]``,
    passenger_count/RatecodeID int64, store_and_fwd_flag ``large_string``, Airport_fee, cbd_congestion_fee), yellow
    2023-01 still VendorID int64 / passenger_count double (a quivr example), fhvhv 2022 ``timestamp[us]`` and
    PULocationID int64 (an R arrow glimpse).

Not found: any public footer of a 2019-2021 file showing its timestamp unit. [A] lists no timestamp change in
2019-01..2026-08 while [C] shows ``timestamp[us]`` in 2022 and 2025, so every era here publishes ``timestamp[us]``.
(Nanosecond timestamps, which pandas writes by default, stay covered by the type-matrix test, not by the sample.)
Any month before 2019-01 reuses the 2019-01 layout.

yellow
    - 2019-01..2023-01: VendorID int64, timestamps ``timestamp[us]``, passenger_count double, RatecodeID double,
      store_and_fwd_flag string, PULocationID/DOLocationID int64, payment_type int64, money columns double,
      congestion_surcharge double (all null in 2019-01: the surcharge started 2019-02-02), ``airport_fee`` last:
      an all-null column of arrow type ``null`` in 2019-01..2020-07 and 2020-10, double otherwise (null values until
      the fee started in 2021).
    - 2023-02 onwards: VendorID int32, passenger_count int64, RatecodeID int64, store_and_fwd_flag ``large_string``,
      PULocationID/DOLocationID int32, ``Airport_fee`` (capital A) double.
    - 2025-01 onwards: additionally ``cbd_congestion_fee`` double (last column).

green
    The course order (schemas.GREEN) + [cbd_congestion_fee].
    - 2019-01..2023-01: VendorID int64, passenger_count/RatecodeID/payment_type/trip_type double,
      PULocationID/DOLocationID int64, store_and_fwd_flag string; ``ehail_fee`` double (all null) until 2019-08, an
      all-null column of arrow type ``null`` from 2019-09.
    - 2023-02 onwards: VendorID int32, passenger_count/RatecodeID/payment_type/trip_type int64, PU/DO int32,
      store_and_fwd_flag ``large_string``, ehail_fee double (all null).
    - 2025-01 onwards: ``cbd_congestion_fee`` double.

fhvhv
    hvfhs_license_num .. wav_match_flag (24 columns), no SR_Flag (the parquet files never had it; the course's
    fhvhv schema lists it from the CSV era and clean fills it with nulls). PULocationID/DOLocationID int64, int32
    from 2023-02; the text columns ``large_string`` from 2023-02; wav_match_flag of arrow type ``null`` in
    2019-02..2019-03; airport_fee of type ``null`` in 2019-02..2019-06, 2020-04 and 2020-10, double otherwise.

fhv
    dispatching_base_num, pickup_datetime, dropOff_datetime, PUlocationID, DOlocationID (odd casing as published),
    SR_Flag, Affiliated_base_number. PUlocationID/DOlocationID double, except int64 in 2019-05..2019-06 (both),
    2020-07 (DOlocationID) and from 2023-02 (both). SR_Flag double (1.0 or null) in 2019-01..2019-02, an all-null
    column of arrow type ``null`` in 2019-03..2023-01, int64 from 2023-02; clean stores the TLC's text "1" whatever
    the type (``taxi_platform.conversions``: code_text). The text columns are ``large_string`` from 2023-02.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa

TAXI_TYPES: tuple[str, ...] = ("green", "yellow", "fhv", "fhvhv")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
MIN_YEAR, MAX_YEAR = 2009, 2099
# The first month (yyyymm) of the 2023 layout: int32 ids, int64 counts, large_string text, Airport_fee ([A], [B]).
MODERN_FROM = 202302
# Months (yyyymm) whose column is an all-null column of arrow type null ([A], [B]); months before 2019 count as 2019-01.
YELLOW_AIRPORT_FEE_NULL = frozenset([*range(201901, 201913), *range(202001, 202008), 202010])
FHVHV_AIRPORT_FEE_NULL = frozenset([*range(201901, 201907), 202004, 202010])
FHVHV_WAV_MATCH_NULL = frozenset([201901, 201902, 201903])
GREEN_EHAIL_FEE_DOUBLE_UNTIL = 201908
# fhv: SR_Flag double (1.0 or null) up to 2019-02, typeless nulls until 2023-01, int64 after; PU/DO published as int64
FHV_SR_FLAG_DOUBLE_UNTIL = 201902
FHV_INT_LOCATIONS = {"PUlocationID": frozenset({201905, 201906}), "DOlocationID": frozenset({201905, 201906, 202007})}


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
    def layout_key(self) -> int:
        """The key whose layout the month publishes (months before 2019 publish the 2019-01 layout)."""
        return max(self.key, 201901)

    @property
    def ts_unit(self) -> str:
        """``timestamp[us]`` in every era ([A] shows no unit change 2019-2026, [C] shows us in 2022 and 2025)."""
        return "us"

    @property
    def modern(self) -> bool:
        """The 2023-02 layout: int32 ids, int64 counts, ``large_string`` text, ``Airport_fee`` ([A], [B])."""
        return self.key >= MODERN_FROM

    @property
    def new_fares(self) -> bool:
        """The fare rules of 2022-12-19 (higher initial, per-unit, surcharges): every month from 2023-01."""
        return self.key >= 202301

    @property
    def text(self) -> pa.DataType:
        """The arrow type of text columns: ``large_string`` from 2023-02, ``string`` before."""
        return pa.large_string() if self.modern else pa.string()

    @property
    def has_airport_fee(self) -> bool:
        """yellow's airport fee is charged (the column exists in every era, null before 2021)."""
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
    text = era.text
    if era.taxi_type == "yellow":
        fields = [
            ("VendorID", vendor),
            ("tpep_pickup_datetime", ts),
            ("tpep_dropoff_datetime", ts),
            ("passenger_count", count),
            ("trip_distance", d),
            ("RatecodeID", count),
            ("store_and_fwd_flag", text),
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
        fields.append((era.airport_fee_name, pa.null() if era.layout_key in YELLOW_AIRPORT_FEE_NULL else d))
    else:
        fields = [
            ("VendorID", vendor),
            ("lpep_pickup_datetime", ts),
            ("lpep_dropoff_datetime", ts),
            ("store_and_fwd_flag", text),
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
            ("ehail_fee", d if era.modern or era.layout_key <= GREEN_EHAIL_FEE_DOUBLE_UNTIL else pa.null()),
            ("improvement_surcharge", d),
            ("total_amount", d),
            ("payment_type", count),
            ("trip_type", count),
            ("congestion_surcharge", d),
        ]
    if era.has_cbd_fee:
        fields.append(("cbd_congestion_fee", d))
    return fields


def _fhvhv_fields(era: Era) -> list[tuple[str, pa.DataType]]:
    ts = pa.timestamp(era.ts_unit)
    loc = pa.int32() if era.modern else pa.int64()
    s, d = era.text, pa.float64()
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
        ("airport_fee", pa.null() if era.layout_key in FHVHV_AIRPORT_FEE_NULL else d),
        ("tips", d),
        ("driver_pay", d),
        ("shared_request_flag", s),
        ("shared_match_flag", s),
        ("access_a_ride_flag", s),
        ("wav_request_flag", s),
        ("wav_match_flag", pa.null() if era.layout_key in FHVHV_WAV_MATCH_NULL else s),
    ]
    return fields


def _fhv_fields(era: Era) -> list[tuple[str, pa.DataType]]:
    ts = pa.timestamp(era.ts_unit)

    def location(name: str) -> pa.DataType:
        return pa.int64() if era.modern or era.layout_key in FHV_INT_LOCATIONS[name] else pa.float64()

    if era.modern:
        sr_flag = pa.int64()
    else:
        sr_flag = pa.float64() if era.layout_key <= FHV_SR_FLAG_DOUBLE_UNTIL else pa.null()
    return [
        ("dispatching_base_num", era.text),
        ("pickup_datetime", ts),
        ("dropOff_datetime", ts),
        ("PUlocationID", location("PUlocationID")),
        ("DOlocationID", location("DOlocationID")),
        ("SR_Flag", sr_flag),
        ("Affiliated_base_number", era.text),
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
