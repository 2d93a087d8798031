"""When synthetic trips happen and how long they take: a daily/hourly demand profile and a speed model.

Times are handled as int64 seconds since 1970-01-01 of naive New York local time (as the TLC publishes them) and only
turned into ``timestamp[ns|us]`` when the table is built.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import numpy as np

from taxi_platform.sample.columns import Sampler

EPOCH = datetime(1970, 1, 1)
HOUR, DAY = 3600, 86400

# Relative pickups per hour of day (0..23), modelled on yellow/green counts: a 4-5 am trough, morning and evening peaks.
WEEKDAY_HOURS = np.array([2.2, 1.3, 0.8, 0.6, 0.55, 0.9, 2.2, 3.8, 4.6, 4.6, 4.4, 4.5,
                          4.8, 4.9, 5.3, 5.5, 5.3, 6.0, 6.6, 6.3, 5.6, 5.4, 5.0, 3.8])
WEEKEND_HOURS = np.array([4.6, 3.9, 3.0, 2.1, 1.3, 0.9, 0.9, 1.3, 2.0, 3.0, 3.9, 4.6,
                          5.0, 5.1, 5.1, 5.1, 5.0, 5.1, 5.3, 5.0, 4.6, 4.6, 4.7, 4.6])
# Relative volume per weekday (Mon..Sun): yellow is busier on weekdays; green is flatter.
DAY_WEIGHTS = {
    "yellow": np.array([0.92, 1.0, 1.05, 1.08, 1.06, 0.98, 0.80]),
    "green": np.array([0.97, 1.0, 1.0, 1.02, 1.04, 1.02, 0.92]),
    "fhvhv": np.array([0.85, 0.88, 0.92, 0.97, 1.12, 1.22, 1.02]),
    "fhv": np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8]),
}


# Typical speed (mph) by hour of pickup: fast overnight, slow in the working day.
SPEED_BY_HOUR = np.array([17.0] * 6 + [13.0] * 2 + [10.0] * 11 + [13.0] * 3 + [17.0] * 2, dtype=np.float32)


def epoch_seconds(year: int, month: int, day: int = 1) -> int:
    """Seconds since the epoch of a naive local date at midnight."""
    return int((datetime(year, month, day) - EPOCH).total_seconds())


def month_range(year: int, month: int) -> tuple[int, int]:
    """[start, end) of the month in epoch seconds."""
    end = epoch_seconds(year + (month == 12), month % 12 + 1)
    return epoch_seconds(year, month), end


@lru_cache(maxsize=64)
def _slot_sampler(year: int, month: int, taxi_type: str) -> Sampler:
    """A sampler of the month's hour slots (0 .. days*24-1), weighted by weekday and hour-of-day profile."""
    start, end = month_range(year, month)
    days = (end - start) // DAY
    weekdays = (datetime(year, month, 1).weekday() + np.arange(days)) % 7
    hours = np.where((weekdays >= 5)[:, None], WEEKEND_HOURS[None, :], WEEKDAY_HOURS[None, :])
    weights = (hours * DAY_WEIGHTS[taxi_type][weekdays][:, None]).ravel()
    return Sampler(weights, np.arange(weights.size, dtype=np.int16), bits=20)


def pickup_seconds(rng: np.random.Generator, n: int, year: int, month: int,
                   taxi_type: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n pickup times inside the month following the weekday and hour-of-day profile, as
    (epoch seconds int64, hour of day int8, weekday Mon=0 int8)."""
    start, _ = month_range(year, month)
    slot = _slot_sampler(year, month, taxi_type)(rng, n)
    seconds = start + slot.astype(np.int64) * HOUR + rng.integers(0, HOUR, n, dtype=np.int16)
    day, hour = np.divmod(slot, np.int16(24))
    weekday0 = datetime(year, month, 1).weekday()
    return seconds, hour.astype(np.int8), ((day + weekday0) % 7).astype(np.int8)


def durations(rng: np.random.Generator, miles: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Trip durations in whole seconds consistent with the distance: speed 8-20 mph typical (slower at rush hours,
    faster at night), a lognormal noise, plus 0.5-3 minutes of stops; at least 60 s."""
    base_mph = SPEED_BY_HOUR[hours]
    noise = np.exp(rng.standard_normal(miles.size, dtype=np.float32) * np.float32(0.25))
    mph = np.clip(base_mph * noise * (1 + 0.015 * np.minimum(miles, 20)), 3.0, 45.0)
    seconds = miles / mph * HOUR + rng.integers(30, 180, miles.size, dtype=np.int16)
    return np.maximum(seconds, 60).astype(np.int64)
