"""Reconciliation checks: nothing is lost or invented between layers, per month.

- clean/{type}_trips ``raw_rows_reconcile``: raw rows == clean rows + quarantined rows, each month.
- core/trips ``rows_reconcile_with_clean``: core rows of each service_type == that type's clean rows, each month.
- reports/revenue_monthly_zone ``totals_reconcile_with_clean_trips``: per month and service_type, the sum of
  revenue_monthly_total_amount == the sum of total_amount of the clean trips, to the cent.
"""


from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetIn,
    AssetKey,
    MetadataValue,
    asset_check,
)

from taxi_platform.partitions import monthly_partitions
from taxi_platform.schemas import MONTH_COLUMN

CENT = 0.005  # two sums "equal to the cent" differ by less than half a cent


def rows_by(df, *columns: str) -> dict[tuple, int]:
    """Row counts grouped by ``columns`` (Python ints, also under Spark Connect)."""
    return {tuple(r[c] for c in columns): int(r["count"]) for r in df.groupBy(*columns).count().collect()}


def sums_by(df, value: str, *columns: str) -> dict[tuple, float]:
    from pyspark.sql import functions as F

    rows = df.groupBy(*columns).agg(F.sum(value).alias("total")).collect()
    return {tuple(r[c] for c in columns): float(r["total"] or 0.0) for r in rows}


def build_raw_rows_check(clean_key: AssetKey, raw_key: AssetKey, quarantine_key: AssetKey):
    @asset_check(
        asset=clean_key,
        name="raw_rows_reconcile",
        description="Every raw row is either clean or quarantined: raw == clean + quarantine, per month.",
        additional_ins={"raw": AssetIn(key=raw_key), "quarantine": AssetIn(key=quarantine_key)},
        partitions_def=monthly_partitions,
    )
    def _check(context: AssetCheckExecutionContext, data, raw: dict, quarantine) -> AssetCheckResult:
        clean_rows = rows_by(data, MONTH_COLUMN)
        quarantined = rows_by(quarantine, MONTH_COLUMN)
        by_month = {}
        for month in context.partition_keys:
            raw_rows = int(raw[month].count())
            by_month[month] = {
                "raw": raw_rows,
                "clean": clean_rows.get((month,), 0),
                "quarantine": quarantined.get((month,), 0),
            }
        off = {m: c for m, c in by_month.items() if c["raw"] != c["clean"] + c["quarantine"]}
        return AssetCheckResult(
            passed=not off,
            severity=AssetCheckSeverity.ERROR,
            metadata={"rows_by_month": MetadataValue.json(by_month), "mismatched_months": MetadataValue.json(sorted(off))},
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
    def _check(context: AssetCheckExecutionContext, data, green, yellow) -> AssetCheckResult:
        clean = {"green": green, "yellow": yellow}
        core_rows = rows_by(data, MONTH_COLUMN, "service_type")
        mismatches, counts = [], {}
        for service, df in clean.items():
            for (month,), rows in sorted(rows_by(df, MONTH_COLUMN).items()):
                counts[f"{month} {service}"] = {"clean": rows, "core": core_rows.get((month, service), 0)}
                if rows != core_rows.get((month, service), 0):
                    mismatches.append(f"{month} {service}")
        return AssetCheckResult(
            passed=not mismatches,
            severity=AssetCheckSeverity.ERROR,
            metadata={"rows": MetadataValue.json(counts), "mismatches": MetadataValue.json(mismatches)},
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
    def _check(context: AssetCheckExecutionContext, data, green, yellow) -> AssetCheckResult:
        clean = {"green": green, "yellow": yellow}
        report = sums_by(data, "revenue_monthly_total_amount", MONTH_COLUMN, "service_type")
        totals, mismatches = {}, []
        for service, df in clean.items():
            for (month,), trips_total in sorted(sums_by(df, "total_amount", MONTH_COLUMN).items()):
                report_total = report.get((month, service), 0.0)
                totals[f"{month} {service}"] = {"trips": round(trips_total, 2), "report": round(report_total, 2)}
                if abs(trips_total - report_total) >= CENT:
                    mismatches.append(f"{month} {service}")
        extra = sorted(f"{m} {s}" for m, s in report if s not in clean)
        return AssetCheckResult(
            passed=not mismatches and not extra,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "totals": MetadataValue.json(totals),
                "mismatches": MetadataValue.json(mismatches),
                "unknown_service_types": MetadataValue.json(extra),
            },
        )

    return _check
