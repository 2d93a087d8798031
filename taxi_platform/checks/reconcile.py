"""Reconciliation checks: nothing is lost or invented between layers, per month.

- clean/{type}_trips ``raw_rows_reconcile``: raw rows == clean rows + quarantined rows, each month.
- core/trips ``rows_reconcile_with_clean``: core rows of each service_type == that type's clean rows, each month.
- reports/revenue_monthly_zone ``totals_reconcile_with_clean_trips``: per month and service_type, the sum of
  revenue_monthly_total_amount == the sum of total_amount of the clean trips, to the cent.

Each records one result per month of the run (``checks/results.py``) and reads all its datasets' months in ONE Spark
job: the datasets are unioned (only the month, the grouping keys and the summed value) and grouped once.
"""


from dagster import AssetCheckExecutionContext, AssetIn, AssetKey, MetadataValue, asset_check

from taxi_platform.checks.results import check_months, month_results
from taxi_platform.partitions import monthly_partitions
from taxi_platform.schemas import MONTH_COLUMN

CENT = 0.005  # two sums "equal to the cent" differ by less than half a cent
SOURCE, SERVICE, VALUE = "_source", "_service", "_value"  # the columns of a ``tagged`` frame


def tagged(df, source: str, service=None, value=None, month=None):
    """(month, _source, _service, _value) of ``df``: a literal month/service, or its own columns."""
    from pyspark.sql import functions as F

    return df.select(
        (F.col(MONTH_COLUMN) if month is None else F.lit(month)).alias(MONTH_COLUMN),
        F.lit(source).alias(SOURCE),
        F.col("service_type").alias(SERVICE) if service is None else F.lit(service).alias(SERVICE),
        (F.lit(0.0) if value is None else F.col(value).cast("double")).alias(VALUE),
    )


def counts_and_sums(parts: list) -> dict[tuple, tuple[int, float]]:
    """{(month, source, service): (rows, sum of value)} over the union of ``tagged`` frames, in one Spark job."""
    from functools import reduce

    from pyspark.sql import functions as F

    union = reduce(lambda a, b: a.unionByName(b), parts)
    rows = union.groupBy(MONTH_COLUMN, SOURCE, SERVICE).agg(F.count(F.lit(1)).alias("n"), F.sum(VALUE).alias("s"))
    return {(r[MONTH_COLUMN], r[SOURCE], r[SERVICE]): (int(r["n"]), float(r["s"] or 0.0)) for r in rows.collect()}


def build_raw_rows_check(clean_key: AssetKey, raw_key: AssetKey, quarantine_key: AssetKey):
    @asset_check(
        asset=clean_key,
        name="raw_rows_reconcile",
        description="Every raw row is either clean or quarantined: raw == clean + quarantine, per month.",
        additional_ins={"raw": AssetIn(key=raw_key), "quarantine": AssetIn(key=quarantine_key)},
        partitions_def=monthly_partitions,
    )
    def _check(context: AssetCheckExecutionContext, data, raw: dict, quarantine):
        months = check_months(context)
        parts = [tagged(raw[m], "raw", service="", month=m) for m in months]  # each month as published
        parts += [tagged(data, "clean", service=""), tagged(quarantine, "quarantine", service="")]
        counted = counts_and_sums(parts)
        by_month = {
            m: {layer: counted.get((m, layer, ""), (0, 0.0))[0] for layer in ("raw", "clean", "quarantine")}
            for m in months
        }
        off = sorted(m for m, c in by_month.items() if c["raw"] != c["clean"] + c["quarantine"])
        per_month = {
            m: (m not in off, {**c, "unaccounted_rows": c["raw"] - c["clean"] - c["quarantine"]})
            for m, c in by_month.items()
        }
        yield from month_results(
            context,
            per_month,
            {"rows_by_month": MetadataValue.json(by_month), "mismatched_months": MetadataValue.json(off)},
        )

    return _check


def build_trips_rows_check(trips_key: AssetKey, clean_keys: dict[str, AssetKey]):
    """``clean_keys``: {"green": key, "yellow": key}."""
    @asset_check(
        asset=trips_key,
        name="rows_reconcile_with_clean",
        description="Each service_type's rows in core/trips equal its clean dataset's rows, per month.",
        additional_ins={service: AssetIn(key=key) for service, key in clean_keys.items()},
        partitions_def=monthly_partitions,
    )
    def _check(context: AssetCheckExecutionContext, data, green, yellow):
        clean = {"green": green, "yellow": yellow}
        counted = counts_and_sums([tagged(data, "core")] + [tagged(df, "clean", service=s) for s, df in clean.items()])
        months = check_months(context)
        counts, per_month = {}, {}
        for month in months:
            month_counts = {
                service: {
                    "clean": counted.get((month, "clean", service), (0, 0.0))[0],
                    "core": counted.get((month, "core", service), (0, 0.0))[0],
                }
                for service in clean
            }
            off = [s for s, c in month_counts.items() if c["clean"] != c["core"]]
            month_metadata = {"rows": MetadataValue.json(month_counts), "mismatches": MetadataValue.json(off)}
            per_month[month] = (not off, month_metadata)
            counts.update({f"{month} {s}": c for s, c in month_counts.items()})
        mismatches = [name for name, c in counts.items() if c["clean"] != c["core"]]
        yield from month_results(
            context, per_month, {"rows": MetadataValue.json(counts), "mismatches": MetadataValue.json(mismatches)}
        )

    return _check


def build_report_totals_check(report_key: AssetKey, clean_keys: dict[str, AssetKey]):
    """``clean_keys``: {"green": key, "yellow": key}."""
    @asset_check(
        asset=report_key,
        name="totals_reconcile_with_clean_trips",
        description="Per month and service_type, sum(revenue_monthly_total_amount) == sum(total_amount) of the "
        "clean trips, to the cent.",
        additional_ins={service: AssetIn(key=key) for service, key in clean_keys.items()},
        partitions_def=monthly_partitions,
    )
    def _check(context: AssetCheckExecutionContext, data, green, yellow):
        clean = {"green": green, "yellow": yellow}
        counted = counts_and_sums(
            [tagged(data, "report", value="revenue_monthly_total_amount")]
            + [tagged(df, "trips", service=s, value="total_amount") for s, df in clean.items()]
        )
        totals, per_month = {}, {}
        for month in check_months(context):
            month_totals = {
                service: {
                    "trips": counted.get((month, "trips", service), (0, 0.0))[1],
                    "report": counted.get((month, "report", service), (0, 0.0))[1],
                }
                for service in clean
            }
            off = [s for s, t in month_totals.items() if abs(t["trips"] - t["report"]) >= CENT]
            extra = sorted(s for m, source, s in counted if m == month and source == "report" and s not in clean)
            rounded = {s: {side: round(v, 2) for side, v in t.items()} for s, t in month_totals.items()}
            per_month[month] = (
                not off and not extra,
                {
                    "totals": MetadataValue.json(rounded),
                    "mismatches": MetadataValue.json(off),
                    "unknown_service_types": MetadataValue.json(extra),
                },
            )
            totals.update({f"{month} {s}": t for s, t in rounded.items()})
        mismatches = [f"{m} {s}" for m, (_, meta) in per_month.items() for s in meta["mismatches"].value]
        extra = [f"{m} {s}" for m, (_, meta) in per_month.items() for s in meta["unknown_service_types"].value]
        yield from month_results(
            context,
            per_month,
            {
                "totals": MetadataValue.json(totals),
                "mismatches": MetadataValue.json(mismatches),
                "unknown_service_types": MetadataValue.json(extra),
            },
        )

    return _check
