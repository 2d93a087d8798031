"""The reports of the variants, read back and compared row by row (the benchmark means nothing if they differ)."""

from __future__ import annotations

import math
from pathlib import Path

REPORT = Path("reports") / "revenue_monthly_zone"
KEYS = ("month", "revenue_zone", "service_type")


def report_rows(out: Path) -> dict[tuple, dict]:
    """{(month, zone, service_type): {column: value}} of a variant's report (Hive ``month=`` folders, any writer).

    ``revenue_month`` becomes "YYYY-MM-DD HH:MM:SS" whatever the writer's timestamp flavour (Spark writes
    UTC-adjusted timestamps, DuckDB naive ones: the wall-clock value is what the report means).
    """
    import pyarrow.dataset as ds
    import pyarrow.types as pat

    folder = Path(out) / REPORT
    files = [str(p) for p in sorted(folder.glob("month=*/*.parquet"))]
    rows: dict[tuple, dict] = {}
    for name in files:
        month = Path(name).parent.name.split("=", 1)[1]
        table = ds.dataset(name, format="parquet").to_table()
        when = table.column("revenue_month")
        if pat.is_timestamp(when.type) and when.type.tz is not None:
            table = table.set_column(table.schema.get_field_index("revenue_month"), "revenue_month",
                                     when.cast(f"timestamp[{when.type.unit}]"))
        for row in table.to_pylist():
            row["month"] = month
            row["revenue_month"] = row["revenue_month"].strftime("%Y-%m-%d %H:%M:%S")
            rows[tuple(row[k] for k in KEYS)] = row
    return rows


def differences(expected: dict, actual: dict, rel: float = 1e-9, absolute: float = 1e-6, limit: int = 5) -> list[str]:
    """What differs between two reports (empty when equal; sums compared to float tolerance)."""
    problems = []
    if missing := sorted(set(expected) - set(actual)):
        problems.append(f"{len(missing)} rows missing, e.g. {missing[:3]}")
    if extra := sorted(set(actual) - set(expected)):
        problems.append(f"{len(extra)} rows extra, e.g. {extra[:3]}")
    for key in sorted(set(expected) & set(actual)):
        a, b = expected[key], actual[key]
        for column in a:
            x, y = a[column], b.get(column)
            same = x == y or (isinstance(x, float) and isinstance(y, float)
                              and math.isclose(x, y, rel_tol=rel, abs_tol=absolute))
            if not same:
                problems.append(f"{key} {column}: {x!r} vs {y!r}")
                if len(problems) >= limit:
                    return problems
    return problems


DATASETS = ("clean/green_trips", "clean/yellow_trips", "quarantine/green_trips", "quarantine/yellow_trips",
            "core/trips")


def dataset_rows(out: Path) -> dict[str, dict[str, int]]:
    """{dataset: {month: rows}} from the parquet footers of a variant's datasets (no data read)."""
    import pyarrow.parquet as pq

    counts: dict[str, dict[str, int]] = {}
    for dataset in DATASETS:
        for name in sorted((Path(out) / dataset).glob("month=*/*.parquet")):
            month = name.parent.name.split("=", 1)[1]
            by_month = counts.setdefault(dataset, {})
            by_month[month] = by_month.get(month, 0) + pq.ParquetFile(name).metadata.num_rows
    return counts


def files_per_month(out: Path) -> dict[str, float]:
    """The mean number of parquet files per month folder of each dataset (tiny files show up here)."""
    result = {}
    for dataset in (*DATASETS, str(REPORT)):
        folders = [p for p in (Path(out) / dataset).glob("month=*") if p.is_dir()]
        if folders:
            result[dataset] = round(sum(len(list(f.glob("*.parquet"))) for f in folders) / len(folders), 2)
    return result


QUARANTINES = ("quarantine/green_trips", "quarantine/yellow_trips")


def quarantine_reasons(out: Path) -> dict[str, dict[str, dict[str, int]]]:
    """{quarantine dataset: {month: {quarantine_reason: rows}}} of a variant (only the reason column is read)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    reasons: dict[str, dict[str, dict[str, int]]] = {}
    for dataset in QUARANTINES:
        for name in sorted((Path(out) / dataset).glob("month=*/*.parquet")):
            month = name.parent.name.split("=", 1)[1]
            by_reason = reasons.setdefault(dataset, {}).setdefault(month, {})
            column = pq.read_table(name, columns=["quarantine_reason"]).column(0)
            for item in pc.value_counts(column).to_pylist():
                by_reason[item["values"]] = by_reason.get(item["values"], 0) + item["counts"]
    return reasons
