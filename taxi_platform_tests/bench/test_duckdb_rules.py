"""The DuckDB bench variant applies the platform's conversions and quarantine rules: on the type matrix's trips it
gives exactly the clean and quarantine rows clean gives (``published.expected_rows*``), ``unparseable:<column>`` and
``duplicate_row`` included, so the benchmark compares equal work (no Spark here: DuckDB alone)."""

from __future__ import annotations

import pytest

from bench.variants.duckdb_pipeline import classify_sql, conform_sql
from taxi_platform_tests.transforms.published import (
    MONTH,
    expected_rows,
    expected_rows_with_bad_cells,
    publish,
    text_parquet,
    text_rows_with_bad_cells,
    write_parquet,
)


def duckdb_rows(path, taxi_type: str) -> list[tuple]:
    """(clean columns..., quarantine_reason) of one month through the DuckDB variant's SQL, sorted."""
    import duckdb

    con = duckdb.connect()
    cursor = con.execute(classify_sql(conform_sql(con, str(path), taxi_type, MONTH), taxi_type))
    names = [d[0] for d in cursor.description]
    return sorted((tuple(v for n, v in zip(names, row) if n != "month") for row in cursor.fetchall()), key=repr)


@pytest.mark.parametrize("taxi_type", ["green", "yellow"])
@pytest.mark.parametrize("variant", ["int32_ms", "double_ns", "int96", "text", "typeless_nulls"])
def test_every_published_type_gives_the_platforms_rows(tmp_path, taxi_type, variant):
    path = write_parquet(publish(taxi_type, variant), tmp_path / "month.parquet", variant)
    assert duckdb_rows(path, taxi_type) == expected_rows(taxi_type)


@pytest.mark.parametrize("taxi_type", ["green", "yellow"])
def test_unparseable_cells_and_exact_copies_are_quarantined_like_the_platform(tmp_path, taxi_type):
    rows = text_rows_with_bad_cells(taxi_type)
    path = text_parquet(rows + [rows[1], rows[1]], taxi_type, tmp_path / "month.parquet")  # two copies of a trip
    expected = expected_rows_with_bad_cells(taxi_type)
    got = duckdb_rows(path, taxi_type)
    duplicates = [r for r in got if r[-1] == "duplicate_row"]
    assert len(duplicates) == 2
    assert sorted((r for r in got if r[-1] != "duplicate_row"), key=repr) == expected
    assert len({d[:-1] for d in duplicates}) == 1 and duplicates[0][:-1] in [e[:-1] for e in expected]
