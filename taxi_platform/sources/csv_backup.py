"""The course's (gzip) CSV backup, or any TLC-shaped CSV month -> one parquet file of the CSV's text.

Raw keeps the CSV as published: every course column is stored as the text the file holds (``''`` is null), under
the course schema's name and in its order. Converting that text is clean's job, through the same canonical
conversions as every other layout (``taxi_platform.conversions``: ``parse_whole``, ``parse_number``,
``parse_timestamp``), so a CSV month and the same trips published as a parquet month of text give identical clean
and quarantine rows, and a value that cannot be converted (``"abc"`` for a fare, ``1.5`` for a count, ``yesterday``
for a pickup) sends its row to quarantine as ``unparseable:<column>`` instead of refusing the whole month.

Parsing is streaming (``pyarrow.csv.open_csv`` over a gzip input stream, row batches appended with a ``ParquetWriter``),
so a large month never needs to be in memory at once. The header is matched to the schema case-insensitively (FHV's
``dropOff_datetime``, ``PUlocationID``, ``DOlocationID``); a column that some eras of a taxi type never published
(``OPTIONAL_CSV_COLUMNS``) is stored as nulls when absent; a column the course schema drops (``IGNORED_CSV_COLUMNS``)
is skipped, as the course's positional schema drops it.

What is truly unreadable is still refused, naming the file: a header that is not the taxi type's (a schema column
missing, an unknown extra column: ``CorruptFileError`` naming the columns), another taxi type's header
(``WrongTaxiTypeError``), bytes that are not a (gzip) CSV, a row with the wrong number of fields or text that is not
UTF-8 (``CorruptFileError`` carrying pyarrow's message, with the column named by its header name where pyarrow names
one by its 0-based index ``#16``).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from taxi_platform.schemas import COURSE_SCHEMAS
from taxi_platform.sources.atomic import atomic_output
from taxi_platform.sources.base import CorruptFileError, EmptyMonthError
from taxi_platform.sources.validate import check_taxi_type, taxi_types_of

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
BLOCK_SIZE = 4 << 20  # bytes of CSV text per parsed batch

# Columns of the course schema that some published eras do not have at all: filled with nulls when absent.
OPTIONAL_CSV_COLUMNS: dict[str, frozenset[str]] = {
    # The TLC's own 2019-2020 FHV CSVs have 6 columns; the course backup's have Affiliated_base_number too.
    "fhv": frozenset({"Affiliated_base_number"}),
    # Added by the TLC in 2019; older yellow/green files lack it.
    "yellow": frozenset({"congestion_surcharge"}),
    "green": frozenset({"congestion_surcharge"}),
}

# Published columns the course schema does not keep (skipped, lower-case).
IGNORED_CSV_COLUMNS: dict[str, frozenset[str]] = {
    "yellow": frozenset({"airport_fee"}),
}


@dataclass(frozen=True)
class HeaderPlan:
    """How a file's header maps onto the course schema."""

    read_names: list[str]  # one name per CSV column: the schema's name, or a placeholder for a skipped column
    present: list[str]  # schema columns present in the file
    absent_optional: list[str]  # optional schema columns the file does not have (filled with nulls)


def is_gzip(path: Path) -> bool:
    """True when ``path`` starts with the gzip magic (the name's suffix is not trusted)."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def read_header(path: Path, *, describe: str, where: str) -> list[str]:
    """The header row of a (possibly gzip) CSV file, as a list of names."""
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as raw:
            line = raw.readline(1 << 16)
    except (OSError, EOFError, zlib.error) as e:
        raise CorruptFileError(f"{describe}: {where} is not a readable gzip CSV file: {e}") from None
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorruptFileError(f"{describe}: {where} does not start with a CSV header (not UTF-8 text)") from None
    if not text.strip():
        raise CorruptFileError(f"{describe}: {where} is empty: no CSV header")
    return [name.strip() for name in next(csv.reader(io.StringIO(text)))]


def plan_header(header: Sequence[str], taxi_type: str, *, describe: str, where: str) -> HeaderPlan:
    """Map ``header`` onto the course schema of ``taxi_type``, or raise naming what does not fit."""
    found = taxi_types_of(header)
    if found and found != [taxi_type]:
        check_taxi_type(list(header), taxi_type, describe=describe, where=where)  # raises WrongTaxiTypeError

    schema_names = [name for name, _ in COURSE_SCHEMAS[taxi_type]]
    by_lower = {name.lower(): name for name in schema_names}
    ignored = IGNORED_CSV_COLUMNS.get(taxi_type, frozenset())
    optional = OPTIONAL_CSV_COLUMNS.get(taxi_type, frozenset())

    read_names: list[str] = []
    present: list[str] = []
    unexpected: list[str] = []
    duplicated: list[str] = []
    for position, raw in enumerate(header):
        key = raw.strip().lower()
        if key in by_lower:
            name = by_lower[key]
            if name in present:
                duplicated.append(raw)
                name = f"__duplicate_{position}"
            else:
                present.append(name)
        elif key in ignored:
            name = f"__ignored_{position}"
        else:
            unexpected.append(raw or f"(empty name at position {position + 1})")
            name = f"__unexpected_{position}"
        read_names.append(name)

    missing = [name for name in schema_names if name not in present and name not in optional]
    if missing or unexpected or duplicated:
        problems = []
        if missing:
            problems.append(f"missing columns {missing}")
        if unexpected:
            problems.append(f"unexpected columns {unexpected}")
        if duplicated:
            problems.append(f"duplicated columns {duplicated}")
        raise CorruptFileError(
            f"{describe}: {where} does not have the {taxi_type} CSV header: {'; '.join(problems)}; "
            f"header: {', '.join(header)}"
        )
    absent_optional = [name for name in schema_names if name in optional and name not in present]
    return HeaderPlan(read_names=read_names, present=present, absent_optional=absent_optional)


_CSV_COLUMN_INDEX = re.compile(r"CSV column #(\d+)")


def name_csv_columns(message: str, header: Sequence[str]) -> str:
    """pyarrow's "In CSV column #16: ..." with the column's header name: "In CSV column total_amount (#17): ..."."""

    def named(match: re.Match) -> str:
        index = int(match.group(1))
        return f"CSV column {header[index]} (#{index + 1})" if index < len(header) else match.group(0)

    return _CSV_COLUMN_INDEX.sub(named, message)


def text_schema(taxi_type: str):
    """The pyarrow schema raw stores a CSV month in: the course columns of ``taxi_type``, in order, all text."""
    import pyarrow as pa

    return pa.schema([pa.field(name, pa.string(), nullable=True) for name, _ in COURSE_SCHEMAS[taxi_type]])


def csv_to_parquet(sources: Sequence[Path], dest: Path, taxi_type: str, *, describe: str, wheres: Sequence[str]) -> int:
    """Parse the CSV file(s) ``sources`` (gzip or plain) into ONE parquet file ``dest`` of their text
    (``text_schema``: the course columns, all strings, ``''`` as null).

    ``wheres`` names each source in messages (its URL or path). ``dest`` appears only when complete.
    Returns the number of rows; raises ``EmptyMonthError`` when all files together have none.
    """
    import pyarrow.parquet as pq

    if len(sources) != len(wheres):
        raise ValueError("sources and wheres must have the same length")
    schema = text_schema(taxi_type)
    rows = 0
    with atomic_output(Path(dest)) as tmp:
        with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
            for source, where in zip(sources, wheres):
                rows += _append_csv(Path(source), writer, taxi_type, describe=describe, where=where)
        if rows == 0:
            raise EmptyMonthError(f"{describe}: {', '.join(wheres)} holds 0 rows (header only)")
    return rows


def _append_csv(source: Path, writer, taxi_type: str, *, describe: str, where: str) -> int:
    """Parse one CSV file batch by batch into ``writer``; returns its row count."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    schema = text_schema(taxi_type)
    header = read_header(source, describe=describe, where=where)
    plan = plan_header(header, taxi_type, describe=describe, where=where)
    if plan.absent_optional:
        logger.info("%s: %s has no %s; filled with nulls", describe, where, ", ".join(plan.absent_optional))

    # Every column is read as text: clean converts it (``conversions``), quarantining what cannot be converted.
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in plan.present},
        include_columns=plan.present,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    read = pacsv.ReadOptions(skip_rows=1, column_names=plan.read_names, block_size=BLOCK_SIZE)
    compression = "gzip" if is_gzip(source) else None

    rows = 0
    try:
        with pa.input_stream(str(source), compression=compression) as stream:
            reader = pacsv.open_csv(stream, read_options=read, convert_options=convert)
            for batch in reader:
                arrays = []
                for field in schema:
                    if field.name in plan.present:
                        arrays.append(batch.column(field.name))
                    else:
                        arrays.append(pa.nulls(batch.num_rows, type=field.type))
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                rows += batch.num_rows
    except (pa.ArrowException, OSError, EOFError, zlib.error) as e:
        message = name_csv_columns(str(e), header)
        raise CorruptFileError(f"{describe}: cannot parse {where} as a {taxi_type} CSV: {message}") from None
    logger.info("%s: parsed %d rows from %s", describe, rows, where)
    return rows
