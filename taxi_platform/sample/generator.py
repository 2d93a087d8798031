"""Offline generator of TLC-shaped monthly trip data (green, yellow, fhv, fhvhv), modelled on the TLC parquet files.

    generate_month("yellow", "2021-01", rows=100_000)          -> pyarrow.Table with the 2021-01 published schema
    write_month("raw/yellow_tripdata_2021-01.parquet", "yellow", "2021-01", rows=100_000)
    published_schema("green", "2020-01")                         -> the column names/types of that month's file

Faithful where the platform needs it:

- Schemas by era, modelled on the TLC parquet files, so consecutive eras drift as the real files do
  (``taxi_platform.sample.eras``): 2019-01..2021-12 (ns timestamps, passenger_count/RatecodeID double, green
  ehail_fee of arrow type null, yellow airport_fee from 2021-01), 2022 (us timestamps, ehail_fee double),
  2023+ (VendorID/PU/DO int32, passenger_count/RatecodeID int64, yellow ``Airport_fee``), 2025+ (cbd_congestion_fee).
- Distributions (``zones``, ``timing``, ``taxis``, ``for_hire``): yellow pickups ~88 % in Manhattan plus JFK/LaGuardia,
  green pickups in the outer boroughs and upper Manhattan (the lookup's "Boro Zone"), Zipf-skewed zones, dropoffs
  mostly in the pickup's borough; weekday/hour-of-day profile; lognormal distances (median 1.7 mi yellow, 2.5 green)
  and durations from a speed model; meter fares and surcharges of the era with total_amount = sum of components.
- Quirks of the real data at documented rates (``QUIRK_RATES``, described in ``taxi_platform.sample.quirks``):

  ==========================  =======  ===================================================================
  out_of_month_pickup         0.2 %    pickup (and dropoff with it) days before/after or years off the month
  unknown_passenger_ratecode  2 %      passenger_count and RatecodeID null (payment_type 0 from 2023)
  negative_amounts            0.5 %    all money columns negated (the sum rule still holds)
  zero_distance               1.5 %    trip_distance / trip_miles 0
  unknown_zone                1 %      PULocationID and/or DOLocationID 264/265
  dropoff_before_pickup       0.05 %   dropoff 1 s .. 1 h before pickup
  absurd_fare                 0.005 %  fare_amount >= 5,000
  ==========================  =======  ===================================================================

  All seven apply to yellow and green; fhvhv carries out_of_month_pickup, zero_distance, unknown_zone and
  dropoff_before_pickup; fhv out_of_month_pickup and dropoff_before_pickup (``quirk_rates(taxi_type)``).

Deterministic: the RNG is ``numpy.random.default_rng([seed, type index, year, month])``, so the same
(taxi_type, month, rows, seed) always gives the same table and another month or seed gives other data. Everything is
vectorised numpy/pyarrow, generated in blocks of ``CHUNK_ROWS`` rows (memory proportional to rows); measured with
``python bench/generator.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Union

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from taxi_platform.sample import for_hire, taxis
from taxi_platform.sample.eras import TAXI_TYPES, Era, era_of, published_schema, schema_of
from taxi_platform.sample.quirks import QUIRK_RATES, quirk_rates

__all__ = ["generate_month", "generate_blocks", "write_month", "published_schema", "quirk_rates", "QUIRK_RATES", "TAXI_TYPES"]

_BUILDERS = {"yellow": taxis.build, "green": taxis.build, "fhvhv": for_hire.build_fhvhv, "fhv": for_hire.build_fhv}
# Rows are generated in chunks of this size (one RNG stream, consumed in order): the temporaries stay cache- and
# allocator-friendly and peak memory stays near the size of the result. The table's columns have one chunk per block.
CHUNK_ROWS = 1 << 18


def _check_counts(rows: int, seed: int) -> None:
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 0:
        raise ValueError(f"rows must be a non-negative int, got {rows!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


def month_rng(era: Era, seed: int) -> np.random.Generator:
    """The RNG of one (seed, taxi type, month): independent streams per type and month."""
    return np.random.default_rng([int(seed), TAXI_TYPES.index(era.taxi_type), era.year, era.month])


def generate_blocks(taxi_type: str, month: str, rows: int, seed: int = 42) -> Iterator[pa.Table]:
    """``generate_month``'s rows as consecutive tables of at most ``CHUNK_ROWS`` rows, built one at a time (memory:
    one block, whatever ``rows``); concatenated they are exactly ``generate_month(taxi_type, month, rows, seed)``.

    Raises ValueError as ``generate_month``, before the first block.
    """
    era = era_of(taxi_type, month)
    _check_counts(rows, seed)
    return _blocks(era, int(rows), seed)


def _blocks(era: Era, rows: int, seed: int) -> Iterator[pa.Table]:
    rng, build = month_rng(era, seed), _BUILDERS[era.taxi_type]
    for first in range(0, rows, CHUNK_ROWS):
        yield build(era, rng, min(CHUNK_ROWS, rows - first))


def generate_month(taxi_type: str, month: str, rows: int, seed: int = 42) -> pa.Table:
    """``rows`` synthetic trips of ``taxi_type`` for ``month`` ("YYYY-MM") with that month's published schema.

    Raises ValueError for an unknown taxi type, a malformed month, or a negative row count / seed.
    """
    blocks = list(generate_blocks(taxi_type, month, rows, seed))
    if not blocks:
        return schema_of(era_of(taxi_type, month)).empty_table()
    return blocks[0] if len(blocks) == 1 else pa.concat_tables(blocks)


def write_month(path: Union[str, os.PathLike], taxi_type: str, month: str, rows: int, seed: int = 42) -> int:
    """Write ``generate_month(...)``'s rows as one parquet file at ``path`` (parent folders created), streamed block by
    block (one row group per ``CHUNK_ROWS`` block): memory stays one block's, so a real-volume month (yellow 2019:
    ~7.7M rows; fhvhv: ~20M) is written without building it in memory. Returns the rows written."""
    blocks = generate_blocks(taxi_type, month, rows, seed)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with pq.ParquetWriter(target, schema_of(era_of(taxi_type, month))) as writer:
        for block in blocks:
            writer.write_table(block)
            written += block.num_rows
    return written
