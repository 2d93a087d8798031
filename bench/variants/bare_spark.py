"""(b) The platform's datasets from a bare PySpark script: one session, the platform's own transforms, no Dagster.

The copy search is the one of the day #17 fixed this reference (``common.reference_classify``, a Window).

raw months -> clean + quarantine (per taxi type) -> core/trips -> reports/revenue_monthly_zone, each written as
parquet partitioned by month (Hive-style ``month=YYYY-MM`` folders, like the lake), each read back from disk by the
next step, as a script by hand would do it. Timed sections: session start, clean, core, report.
"""

from __future__ import annotations

import shutil

from bench.variants.common import (TAXI_TYPES, Timer, bare_session, months_of, parser, raw_file, reference_classify,
                                   write_result)


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    months = months_of(args)
    shutil.rmtree(args.out, ignore_errors=True)
    timer = Timer()
    with timer.section("session"):
        spark = bare_session(args.master, args.driver_memory, "bench-bare-spark")
    from taxi_platform.schemas import MONTH_COLUMN
    from taxi_platform.transforms.conform import conform_months
    from taxi_platform.transforms.quarantine import clean_rows, quarantined_rows
    from taxi_platform.transforms.revenue import revenue_monthly_zone
    from taxi_platform.transforms.trips import combine_trips

    out = args.out.resolve()
    try:
        with timer.section("clean"):
            for taxi_type in TAXI_TYPES:
                published = {m: spark.read.parquet(raw_file(args.raw, taxi_type, m)) for m in months}
                classified = reference_classify(conform_months(published, taxi_type))
                clean_rows(classified).write.mode("overwrite").partitionBy(MONTH_COLUMN).parquet(
                    str(out / "clean" / f"{taxi_type}_trips"))
                quarantined_rows(classified).write.mode("overwrite").partitionBy(MONTH_COLUMN).parquet(
                    str(out / "quarantine" / f"{taxi_type}_trips"))
        with timer.section("core"):
            clean = {t: spark.read.parquet(str(out / "clean" / f"{t}_trips")) for t in TAXI_TYPES}
            combine_trips(clean["green"], clean["yellow"]).write.mode("overwrite").partitionBy(MONTH_COLUMN).parquet(
                str(out / "core" / "trips"))
        with timer.section("report"):
            trips = spark.read.parquet(str(out / "core" / "trips"))
            report = revenue_monthly_zone(trips, pickups_in_month=True)
            report.repartition(MONTH_COLUMN).write.mode("overwrite").partitionBy(MONTH_COLUMN).parquet(
                str(out / "reports" / "revenue_monthly_zone"))
        version = spark.version
    finally:
        with timer.section("stop"):
            spark.stop()
    write_result(args.result, sections=timer.sections, spark_version=version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
