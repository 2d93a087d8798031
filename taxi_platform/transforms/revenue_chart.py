"""The revenue chart of ``reports/revenue_monthly_zone``: small aggregates of the report, and a markdown rendering.

No Dagster here (the asset turns these into metadata). The report is small (at most 265 zones x 2 service types a
month), so it is collected once as Arrow (``collected_with_chart``: the chart and a DataFrame of the same rows to
write) and aggregated in Python (``revenue_chart_of_rows``, which needs no Spark):

- total revenue (sum of ``revenue_monthly_total_amount``) per month and service type;
- the top N pickup zones by total revenue over the report's months and service types (ties: the lower zone id),
  named from the shipped TLC zone lookup.

``revenue_chart_markdown`` draws both as markdown tables with unicode bar charts (the Dagster UI renders GitHub
markdown tables; no image library is needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

from pyspark.sql import DataFrame

TOTAL_COLUMN = "revenue_monthly_total_amount"
DEFAULT_TOP_ZONES = 10
BAR_WIDTH = 24
_EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass(frozen=True)
class MonthServiceRevenue:
    month: str  # YYYY-MM of revenue_month
    service_type: str
    total_revenue: float
    zones: int  # zones with at least one trip


@dataclass(frozen=True)
class ZoneRevenue:
    rank: int
    zone_id: int
    zone: str
    borough: str
    total_revenue: float
    share: float  # of the report's total revenue, 0..1


@dataclass(frozen=True)
class RevenueChart:
    by_month_and_service: list[MonthServiceRevenue]
    top_zones: list[ZoneRevenue]
    total_revenue: float


def zone_names_from_lookup() -> dict[int, tuple[str, str]]:
    """{LocationID: (Zone, Borough)} from the shipped TLC zone lookup (no Spark)."""
    from taxi_platform.reference import load_zone_lookup

    table = load_zone_lookup().to_pydict()
    return {int(i): (z, b) for i, z, b in zip(table["LocationID"], table["Zone"], table["Borough"])}


def revenue_chart(
    report: DataFrame,
    top_n: int = DEFAULT_TOP_ZONES,
    zone_names: Optional[Mapping[int, tuple[str, str]]] = None,
) -> RevenueChart:
    """Total revenue per month and service type, and the top ``top_n`` zones, from the report DataFrame.

    One Spark job collects the report's four needed columns (the report is small); the rest is plain Python.
    """
    return revenue_chart_of_arrow(report.select("revenue_month", "service_type", "revenue_zone", TOTAL_COLUMN).toArrow(),
                                  top_n, zone_names)


def collected_with_chart(report: DataFrame, top_n: int = DEFAULT_TOP_ZONES) -> tuple[DataFrame, RevenueChart]:
    """(the report as a DataFrame of its collected rows, its chart): the report is computed ONCE.

    The report is small (at most 265 zones x 2 service types a month), so it is collected as Arrow; the chart comes
    from that table and the returned DataFrame is built from it (same schema), so writing it does not aggregate the
    trips again. (Caching the report instead did not serve the write on Spark Connect.)
    """
    table = report.toArrow()
    chart = revenue_chart_of_arrow(table, top_n)
    return report.sparkSession.createDataFrame(table, schema=report.schema), chart


def revenue_chart_of_arrow(table, top_n: int = DEFAULT_TOP_ZONES,
                           zone_names: Optional[Mapping[int, tuple[str, str]]] = None) -> RevenueChart:
    """The chart of an Arrow table of report rows (``revenue_month``, ``service_type``, ``revenue_zone``, total)."""
    months = [None if m is None else m.strftime("%Y-%m") for m in table.column("revenue_month").to_pylist()]
    rows = zip(months, table.column("service_type").to_pylist(), table.column("revenue_zone").to_pylist(),
               table.column(TOTAL_COLUMN).to_pylist())
    return revenue_chart_of_rows(rows, top_n, zone_names)


def revenue_chart_of_rows(
    rows: Iterable[tuple],
    top_n: int = DEFAULT_TOP_ZONES,
    zone_names: Optional[Mapping[int, tuple[str, str]]] = None,
) -> RevenueChart:
    """The chart of report rows given as (month "YYYY-MM", service_type, revenue_zone, total revenue) tuples, with
    no Spark: also usable on a report read back by another tool (e.g. pyarrow over the files a Dataproc job wrote)."""
    names = zone_names_from_lookup() if zone_names is None else zone_names
    by_key: dict[tuple[str, str], list[float]] = {}
    by_zone: dict[int, list[float]] = {}
    for month, service_type, zone, total in rows:
        total = float(total or 0.0)
        by_key.setdefault((str(month), str(service_type)), []).append(total)
        if zone is not None:
            by_zone.setdefault(int(zone), []).append(total)
    per_month = [
        MonthServiceRevenue(month=m, service_type=s, total_revenue=math.fsum(v), zones=len(v))
        for (m, s), v in sorted(by_key.items())
    ]
    grand = math.fsum(p.total_revenue for p in per_month)
    zone_totals = sorted(((math.fsum(v), zone) for zone, v in by_zone.items()), key=lambda t: (-t[0], t[1]))
    top = []
    for rank, (total, zone) in enumerate(zone_totals[: max(top_n, 0)], start=1):
        name, borough = names.get(zone, (f"zone {zone}", ""))
        top.append(ZoneRevenue(rank=rank, zone_id=zone, zone=name, borough=borough, total_revenue=total,
                               share=total / grand if grand else 0.0))
    return RevenueChart(by_month_and_service=per_month, top_zones=top, total_revenue=grand)


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A unicode bar of ``value`` relative to ``largest`` (full width), in eighths of a character."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = round(width * 8 * min(value / largest, 1.0))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def money(value: float) -> str:
    return f"{value:,.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _bar_cell(value: float, largest: float) -> str:
    drawn = bar(value, largest)
    return f"`{drawn}`" if drawn else ""


def revenue_chart_markdown(chart: RevenueChart) -> str:
    """Both aggregates as markdown tables with bar charts (bars are relative to each table's largest value)."""
    title = f"**Total revenue per month and service type** (sum of `{TOTAL_COLUMN}`; all: {money(chart.total_revenue)})"
    lines = [title, ""]
    lines += ["| month | service | total revenue | |", "|---|---|---:|---|"]
    largest = max((p.total_revenue for p in chart.by_month_and_service), default=0.0)
    for p in chart.by_month_and_service:
        lines.append(f"| {p.month} | {_cell(p.service_type)} | {money(p.total_revenue)} | "
                     f"{_bar_cell(p.total_revenue, largest)} |")
    if not chart.by_month_and_service:
        lines.append("| | _no rows_ | | |")
    lines += ["", f"**Top {len(chart.top_zones)} pickup zones by revenue** (all months and service types)", ""]
    lines += ["| # | zone | borough | total revenue | share | |", "|---:|---|---|---:|---:|---|"]
    largest = max((z.total_revenue for z in chart.top_zones), default=0.0)
    for z in chart.top_zones:
        lines.append(f"| {z.rank} | {_cell(z.zone)} ({z.zone_id}) | {_cell(z.borough)} | {money(z.total_revenue)} | "
                     f"{z.share:.1%} | {_bar_cell(z.total_revenue, largest)} |")
    return "\n".join(lines)
