"""(d) DuckDB doing (b)'s work (raw -> clean + quarantine -> core -> report, the same rules, written the same way),
or, with ``--report-only TRIPS``, the report SQL alone over already written core trips.

The platform's conform and quarantine rules are spelled here in SQL from the same contracts
(``taxi_platform/schemas.py``), the same canonical conversion per column (``taxi_platform/conversions.py``, with its
``unparseable:<column>`` verdicts) and the same rules in the same order (``transforms/quarantine.py``, ending with
``duplicate_row``); the benchmark compares the reports of (a), (b) and (d) row by row and their datasets' rows per
month and quarantine reason, so a rule that drifted apart shows up as a failed comparison.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.variants.common import TAXI_TYPES, Timer, months_of, parser, raw_file, write_result

SQL_TYPES = {"int": "INTEGER", "double": "DOUBLE", "string": "VARCHAR", "timestamp": "TIMESTAMP"}
UNPARSEABLE = "_unparseable_column"  # conform.UNPARSEABLE_COLUMN: the first column whose value could not be converted


def duckdb_family(type_name: str) -> str:
    """The ``taxi_platform.conversions`` family of a DuckDB type as ``DESCRIBE`` shows it."""
    from taxi_platform import conversions as c

    name = type_name.strip().strip('"').upper()
    if name in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT"):
        return c.INTEGER
    if name in ("FLOAT", "DOUBLE") or name.startswith("DECIMAL"):
        return c.FLOAT
    if name == "VARCHAR":
        return c.TEXT
    if name == "BOOLEAN":
        return c.BOOLEAN
    if name == "BLOB":
        return c.BINARY
    if name == "NULL":
        return c.NULL
    if name.startswith("TIMESTAMP WITH TIME ZONE") or name == "TIMESTAMPTZ":
        return c.ZONED_TIMESTAMP
    if name.startswith("TIMESTAMP"):
        return c.WALL_TIMESTAMP
    if name == "DATE":
        return c.DATE
    return c.OTHER


def converted(column: str, how: str, kind: str, published_type: str) -> str:
    """conform.converted's SQL (plain SQL both engines read alike), except where DuckDB differs: it reads nanosecond
    timestamps as TIMESTAMP_NS (floored to microseconds here, as Spark's nanosAsLong path does) and has no
    TIMESTAMP_NTZ (its TIMESTAMP is the naive wall clock)."""
    from taxi_platform.transforms import conform

    if how == "wall_clock" and published_type.strip('"').upper() == "TIMESTAMP_NS":
        return f"make_timestamp(epoch_ns({column}) // 1000)"
    if how == "parse_timestamp":
        return f"try_cast(nullif(trim({column}), '') AS TIMESTAMP)"
    return conform.converted(column, how, kind)


def conform_sql(con, path: str, taxi_type: str, month: str) -> str:
    """SELECT of one published month in the clean contract's columns and order, + the unparseable column + month
    (conform.py's rules: the same ``taxi_platform.conversions`` decision per column, spelled in DuckDB SQL)."""
    from taxi_platform.conversions import FALLIBLE, conversion
    from taxi_platform.schemas import CLEAN_SCHEMAS, COURSE_SCHEMAS
    from taxi_platform.transforms.conform import failed

    published = {row[0].lower(): (row[0], row[1]) for row in con.execute(
        f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    columns, failures = [], []
    for (name, _), (clean_name, kind) in zip(COURSE_SCHEMAS[taxi_type], CLEAN_SCHEMAS[taxi_type]):
        if name.lower() not in published:
            columns.append(f"CAST(NULL AS {SQL_TYPES[kind]}) AS {clean_name}")
            continue
        source, published_type = published[name.lower()]
        column = f'"{source}"'
        how = conversion(kind, duckdb_family(published_type), column=source, where=path)
        value = converted(column, how, kind, published_type)
        columns.append(f"{value} AS {clean_name}")
        if how in FALLIBLE:
            failures.append(f"WHEN {failed(column, how, value)} THEN '{clean_name}'")
    unparseable = f"CASE {' '.join(failures)} END" if failures else "CAST(NULL AS VARCHAR)"
    return f"SELECT {', '.join(columns)}, {unparseable} AS {UNPARSEABLE}, '{month}' AS month FROM read_parquet('{path}')"


def classify_sql(conformed: str, taxi_type: str) -> str:
    """quarantine.classify in order: unparseable:<column>, the rules, duplicate_row (a copy of a row before it:
    every column, the month and the unparseable verdict equal); the first one a row breaks, or NULL."""
    from taxi_platform.reference import MAX_ZONE_ID, MIN_ZONE_ID
    from taxi_platform.schemas import CLEAN_SCHEMAS
    from taxi_platform.transforms.quarantine import DUPLICATE_ROW, MAX_TOTAL_AMOUNT, MAX_TRIP_SECONDS, UNPARSEABLE_PREFIX

    every_column = ", ".join([name for name, _ in CLEAN_SCHEMAS[taxi_type]] + [UNPARSEABLE, "month"])

    start = "strptime(month || '-01', '%Y-%m-%d')"
    outside = lambda z: f"({z} IS NULL OR {z} < {MIN_ZONE_ID} OR {z} > {MAX_ZONE_ID})"  # noqa: E731
    seconds = "(epoch_us(dropoff_datetime) // 1000000 - epoch_us(pickup_datetime) // 1000000)"
    return f"""
        SELECT * EXCLUDE ({UNPARSEABLE}, _copy), CASE
            WHEN {UNPARSEABLE} IS NOT NULL THEN '{UNPARSEABLE_PREFIX}' || {UNPARSEABLE}
            WHEN pickup_datetime IS NULL OR dropoff_datetime IS NULL THEN 'missing_timestamp'
            WHEN pickup_datetime < {start} OR pickup_datetime >= {start} + INTERVAL 1 MONTH THEN 'pickup_outside_month'
            WHEN dropoff_datetime < pickup_datetime THEN 'dropoff_before_pickup'
            WHEN {seconds} > {MAX_TRIP_SECONDS} THEN 'trip_longer_than_24h'
            WHEN {outside('PULocationID')} OR {outside('DOLocationID')} THEN 'unknown_zone'
            WHEN fare_amount < 0 OR total_amount < 0 THEN 'negative_amount'
            WHEN trip_distance < 0 THEN 'negative_distance'
            WHEN total_amount > {MAX_TOTAL_AMOUNT} THEN 'absurd_amount'
            WHEN _copy > 1 THEN '{DUPLICATE_ROW}'
        END AS quarantine_reason
        FROM (SELECT *, row_number() OVER (PARTITION BY {every_column}) AS _copy FROM ({conformed}))"""


def report_sql(trips: str) -> str:
    from taxi_platform.transforms.revenue import REVENUE_MONTHLY_ZONE_AGGREGATES

    aggregates = ", ".join(f"{agg}({col}) AS {name}" for name, agg, col in REVENUE_MONTHLY_ZONE_AGGREGATES)
    return f"""SELECT PULocationID AS revenue_zone, date_trunc('month', pickup_datetime) AS revenue_month,
                      service_type, {aggregates}, month
               FROM {trips} GROUP BY revenue_zone, revenue_month, service_type, month"""


def copy(con, query: str, folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({query}) TO '{folder}' (FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)")


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--report-only", default=None, help="core trips folder (month=YYYY-MM/*.parquet): the report alone")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    months = months_of(args)
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    timer = Timer()
    with timer.section("connect"):
        import duckdb

        con = duckdb.connect()
        if args.threads:
            con.execute(f"SET threads = {args.threads}")
    if args.report_only:
        with timer.section("report"):
            trips = f"read_parquet('{Path(args.report_only).resolve()}/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)"
            copy(con, report_sql(trips), out / "reports" / "revenue_monthly_zone")
        write_result(args.result, sections=timer.sections, duckdb_version=duckdb.__version__)
        return 0

    from taxi_platform.schemas import TRIPS_COLUMNS

    with timer.section("clean"):
        for taxi_type in TAXI_TYPES:
            conformed = " UNION ALL ".join(
                conform_sql(con, raw_file(args.raw, taxi_type, m), taxi_type, m) for m in months)
            con.execute(f"CREATE OR REPLACE TEMP VIEW classified AS {classify_sql(conformed, taxi_type)}")
            copy(con, "SELECT * EXCLUDE (quarantine_reason) FROM classified WHERE quarantine_reason IS NULL",
                 out / "clean" / f"{taxi_type}_trips")
            copy(con, "SELECT * FROM classified WHERE quarantine_reason IS NOT NULL",
                 out / "quarantine" / f"{taxi_type}_trips")
    with timer.section("core"):
        common = ", ".join(TRIPS_COLUMNS)
        union = " UNION ALL ".join(
            f"SELECT {common}, '{t}' AS service_type, month FROM "
            f"read_parquet('{out}/clean/{t}_trips/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)" for t in TAXI_TYPES)
        copy(con, union, out / "core" / "trips")
    with timer.section("report"):
        trips = f"read_parquet('{out}/core/trips/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)"
        copy(con, report_sql(trips), out / "reports" / "revenue_monthly_zone")
    write_result(args.result, sections=timer.sections, duckdb_version=duckdb.__version__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
