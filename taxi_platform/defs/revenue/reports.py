"""reports/revenue_monthly_zone: the course's monthly revenue per pickup zone and service type.

Its materialization carries a revenue chart the Dagster UI shows (``transforms/revenue_chart.py``): total revenue per
month and service type and the top N pickup zones, as a PNG image (``revenue_chart_image``: markdown metadata with
the picture inline, ``transforms/revenue_chart_image.py``), as tables and as a markdown bar chart. They are computed from the
DataFrame the asset returns, before the IO manager writes it, so the chart is the same with the lake and BigQuery.
"""


from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    Config,
    MetadataValue,
    Output,
    TableColumn,
    TableRecord,
    TableSchema,
)
from pydantic import Field

from taxi_platform.defs.monthly import monthly_lake_asset
from taxi_platform.defs.revenue.core import TRIPS_KEY
from taxi_platform.schemas import REVENUE_MONTHLY_ZONE_SCHEMA
from taxi_platform.transforms.revenue import revenue_monthly_zone as revenue_monthly_zone_of
from taxi_platform.transforms.revenue_chart_image import markdown_image, revenue_chart_png
from taxi_platform.transforms.revenue_chart import (
    DEFAULT_TOP_ZONES,
    RevenueChart,
    collected_with_chart,
    revenue_chart_markdown,
)

REVENUE_MONTHLY_ZONE_KEY = AssetKey(["reports", "revenue_monthly_zone"])


class RevenueReportConfig(Config):
    top_zones: int = Field(default=DEFAULT_TOP_ZONES, description="How many zones the chart's top-zones table shows.")


def _cents(value: float) -> float:
    return round(float(value), 2)


def chart_metadata(chart: RevenueChart) -> dict:
    """The chart as metadata the UI shows: a PNG (markdown with the image inline), two tables, a markdown bar chart
    and the grand total."""
    by_month = MetadataValue.table(
        records=[
            TableRecord(data={"month": p.month, "service_type": p.service_type,
                              "total_revenue": _cents(p.total_revenue), "zones": p.zones})
            for p in chart.by_month_and_service
        ],
        schema=TableSchema(columns=[TableColumn("month", "string"), TableColumn("service_type", "string"),
                                    TableColumn("total_revenue", "float"), TableColumn("zones", "int")]),
    )
    top_zones = MetadataValue.table(
        records=[
            TableRecord(data={"rank": z.rank, "zone_id": z.zone_id, "zone": z.zone, "borough": z.borough,
                              "total_revenue": _cents(z.total_revenue), "share": round(z.share, 4)})
            for z in chart.top_zones
        ],
        schema=TableSchema(columns=[TableColumn("rank", "int"), TableColumn("zone_id", "int"),
                                    TableColumn("zone", "string"), TableColumn("borough", "string"),
                                    TableColumn("total_revenue", "float"), TableColumn("share", "float")]),
    )
    image = markdown_image(revenue_chart_png(chart), "Revenue per month and service type, and the top pickup zones")
    return {
        "revenue_chart_image": MetadataValue.md(image),
        "revenue_chart": MetadataValue.md(revenue_chart_markdown(chart)),
        "revenue_by_month_and_service": by_month,
        "top_zones_by_revenue": top_zones,
        "total_revenue": MetadataValue.float(_cents(chart.total_revenue)),
    }


@monthly_lake_asset(
    key=REVENUE_MONTHLY_ZONE_KEY,
    ins={"trips": AssetIn(key=TRIPS_KEY)},
    # the lake (parquet, local deployment) or BigQuery (gcp deployment): the asset does not know which
    io_manager_key="report_io_manager",
    # IO managers that cannot keep Spark types (BigQuery) cast back to the contract
    contract=REVENUE_MONTHLY_ZONE_SCHEMA,
    files_per_partition=1,  # the course writes the report as a single file (coalesce(1))
    metadata={"partition_expr": "revenue_month"},  # BigQuery: the table is partitioned by month on this column
    group_name="reports",
    kinds={"spark", "parquet"},
    description="Revenue per pickup zone, month and service type: sums of every fare component, average "
    "passenger count and trip distance (the course's revenue_monthly_zone, 'monthly' spelled correctly).",
)
def revenue_monthly_zone(context: AssetExecutionContext, config: RevenueReportConfig, trips) -> Output:
    # The report is aggregated once and collected (it is small): the chart comes from the collected rows and the IO
    # manager writes a DataFrame of those same rows, without aggregating the trips a second time.
    report, chart = collected_with_chart(revenue_monthly_zone_of(trips, pickups_in_month=True), top_n=config.top_zones)
    return Output(report, metadata=chart_metadata(chart))
