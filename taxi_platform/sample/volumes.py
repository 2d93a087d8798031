"""How many rows the sample publishes for each taxi type: the real monthly ratios of the TLC files, scaled to a knob.

The knob is the number of YELLOW rows per month (``TAXI_SAMPLE_ROWS``); the other types get the same share of it as
their real monthly trip counts have of yellow's in that era, so the demo's revenue keeps the real proportions (yellow
far above green) instead of one row count for every type:

==============  ============  ==========  ============  ============  =====================================
from month      yellow        green       fhv           fhvhv         representative month
==============  ============  ==========  ============  ============  =====================================
2019-01         7.7 M         630 K       23.1 M        20.2 M        2019-01 (fhvhv: 2019-02, its first file;
                                                                      fhv still held Uber/Lyft trips)
2019-02         7.0 M         575 K       1.7 M         20.2 M        2019-02 (the high-volume FHVs split off)
2021-01         1.37 M        76 K        1.15 M        11.9 M        2021-01 (pandemic volumes)
2023-01         3.07 M        68 K        1.15 M        18.5 M        2023-01
==============  ============  ==========  ============  ============  =====================================

Counts are trips of the representative month's published file, rounded (approximate; fhv 2023 is taken as 2021's).
A month uses the row of the newest period starting at or before it. Every type gets at least one row. No Dagster.
"""

from __future__ import annotations

from taxi_platform.sample.eras import parse_month, validate_taxi_type

# (first month of the period, {taxi type: monthly trips of its representative month})
REAL_MONTHLY_TRIPS: tuple[tuple[str, dict[str, int]], ...] = (
    ("2019-01", {"yellow": 7_700_000, "green": 630_000, "fhv": 23_100_000, "fhvhv": 20_200_000}),
    ("2019-02", {"yellow": 7_000_000, "green": 575_000, "fhv": 1_700_000, "fhvhv": 20_200_000}),
    ("2021-01", {"yellow": 1_370_000, "green": 76_000, "fhv": 1_150_000, "fhvhv": 11_900_000}),
    ("2023-01", {"yellow": 3_070_000, "green": 68_000, "fhv": 1_150_000, "fhvhv": 18_500_000}),
)


def real_trips(taxi_type: str, month: str) -> dict[str, int]:
    """The representative monthly trip counts of ``month``'s period ({taxi type: trips})."""
    validate_taxi_type(taxi_type)
    key = parse_month(month)
    counts = REAL_MONTHLY_TRIPS[0][1]
    for start, period in REAL_MONTHLY_TRIPS:
        if parse_month(start) <= key:
            counts = period
    return counts


def sample_rows(taxi_type: str, month: str, yellow_rows: int) -> int:
    """Rows of ``taxi_type`` for ``month`` when yellow gets ``yellow_rows``: yellow_rows x (real type / real yellow),
    rounded, at least 1 (0 when ``yellow_rows`` is 0). ValueError for a bad type, month or a negative count."""
    if isinstance(yellow_rows, bool) or not isinstance(yellow_rows, int) or yellow_rows < 0:
        raise ValueError(f"yellow_rows must be a non-negative int, got {yellow_rows!r}")
    counts = real_trips(taxi_type, month)
    if yellow_rows == 0:
        return 0
    return max(1, round(yellow_rows * counts[taxi_type] / counts["yellow"]))
