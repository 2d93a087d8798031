"""The real data's quirks, injected at small documented rates (deterministic: drawn from the month's RNG).

==========================  =======  =========================================================================
quirk                       rate     what the generator does (yellow/green unless noted)
==========================  =======  =========================================================================
out_of_month_pickup         0.2 %    pickup outside the file's month, dropoff shifted with it: 55 % up to 3 days
                                     before the month, 25 % up to 2 days after it, 20 % years off (2002, 2003,
                                     2008, 2009 as in the real files). All four types.
unknown_passenger_ratecode  2 %      passenger_count and RatecodeID null together, store_and_fwd_flag null too
                                     (the real "unknown" rows); payment_type 0 from the 2023 era on.
negative_amounts            0.5 %    every money column negated consistently (a refund/void row): the
                                     total_amount = sum-of-components rule still holds.
zero_distance               1.5 %    trip_distance 0.00 (fhvhv: trip_miles 0.0); the fare is the meter's
                                     time-only fare. yellow/green/fhvhv.
unknown_zone                1 %      PU and/or DO set to 264/265 (the lookup's "Unknown" zones): 50 % both 264,
                                     20 % both 265, 15 % PU only, 15 % DO only. yellow/green/fhvhv (fhv has its
                                     own, much larger, share of null and 264 locations, as the real files).
dropoff_before_pickup       0.05 %   dropoff 1 s .. 1 h before pickup. All four types.
absurd_fare                 0.005 %  fare_amount between 5,000 and 999,999 (total follows).
==========================  =======  =========================================================================

Each quirk picks its rows independently (a row may carry several). Counts use stochastic rounding, so the expected
count is exactly rate * rows, and even small tables get an occasional quirk.
"""

from __future__ import annotations

import numpy as np

from taxi_platform.sample.timing import epoch_seconds, month_range

QUIRK_RATES: dict[str, float] = {
    "out_of_month_pickup": 0.002,
    "unknown_passenger_ratecode": 0.02,
    "negative_amounts": 0.005,
    "zero_distance": 0.015,
    "unknown_zone": 0.01,
    "dropoff_before_pickup": 0.0005,
    "absurd_fare": 0.00005,
}

QUIRKS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "yellow": tuple(QUIRK_RATES),
    "green": tuple(QUIRK_RATES),
    "fhvhv": ("out_of_month_pickup", "zero_distance", "unknown_zone", "dropoff_before_pickup"),
    "fhv": ("out_of_month_pickup", "dropoff_before_pickup"),
}

YEARS_OFF = np.array([2008, 2009, 2009, 2008, 2002, 2003])


def quirk_rates(taxi_type: str) -> dict[str, float]:
    """The quirks a taxi type's generated months carry, with their rates (fraction of rows)."""
    return {name: QUIRK_RATES[name] for name in QUIRKS_BY_TYPE[taxi_type]}


def pick_rows(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Sorted distinct row indices, about rate * n of them (stochastic rounding of the count)."""
    expected = rate * n
    k = int(expected) + int(rng.random() < expected - int(expected))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(n, size=min(k, n), replace=False))


def out_of_month_shift(rng: np.random.Generator, pickup: np.ndarray, year: int, month: int,
                       start: int, end: int) -> np.ndarray:
    """New pickup seconds for the given rows' pickups, all outside [start, end)."""
    k = pickup.size
    kind = rng.random(k)
    before = start - rng.integers(1, 3 * 86400, k)
    after = end + rng.integers(0, 2 * 86400, k)
    years = YEARS_OFF[YEARS_OFF != year]
    shifts = np.array([epoch_seconds(int(y), month) for y in years], dtype=np.int64) - start
    years_off = pickup + shifts[rng.integers(0, years.size, k)]
    return np.where(kind < 0.55, before, np.where(kind < 0.80, after, years_off))


def quirky_times(rng: np.random.Generator, year: int, month: int, pickup: np.ndarray,
                 seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pickup, dropoff) epoch seconds: dropoff = pickup + duration, with the out_of_month_pickup (dropoff moves
    with its pickup) and dropoff_before_pickup quirks applied. ``pickup`` is updated in place."""
    n = pickup.size
    start, end = month_range(year, month)
    moved = pick_rows(rng, n, QUIRK_RATES["out_of_month_pickup"])
    pickup[moved] = out_of_month_shift(rng, pickup[moved], year, month, start, end)
    dropoff = pickup + seconds
    backwards = pick_rows(rng, n, QUIRK_RATES["dropoff_before_pickup"])
    dropoff[backwards] = pickup[backwards] - rng.integers(1, 3600, backwards.size)
    return pickup, dropoff
