"""The revenue chart's aggregates and markdown on a small report built here (two months, two services)."""

import pytest
from pyspark.sql import functions as F

from taxi_platform.schemas import REVENUE_MONTHLY_ZONE_SCHEMA
from taxi_platform.transforms.revenue_chart import (
    bar,
    collected_with_chart,
    revenue_chart,
    revenue_chart_markdown,
    revenue_chart_of_rows,
    zone_names_from_lookup,
)

pytestmark = pytest.mark.spark

# (zone, month, service, total); the other report columns are irrelevant to the chart and left null
REPORT = [
    (132, "2021-01-01", "yellow", 1000.25),
    (132, "2021-01-01", "green", 10.50),
    (138, "2021-01-01", "yellow", 400.00),
    (74, "2021-01-01", "green", 300.10),
    (132, "2021-02-01", "yellow", 2000.00),
    (74, "2021-02-01", "green", 99.90),
    (75, "2021-02-01", "green", 400.00),  # ties 138 on 400.00: the lower id (75) ranks first
]


@pytest.fixture(scope="module")
def report(spark):
    names = [n for n, _ in REVENUE_MONTHLY_ZONE_SCHEMA]
    df = spark.createDataFrame(REPORT, "revenue_zone int, month_text string, service_type string, total double")
    columns = {"revenue_zone": F.col("revenue_zone"),
               "revenue_month": F.col("month_text").cast("timestamp"),
               "service_type": F.col("service_type"),
               "revenue_monthly_total_amount": F.col("total")}
    return df.select(*[columns.get(n, F.lit(None).cast("double")).alias(n) for n in names])


def test_totals_per_month_and_service_and_top_zones(report):
    chart = revenue_chart(report, top_n=3)
    got = [(p.month, p.service_type, p.total_revenue, p.zones) for p in chart.by_month_and_service]
    assert got == [("2021-01", "green", pytest.approx(310.60), 2), ("2021-01", "yellow", pytest.approx(1400.25), 2),
                   ("2021-02", "green", pytest.approx(499.90), 2), ("2021-02", "yellow", pytest.approx(2000.00), 1)]
    assert chart.total_revenue == pytest.approx(4210.75)
    top = [(z.rank, z.zone_id, z.zone, z.borough, round(z.total_revenue, 2)) for z in chart.top_zones]
    assert top == [(1, 132, "JFK Airport", "Queens", 3010.75), (2, 74, "East Harlem North", "Manhattan", 400.00),
                   (3, 75, "East Harlem South", "Manhattan", 400.00)]
    assert chart.top_zones[0].share == pytest.approx(3010.75 / 4210.75)


def test_markdown_has_both_tables_with_proportional_bars(report):
    markdown = revenue_chart_markdown(revenue_chart(report, top_n=2))
    lines = markdown.splitlines()
    yellow_feb = next(line for line in lines if line.startswith("| 2021-02 | yellow |"))
    assert "2,000.00" in yellow_feb and "`" + "█" * 24 + "`" in yellow_feb  # the largest bar is full width
    green_jan = next(line for line in lines if line.startswith("| 2021-01 | green |"))
    assert "310.60" in green_jan and "`███▊`" in green_jan  # 310.60 / 2000 * 24 = 3.73 chars: 3 and 6/8
    assert "| 1 | JFK Airport (132) | Queens | 3,010.75 | 71.5% |" in markdown
    assert "**Top 2 pickup zones by revenue**" in markdown and "all: 4,210.75" in markdown


def test_bars_and_zone_names():
    assert bar(0, 10) == "" and bar(5, 0) == "" and bar(10, 10, width=4) == "████" and bar(1, 8, width=1) == "▏"
    names = zone_names_from_lookup()
    assert len(names) == 265 and names[132] == ("JFK Airport", "Queens")


def test_rows_without_spark_and_an_empty_report():
    chart = revenue_chart_of_rows([("2021-03", "green", 7, 5.0), ("2021-03", "green", None, 1.0)], top_n=3,
                                  zone_names={7: ("Astoria", "Queens")})
    assert [(p.month, p.total_revenue, p.zones) for p in chart.by_month_and_service] == [("2021-03", 6.0, 2)]
    assert [(z.zone_id, z.zone, z.total_revenue) for z in chart.top_zones] == [(7, "Astoria", 5.0)]  # null zone: no rank
    empty = revenue_chart_of_rows([], zone_names={})
    assert empty.total_revenue == 0 and empty.top_zones == []
    assert "_no rows_" in revenue_chart_markdown(empty)


def test_collected_report_is_the_same_rows_and_chart_in_one_aggregation(spark, report):
    """The asset's path: the report computed once, its chart, and a DataFrame of the very same rows to write."""
    collected, chart = collected_with_chart(report, top_n=3)
    assert collected.schema == report.schema
    assert sorted(collected.collect()) == sorted(report.collect())
    assert chart == revenue_chart(report, top_n=3)
    assert [z.zone_id for z in chart.top_zones] == [132, 74, 75]
    # built from the collected rows (a local relation), not from the report's plan: writing it aggregates nothing
    assert "LocalTableScan" in collected._jdf.queryExecution().executedPlan().toString()
