"""The revenue chart's PNG: a real image of the right size whose bars have the services' colours and sizes."""

import base64
import io

from taxi_platform.transforms.revenue_chart import MonthServiceRevenue, RevenueChart, ZoneRevenue
from taxi_platform.transforms.revenue_chart_image import SERVICE_COLOURS, markdown_image, revenue_chart_png

CHART = RevenueChart(
    by_month_and_service=[MonthServiceRevenue("2021-01", "green", 300_000.0, 200),
                          MonthServiceRevenue("2021-01", "yellow", 3_000_000.0, 250),
                          MonthServiceRevenue("2021-02", "green", 280_000.0, 190),
                          MonthServiceRevenue("2021-02", "yellow", 2_700_000.0, 248)],
    top_zones=[ZoneRevenue(1, 132, "JFK Airport", "Queens", 900_000.0, 0.14),
               ZoneRevenue(2, 138, "LaGuardia Airport", "Queens", 600_000.0, 0.09)],
    total_revenue=6_280_000.0,
)


def pixels_of(png: bytes, colour: str) -> int:
    from PIL import Image

    target = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(count for count, rgb in image.getcolors(maxcolors=1 << 20)
               if all(abs(a - b) <= 8 for a, b in zip(rgb, target)))


def test_png_shows_each_service_in_its_colour_sized_by_revenue():
    from PIL import Image

    png = revenue_chart_png(CHART)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png)).size == (1100, 420)
    green, yellow = pixels_of(png, SERVICE_COLOURS["green"]), pixels_of(png, SERVICE_COLOURS["yellow"])
    assert green > 50 and yellow > 5 * green  # yellow earned ten times green: its bars are far bigger


def test_empty_chart_still_renders_and_markdown_embeds_the_png():
    png = revenue_chart_png(RevenueChart([], [], 0.0))
    assert png.startswith(b"\x89PNG")
    markdown = markdown_image(png, "Revenue")
    assert markdown.startswith("![Revenue](data:image/png;base64,")
    assert base64.b64decode(markdown[len("![Revenue](data:image/png;base64,"):-1]) == png
