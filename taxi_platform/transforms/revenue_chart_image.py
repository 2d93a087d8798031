"""The revenue chart as a picture: a PNG (matplotlib, no display needed) of a ``RevenueChart``.

Two panels side by side:

- left: total revenue (USD) per month, one bar per service type (green, yellow) in its colour;
- right: the top pickup zones by total revenue over the report's months (horizontal bars, the biggest on top),
  labelled "Zone (Borough)".

``revenue_chart_png`` returns the PNG bytes; ``markdown_image`` wraps them as a markdown image with a data URI, which
the Dagster UI renders inside markdown metadata (what Dagster University does with its charts). No Dagster, no Spark.
"""

from __future__ import annotations

import base64
import io

from taxi_platform.transforms.revenue_chart import RevenueChart

SERVICE_COLOURS = {"green": "#2e8b57", "yellow": "#e0b000"}
OTHER_COLOUR = "#7f7f7f"
DPI = 100
SIZE_INCHES = (11.0, 4.2)


def revenue_chart_png(chart: RevenueChart) -> bytes:
    """The chart as PNG bytes (1100 x 420 px). An empty chart gives a picture saying "no revenue"."""
    import matplotlib

    matplotlib.use("Agg", force=True)  # no display; safe in any thread of a run
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    money = FuncFormatter(lambda value, _: f"${value / 1e6:.1f}M" if abs(value) >= 1e6 else f"${value / 1e3:.0f}K")
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    by_month, by_zone = figure.subplots(1, 2, width_ratios=(1.0, 1.3))

    months = sorted({p.month for p in chart.by_month_and_service})
    services = sorted({p.service_type for p in chart.by_month_and_service})
    width = 0.8 / max(len(services), 1)
    for i, service in enumerate(services):
        totals = {p.month: p.total_revenue for p in chart.by_month_and_service if p.service_type == service}
        xs = [m + (i - (len(services) - 1) / 2) * width for m in range(len(months))]
        by_month.bar(xs, [totals.get(m, 0.0) for m in months], width, label=service,
                     color=SERVICE_COLOURS.get(service, OTHER_COLOUR))
    by_month.set_xticks(range(len(months)), months, rotation=45 if len(months) > 6 else 0)
    by_month.yaxis.set_major_formatter(money)
    by_month.set_title("Revenue per month and service type")
    if services:
        top = max((p.total_revenue for p in chart.by_month_and_service), default=0.0)
        if top > 0:
            by_month.set_ylim(0, top * 1.18)  # headroom: the legend sits above the bars, not over them
        by_month.legend(loc="upper center", ncol=len(services), frameon=False)

    zones = list(reversed(chart.top_zones))  # barh draws bottom-up: the biggest on top
    by_zone.barh([f"{z.zone} ({z.borough})" for z in zones], [z.total_revenue for z in zones], color="#4c72b0")
    by_zone.xaxis.set_major_formatter(money)
    by_zone.tick_params(axis="y", labelsize=8)
    by_zone.set_title(f"Top {len(zones)} pickup zones by revenue")
    if not months:
        for axes in (by_month, by_zone):
            axes.text(0.5, 0.5, "no revenue", ha="center", va="center", transform=axes.transAxes)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    """A markdown image of ``png`` as a base64 data URI."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
