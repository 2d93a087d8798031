"""One canonical conversion per contract column, decided by the type the month was published in.

The same trip must give the same clean row whatever physical type its month was published in (the TLC's eras, the
course's CSV backup, pandas/ADF conversions, Spark-written folders). ``conversion(kind, published_type)`` is the one
place that decides how a published column becomes its contract type (``schemas.py`` kinds: int, double, string,
timestamp); raw's checks (``sources/validate.py``, pyarrow) and clean (``transforms/conform.py``, Spark SQL) both ask
it, so they never disagree. No Spark and no pyarrow import here.

| contract kind | published as                              | conversion          | a value that cannot be converted      |
|---------------|-------------------------------------------|---------------------|---------------------------------------|
| int           | any integer                               | ``integer``         | out of the int range                  |
| int           | float/double/decimal                      | ``whole_number``    | not whole (1.5), NaN, out of range    |
| int           | text                                      | ``parse_whole``     | not a number, or not whole            |
| double        | any number                                | ``number``          | (none)                                |
| double        | text                                      | ``parse_number``    | not a number                          |
| string        | text                                      | ``text``            | (none)                                |
| string        | a number (SR_Flag as double, codes as int)| ``code_text``       | (none): 1.0 -> "1", 1.5 -> "1.5"      |
| string        | boolean, binary                           | ``text_of``         | (none)                                |
| timestamp     | naive timestamp (s/ms/us), TIMESTAMP_NTZ, INT96 | ``wall_clock``| (none)                                |
| timestamp     | nanoseconds (Spark reads them as longs)   | ``nanos``           | (none)                                |
| timestamp     | text ("YYYY-MM-DD HH:MM:SS", ISO 8601)    | ``parse_timestamp`` | not a timestamp                       |
| any           | an all-null column of no type             | ``all_null``        | (none)                                |

Text is parsed the same way whoever published it (a parquet month of text columns, or a CSV month, which raw keeps as
the CSV's text: ``sources/csv_backup.py``): surrounding blanks ignored, ``''`` is null. A value that cannot be
converted is never a crash: clean quarantines its row as ``unparseable:<column>``.

Timestamps are New York wall clocks, as the TLC publishes them. A zoned timestamp (parquet ``isAdjustedToUTC=true``,
a ``tz`` in the arrow type, what pandas writes after ``tz_localize``) is an instant, not a wall clock, and Spark cannot
tell it from INT96 once read; raw refuses such a file (``UnsupportedTypeError`` naming the file, column and zone)
rather than let clean shift every trip by the zone's offset. Convert it before handing it over, e.g. with pandas
``s.dt.tz_convert("America/New_York").dt.tz_localize(None)``.
"""

from __future__ import annotations

import re
from typing import Optional

WALL_CLOCK_ZONE = "America/New_York"

# Published type families (engine-independent names of what a column holds).
INTEGER, FLOAT, TEXT, BOOLEAN, BINARY, NULL = "integer", "float", "text", "boolean", "binary", "null"
WALL_TIMESTAMP, ZONED_TIMESTAMP, INSTANT_OR_INT96, DATE, OTHER = "wall_timestamp", "zoned_timestamp", "ltz", "date", "other"

_ARROW_INTEGER = re.compile(r"^u?int(8|16|32|64)$")
_SPARK_INTEGER = {"tinyint", "smallint", "int", "bigint", "byte", "short", "integer", "long"}
_ARROW_TIMESTAMP = re.compile(r"^timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]$")
_DICTIONARY = re.compile(r"^dictionary<values=([^,]+),")


class UnsupportedTypeError(ValueError):
    """A published column's type has no canonical conversion to its contract kind (e.g. a zoned timestamp)."""


def arrow_family(type_name: str) -> tuple[str, Optional[str]]:
    """(family, zone) of a pyarrow type as ``str(pa.DataType)`` shows it (``timestamp[ns, tz=UTC]`` -> zoned, "UTC")."""
    name = type_name.strip()
    if match := _DICTIONARY.match(name):  # pandas categoricals: what matters is the values' type
        name = match.group(1).strip()
    if _ARROW_INTEGER.match(name):
        return INTEGER, None
    if name in ("double", "float", "halffloat") or name.startswith("decimal"):
        return FLOAT, None
    if name in ("string", "large_string", "string_view", "utf8", "large_utf8"):
        return TEXT, None
    if name in ("binary", "large_binary", "binary_view"):
        return BINARY, None
    if name == "bool":
        return BOOLEAN, None
    if name == "null":
        return NULL, None
    if match := _ARROW_TIMESTAMP.match(name):
        return (ZONED_TIMESTAMP, match.group(2)) if match.group(2) else (WALL_TIMESTAMP, None)
    if name.startswith("date"):
        return DATE, None
    return OTHER, None


def spark_family(type_name: str) -> str:
    """The family of a Spark ``simpleString`` type, as clean sees a raw month.

    Spark reads parquet ``TIMESTAMP(isAdjustedToUTC=false)`` as ``timestamp_ntz`` (a wall clock), INT96 and
    ``isAdjustedToUTC=true`` as ``timestamp`` (raw refuses the zoned ones, so clean only meets INT96 there, which
    pyarrow reads as a naive wall clock), and nanosecond timestamps as ``bigint`` (``spark.sql.legacy.parquet.
    nanosAsLong``); ``conversion`` knows that a ``bigint`` where a timestamp is due holds nanoseconds.
    """
    name = type_name.strip().lower()
    if name in _SPARK_INTEGER:
        return INTEGER
    if name in ("float", "double") or name.startswith("decimal"):
        return FLOAT
    if name == "string" or name.startswith(("varchar", "char")):
        return TEXT
    if name == "binary":
        return BINARY
    if name == "boolean":
        return BOOLEAN
    if name in ("void", "null"):
        return NULL
    if name == "timestamp_ntz":
        return WALL_TIMESTAMP
    if name == "timestamp":
        return INSTANT_OR_INT96
    if name == "date":
        return DATE
    return OTHER


# (contract kind, family) -> conversion; anything absent has no canonical conversion.
_CONVERSIONS: dict[tuple[str, str], str] = {
    ("int", INTEGER): "integer",
    ("int", FLOAT): "whole_number",
    ("int", TEXT): "parse_whole",
    ("long", INTEGER): "integer",
    ("long", FLOAT): "whole_number",
    ("long", TEXT): "parse_whole",
    ("double", INTEGER): "number",
    ("double", FLOAT): "number",
    ("double", TEXT): "parse_number",
    ("string", TEXT): "text",
    ("string", INTEGER): "code_text",
    ("string", FLOAT): "code_text",
    ("string", BOOLEAN): "text_of",
    ("string", BINARY): "text_of",
    ("timestamp", WALL_TIMESTAMP): "wall_clock",
    ("timestamp", INSTANT_OR_INT96): "wall_clock",
    ("timestamp", TEXT): "parse_timestamp",
    ("timestamp", DATE): "wall_clock",
}

# Conversions that can meet a value they cannot convert (its row is quarantined as unparseable:<column>).
FALLIBLE = frozenset({"integer", "whole_number", "parse_whole", "parse_number", "parse_timestamp"})


def conversion(kind: str, family: str, *, nanos_as_long: bool = False, zone: Optional[str] = None,
               column: str = "", where: str = "") -> str:
    """The canonical conversion of a column published as ``family`` to the contract ``kind`` (table above).

    ``nanos_as_long``: the engine read nanosecond timestamps as 64-bit integers (Spark), so an integer where a
    timestamp is due is nanoseconds since the epoch. Raises ``UnsupportedTypeError`` naming ``column``, ``where``
    and the zone for a zoned timestamp or any type with no canonical conversion.
    """
    if family == NULL:
        return "all_null"
    if kind == "timestamp" and family == INTEGER and nanos_as_long:
        return "nanos"
    at = f"{where}: " if where else ""
    if family == ZONED_TIMESTAMP:
        raise UnsupportedTypeError(
            f"{at}column {column} holds zoned timestamps (time zone {zone}): TLC times are New York wall clocks; "
            f"write them as naive local times, e.g. pandas s.dt.tz_convert('{WALL_CLOCK_ZONE}').dt.tz_localize(None)"
        )
    try:
        return _CONVERSIONS[(kind, family)]
    except KeyError:
        raise UnsupportedTypeError(
            f"{at}column {column} is published as {family}, which has no conversion to the contract's {kind}"
        ) from None


def arrow_conversion(kind: str, type_name: str, *, column: str = "", where: str = "") -> str:
    """``conversion`` for a column as pyarrow reads it (raw's checks); ``type_name`` is ``str(arrow type)``."""
    family, zone = arrow_family(type_name)
    return conversion(kind, family, zone=zone, column=column, where=where)


def spark_conversion(kind: str, type_name: str, *, column: str = "", where: str = "") -> str:
    """``conversion`` for a column as Spark reads it (clean); ``type_name`` is a Spark ``simpleString``."""
    return conversion(kind, spark_family(type_name), nanos_as_long=True, column=column, where=where)
