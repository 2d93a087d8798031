"""The same trips, published in every physical type each column has had (the type matrix), and the clean rows they
must give.

``TRIPS[taxi_type]`` are a few trips of 2021-01 in the course's column names with plain Python values (one of them a
stray pickup of 2020-12, one with a null count, one all-null column where the TLC has one). ``publish`` writes them as
a parquet table in one ``VARIANTS`` layout, ``csv_text`` as the TLC's CSV; ``expected_rows`` is what clean and
quarantine must hold for them, whatever the layout.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

import pyarrow as pa
import pyarrow.parquet as pq

from taxi_platform.conversions import WALL_CLOCK_ZONE
from taxi_platform.schemas import CLEAN_SCHEMAS, COURSE_SCHEMAS

MONTH = "2021-01"
CODE_COLUMNS = frozenset({"SR_Flag"})  # text codes the TLC has published as numbers (FHV 2019-02: double)
# The published spelling of FHV columns (as in the TLC's files)
FHV_NAMES = {"dropoff_datetime": "dropOff_datetime", "PULocationID": "PUlocationID", "DOLocationID": "DOlocationID"}

# (int columns, double columns, code columns, timestamps, all-null columns as the null type)
VARIANTS: dict[str, dict] = {
    "int32_ms": dict(int=pa.int32(), double=pa.float64(), code=pa.int32(), ts="ms"),
    "int64_us": dict(int=pa.int64(), double=pa.float64(), code=pa.int64(), ts="us"),
    "double_ns": dict(int=pa.float64(), double=pa.float64(), code=pa.float64(), ts="ns"),
    "int96": dict(int=pa.int64(), double=pa.float64(), code=pa.string(), ts="int96"),
    "text": dict(int="text", double="text", code="text", ts="text"),
    "typeless_nulls": dict(int=pa.int64(), double=pa.float64(), code=pa.float64(), ts="us", null_type=True),
    "zoned": dict(int=pa.int64(), double=pa.float64(), code=pa.string(), ts="zoned"),
}


def _trips(taxi_type: str) -> list[dict]:
    t0 = datetime(2021, 1, 31, 20, 15, 3)  # after 19:00 on the 31st: a 5-hour shift would move it to February
    pickups = [t0, t0 + timedelta(minutes=7), datetime(2021, 1, 5, 8, 0, 0), datetime(2021, 1, 1, 0, 0, 0),
               datetime(2020, 12, 31, 23, 59, 0), t0 + timedelta(hours=3, minutes=44, seconds=56)]
    trips = []
    for i, pickup in enumerate(pickups):
        dropoff = pickup + timedelta(minutes=10, seconds=30 + i)
        if taxi_type in ("green", "yellow"):
            prefix = "lpep" if taxi_type == "green" else "tpep"
            trip = {
                "VendorID": 1 + i % 2, f"{prefix}_pickup_datetime": pickup, f"{prefix}_dropoff_datetime": dropoff,
                "store_and_fwd_flag": ["N", "Y", "N", None, "N", "N"][i], "RatecodeID": [1, 1, 5, None, 1, 2][i],
                "PULocationID": [161, 236, 74, 264, 43, 132][i], "DOLocationID": [236, 161, 75, 265, 151, 230][i],
                "passenger_count": [1, 2, 1, None, 3, 0][i], "trip_distance": [2.5, 1.01, 0.0, 3.75, 12.3, 17.62][i],
                "fare_amount": [12.3, 6.5, 52.0, 9.0, 35.5, 52.0][i], "extra": [0.5, 1.0, 0.0, 0.5, 0.0, 0.0][i],
                "mta_tax": 0.5, "tip_amount": [2.0, 0.0, 10.56, 1.5, 0.0, 11.06][i], "tolls_amount": [0.0] * 5 + [6.12],
                "improvement_surcharge": 0.3, "total_amount": [18.1, 10.8, 63.36, 14.3, 36.3, 72.48][i],
                "payment_type": [1, 2, 1, 1, 2, 1][i], "congestion_surcharge": [2.5, 2.5, 0.0, 2.5, 0.0, 2.5][i],
            }
            trip["tolls_amount"] = trip["tolls_amount"][i]
            if taxi_type == "green":
                trip.update({"ehail_fee": None, "trip_type": [1, 1, 2, None, 1, 1][i]})
        else:
            trip = {
                "dispatching_base_num": ["B02510", "B02764", "B00009", "B02510", "B02872", "B02764"][i],
                "pickup_datetime": pickup, "dropoff_datetime": dropoff,
                "PULocationID": [161, 236, None, 264, 43, 132][i], "DOLocationID": [236, 161, 75, 265, 151, None][i],
                "SR_Flag": ["1", None, "1", None, None, "1"][i],
            }
            if taxi_type == "fhvhv":
                trip["hvfhs_license_num"] = ["HV0003", "HV0005", "HV0003", "HV0004", "HV0003", "HV0005"][i]
                trip["PULocationID"] = trip["PULocationID"] or 74
                trip["DOLocationID"] = trip["DOLocationID"] or 75
            else:
                trip["Affiliated_base_number"] = ["B02510", None, "B00009", "B02510", None, "B02764"][i]
        trips.append(trip)
    return trips


TRIPS: dict[str, list[dict]] = {t: _trips(t) for t in COURSE_SCHEMAS}


def published_name(taxi_type: str, name: str) -> str:
    return FHV_NAMES.get(name, name) if taxi_type == "fhv" else name


def _text(value, kind: str, *, int_as_double: bool) -> str:
    """A value as the text a CSV or an all-text conversion holds ('' for null)."""
    if value is None:
        return ""
    if kind == "timestamp":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "int" and int_as_double:
        return repr(float(value))  # what a pandas double column gives: "1.0"
    return str(value)


def _array(values: list, kind: str, name: str, spec: dict) -> pa.Array:
    if spec.get("null_type") and all(v is None for v in values):
        return pa.nulls(len(values), pa.null())
    if kind == "timestamp":
        if spec["ts"] == "text":
            return pa.array([_text(v, kind, int_as_double=False) for v in values], pa.string())
        if spec["ts"] == "zoned":  # what pandas writes after tz_localize("America/New_York")
            return pa.array([None if v is None else _localized(v) for v in values],
                            pa.timestamp("ns", tz=WALL_CLOCK_ZONE))
        unit = "ns" if spec["ts"] == "int96" else spec["ts"]
        return pa.array(values, pa.timestamp(unit))
    if kind == "string" and name not in CODE_COLUMNS:
        return pa.array(values, pa.string())
    target = spec["code" if kind == "string" else kind]
    if target == "text":
        return pa.array([_text(v, kind, int_as_double=True) for v in values], pa.string())
    if kind == "string" and not pa.types.is_string(target):  # a text code published as a number
        values = [None if v is None else int(v) for v in values]
    return pa.array(values, target)


def _localized(value: datetime):
    from zoneinfo import ZoneInfo

    return value.replace(tzinfo=ZoneInfo(WALL_CLOCK_ZONE))


def publish(taxi_type: str, variant: str, trips: Optional[list[dict]] = None) -> pa.Table:
    """The trips as a parquet-ready table with the ``variant``'s physical types and the TLC's column spelling."""
    spec = VARIANTS[variant]
    trips = TRIPS[taxi_type] if trips is None else trips
    columns = {published_name(taxi_type, name): _array([t[name] for t in trips], kind, name, spec)
               for name, kind in COURSE_SCHEMAS[taxi_type]}
    return pa.table(columns)


def write_parquet(table: pa.Table, path: Path, variant: str) -> Path:
    pq.write_table(table, path, use_deprecated_int96_timestamps=(VARIANTS[variant]["ts"] == "int96"))
    return path


def csv_text(taxi_type: str, trips: Optional[list[dict]] = None) -> str:
    """The trips as the TLC's CSV (header spelling as published, '' for null, ints as ints)."""
    trips = TRIPS[taxi_type] if trips is None else trips
    names = [name for name, _ in COURSE_SCHEMAS[taxi_type]]
    lines = [",".join(published_name(taxi_type, n) for n in names)]
    for trip in trips:
        lines.append(",".join(_text(trip[n], kind, int_as_double=False) for n, kind in COURSE_SCHEMAS[taxi_type]))
    return "\n".join(lines) + "\n"


def write_csv(text: str, path: Path) -> Path:
    path.write_bytes(gzip.compress(text.encode(), mtime=0) if path.name.endswith(".gz") else text.encode())
    return path


def expected_rows(taxi_type: str) -> list[tuple]:
    """The clean and quarantined rows (clean columns + quarantine_reason) the trips must give, sorted."""
    renamed = dict(zip((n for n, _ in CLEAN_SCHEMAS[taxi_type]), (n for n, _ in COURSE_SCHEMAS[taxi_type])))
    rows = []
    for trip in TRIPS[taxi_type]:
        values = tuple(trip[renamed[n]] for n, _ in CLEAN_SCHEMAS[taxi_type])
        pickup = trip[renamed["pickup_datetime"]]
        if not pickup.strftime("%Y-%m") == MONTH:
            reason = "pickup_outside_month"
        elif trip["PULocationID"] is None or trip["DOLocationID"] is None:
            reason = "unknown_zone"
        else:
            reason = None
        rows.append(values + (reason,))
    return sorted(rows, key=repr)


# One unparseable cell per kind of contract column, each in its own copy of the first in-month trip:
# {taxi_type: [(course column, published text)]}. Ints: not a number and not whole; doubles: not a number;
# timestamps: not a time (pickup and dropoff).
BAD_CELLS: dict[str, list[tuple[str, str]]] = {
    "green": [("VendorID", "two"), ("passenger_count", "1.5"), ("fare_amount", "abc"),
              ("lpep_pickup_datetime", "yesterday"), ("lpep_dropoff_datetime", "2021-01-32 10:00:00")],
    "yellow": [("RatecodeID", "x1"), ("passenger_count", "2.5"), ("total_amount", "12,5"),
               ("tpep_pickup_datetime", "31/01/2021 20:15"), ("tpep_dropoff_datetime", "soon")],
    "fhv": [("PULocationID", "abc"), ("DOLocationID", "7.5"), ("pickup_datetime", "yesterday"),
            ("dropoff_datetime", "2021-02-30 00:00:00")],
    "fhvhv": [("PULocationID", "abc"), ("DOLocationID", "1e400x"), ("pickup_datetime", "noon"),
              ("dropoff_datetime", "2021-01-31 25:61:00")],
}


def text_rows_with_bad_cells(taxi_type: str) -> list[dict]:
    """The trips as text ({course column: text, '' for null}, ints as the TLC's CSV writes them), then one copy of
    the first trip per ``BAD_CELLS`` entry holding that unparseable text."""
    kinds = dict(COURSE_SCHEMAS[taxi_type])
    rows = [{n: _text(t[n], kinds[n], int_as_double=False) for n in kinds} for t in TRIPS[taxi_type]]
    return rows + [dict(rows[0], **{column: text}) for column, text in BAD_CELLS[taxi_type]]


def text_parquet(rows: list[dict], taxi_type: str, path: Path) -> Path:
    """``rows`` (course column -> text) as a parquet month of text columns ('' kept: pandas/ADF conversions)."""
    columns = {published_name(taxi_type, n): pa.array([r[n] for r in rows], pa.string())
               for n, _ in COURSE_SCHEMAS[taxi_type]}
    pq.write_table(pa.table(columns), path)
    return path


def csv_of(rows: list[dict], taxi_type: str) -> str:
    """``rows`` (course column -> text) as the TLC's CSV (header spelled as published)."""
    names = [n for n, _ in COURSE_SCHEMAS[taxi_type]]
    lines = [",".join(published_name(taxi_type, n) for n in names)]
    lines += [",".join(f'"{r[n]}"' if "," in r[n] else r[n] for n in names) for r in rows]
    return "\n".join(lines) + "\n"


def expected_rows_with_bad_cells(taxi_type: str) -> list[tuple]:
    """``expected_rows`` plus each bad cell's row: the first trip with that column null, quarantined as
    ``unparseable:<clean column>``; sorted."""
    clean_names = [n for n, _ in CLEAN_SCHEMAS[taxi_type]]
    course_names = [n for n, _ in COURSE_SCHEMAS[taxi_type]]
    rows = list(expected_rows(taxi_type))
    first = TRIPS[taxi_type][0]
    for column, _ in BAD_CELLS[taxi_type]:
        values = tuple(None if course == column else first[course] for course in course_names)
        rows.append(values + (f"unparseable:{clean_names[course_names.index(column)]}",))
    return sorted(rows, key=repr)
