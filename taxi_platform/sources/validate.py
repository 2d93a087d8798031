"""Checks a fetched file must pass before it is handed on: real parquet, readable footer, right taxi type, every
contract column in a type with a canonical conversion (``taxi_platform.conversions``: zoned timestamps are refused),
rows > 0, and pickups in the month it was fetched for (read with the same conversion clean uses: wall clocks as they
are, text parsed).

Taxi types are recognised by their signature columns (matched case-insensitively, since the TLC's casing drifts):
yellow ``tpep_pickup_datetime``, green ``lpep_pickup_datetime``, fhvhv ``hvfhs_license_num``, fhv
``dispatching_base_num`` + ``pickup_datetime`` and no ``hvfhs_license_num``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from taxi_platform.sources.base import (
    CorruptFileError,
    EmptyMonthError,
    PublishedTypeError,
    WrongMonthError,
    WrongTaxiTypeError,
)

PARQUET_MAGIC = b"PAR1"

SIGNATURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "yellow": ("tpep_pickup_datetime",),
    "green": ("lpep_pickup_datetime",),
    "fhvhv": ("hvfhs_license_num",),
    "fhv": ("dispatching_base_num", "pickup_datetime"),
}


def taxi_types_of(columns: Iterable[str]) -> list[str]:
    """The taxi types whose signature columns are all present (normally exactly one)."""
    present = {c.strip().lower() for c in columns}
    found = [t for t in ("yellow", "green", "fhvhv") if set(SIGNATURE_COLUMNS[t]) <= present]
    if "hvfhs_license_num" not in present and set(SIGNATURE_COLUMNS["fhv"]) <= present:
        found.append("fhv")
    return found


def expected_signature(taxi_type: str) -> str:
    """Human wording of what a ``taxi_type`` file must hold, for error messages."""
    text = " + ".join(SIGNATURE_COLUMNS[taxi_type])
    return f"{text} (and no hvfhs_license_num)" if taxi_type == "fhv" else text


def check_taxi_type(columns: Sequence[str], taxi_type: str, *, describe: str, where: str) -> None:
    """Raise ``WrongTaxiTypeError`` unless ``columns`` are those of ``taxi_type`` (and no other type)."""
    found = taxi_types_of(columns)
    if found == [taxi_type]:
        return
    if found:
        what = f"has the columns of a {' and '.join(found)} file, not {taxi_type}"
    else:
        what = f"does not have the columns of a {taxi_type} file"
    raise WrongTaxiTypeError(
        f"{describe}: {where} {what}: expected {expected_signature(taxi_type)}; columns found: {', '.join(columns)}"
    )


def check_parquet_magic(path: Path, *, describe: str, where: str) -> None:
    """Raise ``CorruptFileError`` unless ``path`` starts and ends with the parquet magic ``PAR1``."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(16)
        if size >= 4:
            f.seek(size - 4)
        tail = f.read(4)
    if size < 12 or head[:4] != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        hint = f"starts with {head[:8]!r}" if size else "is empty"
        if head[:2] == b"\x1f\x8b":
            hint += " (gzip data)"
        elif head.lstrip()[:1] == b"<":
            hint += " (looks like HTML/XML, e.g. an error page)"
        elif head[:4] == PARQUET_MAGIC:
            hint = "has no parquet footer (truncated?)"
        raise CorruptFileError(f"{describe}: {where} is not a parquet file: {size} bytes, {hint}")


def check_required_columns(columns: list[str], taxi_type: str, *, describe: str, where: str) -> None:
    """Every column the clean step needs is there (case-insensitively), so a bad file never replaces a stored month."""
    from taxi_platform.schemas import required_columns

    present = {c.lower() for c in columns}
    missing = [c for c in required_columns(taxi_type) if c.lower() not in present]
    if missing:
        raise CorruptFileError(
            f"{describe}: {where} lacks the required {taxi_type} columns {missing}; columns found: {', '.join(columns)}"
        )


def check_published_types(schema, taxi_type: str, *, describe: str, where: str) -> dict[str, str]:
    """{published column: conversion} for the contract columns of ``schema`` (a pyarrow schema); raises
    ``PublishedTypeError`` naming the file, the column and its type (and zone) when one has no canonical conversion."""
    from taxi_platform.conversions import UnsupportedTypeError, arrow_conversion
    from taxi_platform.schemas import COURSE_SCHEMAS

    kinds = {name.lower(): kind for name, kind in COURSE_SCHEMAS[taxi_type]}
    conversions = {}
    for field in schema:
        kind = kinds.get(field.name.strip().lower())
        if kind is None:
            continue  # not a contract column: clean drops it
        try:
            conversions[field.name] = arrow_conversion(kind, str(field.type), column=field.name,
                                                       where=f"{describe}: {where}")
        except UnsupportedTypeError as error:
            raise PublishedTypeError(f"{error} (published type {field.type})") from None
    return conversions


def check_parquet(path: Path, taxi_type: str, *, describe: str, where: str, allow_empty: bool = False) -> int:
    """Validate a parquet file of ``taxi_type`` and return its row count.

    magic bytes -> footer readable by pyarrow -> signature and required columns of ``taxi_type`` -> published types
    (``check_published_types``) -> rows > 0 (unless ``allow_empty``).
    ``where`` is the URL/path named in messages (not the temp file being checked).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_parquet_magic(path, describe=describe, where=where)
    try:
        with pq.ParquetFile(path) as parquet_file:
            schema = parquet_file.schema_arrow
            columns = schema.names
            num_rows = parquet_file.metadata.num_rows
    except (pa.ArrowException, OSError, ValueError) as e:
        raise CorruptFileError(f"{describe}: {where} has an unreadable parquet footer: {e}") from None
    check_taxi_type(columns, taxi_type, describe=describe, where=where)
    check_required_columns(columns, taxi_type, describe=describe, where=where)
    check_published_types(schema, taxi_type, describe=describe, where=where)
    if num_rows == 0 and not allow_empty:
        raise EmptyMonthError(f"{describe}: {where} holds 0 rows")
    return num_rows


TEXT_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_wall_clock(texts):
    """Timestamps published as text -> naive timestamp[us] (pyarrow), null where none parses: ISO 8601 as the CSV path
    and Spark accept it (blanks ignored, ``''`` is null); fractions of a second are cut by the formats that lack them,
    which does not move a pickup to another month."""
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = pc.utf8_trim_whitespace(texts.cast(pa.string()))
    try:
        return pc.cast(pc.if_else(pc.equal(texts, ""), None, texts), pa.timestamp("us"))
    except pa.ArrowInvalid:  # some values are not plain ISO 8601: parse each format, keep the first that works
        parsed = [pc.strptime(texts, format=f, unit="us", error_is_null=True) for f in TEXT_TIMESTAMP_FORMATS]
        return pc.coalesce(*parsed)


# A month's file carries stray trips of other months (the TLC's real files: well under 1 % of a month, though their
# first rows are often strays); a file with (almost) no pickup in the month is another month's file (a mislabelled
# download, a wrong local path) and must not replace the month: its rows would all be quarantined as
# pickup_outside_month and the month's good data would be gone.
MIN_SHARE_IN_MONTH = 0.01


def check_month(path: Path, taxi_type: str, month: str, *, describe: str, where: str) -> None:
    """Raise ``WrongMonthError`` when (almost) no pickup of the parquet file at ``path`` falls in ``month`` ("YYYY-MM")."""
    from collections import Counter

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from taxi_platform.conversions import arrow_conversion
    from taxi_platform.schemas import PICKUP_DROPOFF

    wanted = PICKUP_DROPOFF[taxi_type][0]
    with pq.ParquetFile(path) as parquet_file:
        names = parquet_file.schema_arrow.names
        column = next((n for n in names if n.strip().lower() == wanted.lower()), None)
        if column is None:
            return  # check_required_columns names a missing pickup column
        field = parquet_file.schema_arrow.field(column)
        how = arrow_conversion("timestamp", str(field.type), column=column, where=where)
        if how not in ("wall_clock", "parse_timestamp"):
            return  # an all-null column: nothing to judge here (clean quarantines every row as missing_timestamp)
        months: Counter = Counter()
        rows = 0
        for index in range(parquet_file.num_row_groups):
            pickups = parquet_file.read_row_group(index, columns=[column]).column(0)
            rows += len(pickups)
            if how == "parse_timestamp":
                pickups = parse_wall_clock(pickups)
            keys = pc.add(pc.multiply(pc.year(pickups), 100), pc.month(pickups))
            for item in pc.value_counts(pc.drop_null(keys)).to_pylist():
                months[int(item["values"])] += int(item["counts"])
    with_pickup = sum(months.values())
    if rows and not with_pickup:
        raise CorruptFileError(f"{describe}: {where} has no pickup time ({column}) in any of its {rows} rows")
    year, number = (int(part) for part in month.split("-"))
    inside = months.get(year * 100 + number, 0)
    if with_pickup and inside / with_pickup < MIN_SHARE_IN_MONTH:
        top = ", ".join(f"{key // 100}-{key % 100:02d} ({n / with_pickup:.1%})" for key, n in months.most_common(3))
        raise WrongMonthError(
            f"{describe}: {where} is not a {month} file: only {inside} of its {with_pickup} pickups ({column}) fall in "
            f"{month} (less than {MIN_SHARE_IN_MONTH:.0%}); most are in {top}"
        )
