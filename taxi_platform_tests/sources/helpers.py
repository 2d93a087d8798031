"""Real-format test data for the sources tests: course-schema tables, parquet bytes, the real TLC CSV heads."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.schemas import COURSE_SCHEMAS, arrow_schema

TLC_CSV_HEADS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tlc_csv_heads"


def trips_table(taxi_type: str, rows: int, *, start: str = "2021-01-01", first_id: int = 1) -> pa.Table:
    """A small table with the course schema of ``taxi_type`` (deterministic values)."""
    schema = arrow_schema(COURSE_SCHEMAS[taxi_type])
    t0 = datetime.fromisoformat(start)
    columns = {}
    for field in schema:
        if pa.types.is_timestamp(field.type):
            offset = 0 if "pickup" in field.name.lower() else 600
            values = [t0 + timedelta(minutes=i, seconds=offset) for i in range(rows)]
        elif pa.types.is_integer(field.type):
            values = [first_id + i for i in range(rows)]
        elif pa.types.is_floating(field.type):
            values = [round(0.5 * (first_id + i), 2) for i in range(rows)]
        else:
            values = [f"{field.name[:2]}{first_id + i:05d}" for i in range(rows)]
        columns[field.name] = pa.array(values, type=field.type)
    return pa.table(columns, schema=schema)


def parquet_bytes(table: pa.Table, tmp_dir: Path, name: str = "t.parquet") -> bytes:
    path = tmp_dir / name
    pq.write_table(table, path)
    return path.read_bytes()


def require_heads() -> Path:
    if not TLC_CSV_HEADS.is_dir():
        pytest.skip(f"real TLC CSV heads not found at {TLC_CSV_HEADS} (shared data folder absent)")
    return TLC_CSV_HEADS


def head_text(name: str) -> str:
    """The text of a real TLC CSV head, e.g. ``head_text("green_tripdata_2019-01.csv")``."""
    path = require_heads() / name
    if not path.exists():
        pytest.skip(f"real TLC CSV head {path} is absent")
    return path.read_text()


def data_lines(text: str) -> int:
    return sum(1 for line in text.splitlines()[1:] if line.strip())


def gz(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)
