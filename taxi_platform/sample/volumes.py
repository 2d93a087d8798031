"""How many rows the sample publishes for each taxi type: the real monthly ratios of the TLC files, scaled to a knob.

The knob is the number of YELLOW rows per month (``TAXI_SAMPLE_ROWS``); the other types get the same share of it as
their real monthly trip counts have of yellow's in that era, so the demo's revenue keeps the real proportions (yellow
far above green) instead of one row count for every type.

Trips (rows) of the TLC's published parquet files of the representative month:

==============  ==========  ========  ==========  ==========  ==========================================
from month      yellow      green     fhv         fhvhv       representative month
==============  ==========  ========  ==========  ==========  ==========================================
2019-01         7,696,617   672,105   23,159,064  20,159,102  2019-01 (fhvhv: 2019-02, its first file;
                                                              fhv still held Uber/Lyft trips)
2019-02         7,049,370   615,594   1,707,650   20,159,102  2019-02 (the high-volume FHVs split off)
2021-01         1,369,769   76,518    1,154,112   11,908,468  2021-01 (pandemic volumes)
2023-01         3,066,766   68,211    1,114,320   18,479,031  2023-01
==============  ==========  ========  ==========  ==========  ==========================================

Source: the ``file_num_rows`` column (the parquet footer's row count of each file at
``https://d37ci6vzurychx.cloudfront.net/trip-data/{type}_tripdata_{YYYY}-{MM}.parquet``) of the per-file metadata
tables in the public repository github.com/lykmapipo/NYC-TLC-Trip-Data, ``data/trips-metadata/
{type}_tripmetadata_{YYYY}.csv`` (commit c94f0d9; files as modified 2022-06-30 / 2022-07-18 for 2019 and 2021,
2023-03-20 for 2023-01). They agree with the issue's rounded 2019-01 and 2021-01 figures, except green 2019-01:
the issue's 630 K is the course's CSV backup (green_tripdata_2019-01.csv.gz, 630,918 rows); the parquet file,
re-published in 2022, has 672,105. Not measured, by choice: fhvhv has no 2019-01 file, so the 2019-01 period uses
its 2019-02 count; every month between two rows uses the older row (no interpolation).

A month uses the row of the newest period starting at or before it. Every type gets at least one row. No Dagster.
"""

from __future__ import annotations

from taxi_platform.sample.eras import parse_month, validate_taxi_type

# (first month of the period, {taxi type: monthly trips of its representative month})
REAL_MONTHLY_TRIPS: tuple[tuple[str, dict[str, int]], ...] = (
    ("2019-01", {"yellow": 7_696_617, "green": 672_105, "fhv": 23_159_064, "fhvhv": 20_159_102}),
    ("2019-02", {"yellow": 7_049_370, "green": 615_594, "fhv": 1_707_650, "fhvhv": 20_159_102}),
    ("2021-01", {"yellow": 1_369_769, "green": 76_518, "fhv": 1_154_112, "fhvhv": 11_908_468}),
    ("2023-01", {"yellow": 3_066_766, "green": 68_211, "fhv": 1_114_320, "fhvhv": 18_479_031}),
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
