"""Yellow and green (street-hail) trips: meter fares, surcharges, tips, and the quirks of the real files.

The money model, in integer cents (so total_amount is exactly the sum of its components):

- fare_amount: the NYC meter. Before 2023: 2.50 + 0.50 per unit (1/5 mile, or a minute in slow traffic);
  from 2023 (the 2022-12-19 rules): 3.00 + 0.70 per unit. JFK<->Manhattan flat fare (RatecodeID 2): 52 / 70;
  Newark (3): meter + 17.50 / 20; Nassau/Westchester (4): double meter; negotiated (5): 15-120 whole dollars.
- extra: overnight (20h-6h) 0.50 / 1.00 from 2023; weekday peak (16h-20h) 1.00 / 2.50; otherwise 0.
- mta_tax 0.50 (0 on negotiated fares); improvement_surcharge 0.30 (1.00 from 2023).
- tolls_amount: mostly 0; airport and long cross-borough trips often pay a bridge/tunnel toll of the era
  (5.76 in 2019, 6.12 in 2020, 6.55 in 2021-22, 6.94 from 2023), sometimes two.
- tip_amount: card trips (payment_type 1) tip 12-30 % of fare + extra (12 % of card trips tip nothing); others 0.
- congestion_surcharge: 2.50 yellow / 2.75 green when the trip starts or ends in the Manhattan Yellow Zone
  (south of 96th St), else 0; from 2019-02 (the 2019-01 files carry the column, all null).
- airport_fee (yellow, from 2021): 1.25 (1.75 from 2023) for pickups at JFK or LaGuardia.
- cbd_congestion_fee (from 2025): 0.75 when the trip starts or ends in Manhattan south of 60th St.
- ehail_fee (green): always null.
- total_amount = fare + extra + mta_tax + tip + tolls + improvement_surcharge + congestion_surcharge
  + airport_fee + cbd_congestion_fee (null counts as 0).

Not modelled on purpose: in the real 2019-2020 files VendorID 1 folds the congestion surcharge into ``extra`` and
leaves it out of total_amount; here the sum rule holds for every row.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyarrow as pa

from taxi_platform.sample.columns import as_published, choose, column, strings, timestamps, uniform
from taxi_platform.sample.eras import Era, schema_of
from taxi_platform.sample.quirks import QUIRK_RATES, pick_rows, quirky_times
from taxi_platform.sample.timing import durations, pickup_seconds
from taxi_platform.sample.zones import JFK, LAGUARDIA, NEWARK, geography, sample_zones, zone_model

MEDIAN_MILES = {"yellow": 1.7, "green": 2.5}
PASSENGERS = (0, 1, 2, 3, 4, 5, 6)
PASSENGER_P = (0.02, 0.72, 0.14, 0.04, 0.02, 0.035, 0.025)
PAYMENT_TYPES = (1, 2, 3, 4)
PAYMENT_P = (0.70, 0.25, 0.03, 0.02)
# Distance factor by (different borough) + 2 * (same zone): 1, 2.2 across boroughs, 0.45 within one zone.
CROSS_FACTOR = np.array([1.0, 2.2, 0.45, 0.45], dtype=np.float32)


def _toll_cents(era: Era) -> int:
    if era.year <= 2019:
        return 576
    if era.year == 2020:
        return 612
    return 694 if era.new_fares else 655


def _distances(rng: np.random.Generator, taxi_type: str, pu: np.ndarray, do: np.ndarray) -> np.ndarray:
    """Miles, lognormal around the type's median, longer across boroughs and to/from the airports; 0.01 precision."""
    geo = geography()
    n = pu.size
    miles = np.exp(rng.standard_normal(n, dtype=np.float32) * np.float32(0.75)) * np.float32(MEDIAN_MILES[taxi_type])
    miles *= CROSS_FACTOR[(geo.borough[pu] != geo.borough[do]).view(np.int8) + 2 * (pu == do).view(np.int8)]
    for ends, mean, sd in ((do == NEWARK, 17.0, 2.5), ((pu == JFK) | (do == JFK), 17.0, 3.0),
                           ((pu == LAGUARDIA) | (do == LAGUARDIA), 9.5, 2.0)):
        rows = np.flatnonzero(ends)
        miles[rows] = np.maximum(miles[rows], rng.normal(mean, sd, rows.size))
    return np.round(np.clip(miles.astype(np.float64), 0.01, 90.0), 2)


def _rate_codes(rng: np.random.Generator, era: Era, pu: np.ndarray, do: np.ndarray,
                trip_type: np.ndarray) -> np.ndarray:
    """RatecodeID: 1 standard, 2 JFK flat (yellow JFK<->Manhattan), 3 Newark, 4 Nassau/Westchester, 5 negotiated."""
    geo = geography()
    n = pu.size
    u = uniform(rng, n)
    code = np.ones(n, dtype=np.int8)
    if era.taxi_type == "yellow":
        jfk_manhattan = ((pu == JFK) & geo.core[do]) | ((do == JFK) & geo.core[pu])
        code[jfk_manhattan & (u < 0.85)] = 2
        code[u > 0.997] = 5
    else:
        code[u > 0.985] = 5
        code[trip_type == 2] = 5
    code[(do == NEWARK) & (u < 0.9)] = 3
    code[(u > 0.9985) & (u <= 0.9995)] = 4
    return code


def _fare_cents(rng: np.random.Generator, era: Era, miles: np.ndarray, seconds: np.ndarray,
                rate_code: np.ndarray) -> np.ndarray:
    """The meter (see module doc) or the flat/negotiated fare of the rate code, in cents."""
    n = miles.size
    slow_minutes = seconds * (np.float32(0.05 / 60) + uniform(rng, n) * np.float32(0.30 / 60))
    units = np.ceil(miles * 5 + slow_minutes)
    initial, per_unit = (300, 70) if era.new_fares else (250, 50)
    meter = (initial + per_unit * units).astype(np.int64)
    fare = meter.copy()
    for code in (2, 3, 4, 5):
        rows = np.flatnonzero(rate_code == code)
        if code == 2:
            fare[rows] = 7000 if era.new_fares else 5200
        elif code == 3:
            fare[rows] += 2000 if era.new_fares else 1750
        elif code == 4:
            fare[rows] *= 2
        else:
            fare[rows] = rng.integers(15, 121, rows.size) * 100
    return fare


def _extra_cents(era: Era, hour: np.ndarray, day: np.ndarray, rate_code: np.ndarray) -> np.ndarray:
    night = (hour >= 20) | (hour < 6)
    peak = (day < 5) & (hour >= 16) & (hour < 20)
    overnight, rush = (100, 250) if era.new_fares else (50, 100)
    extra = np.where(peak, rush, np.where(night, overnight, 0))
    return np.where(rate_code == 5, 0, extra).astype(np.int64)


def _zones(rng: np.random.Generator, taxi_type: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pickup/dropoff zones, with the unknown_zone quirk (264/265) on its rows."""
    pu, do = sample_zones(zone_model(taxi_type), rng, n)
    rows = pick_rows(rng, n, QUIRK_RATES["unknown_zone"])
    kind = uniform(rng, rows.size)  # 50 % both 264, 20 % both 265, 15 % PU 264 only, 15 % DO 264 only
    pu[rows] = np.where(kind < 0.5, 264, np.where(kind < 0.7, 265, np.where(kind < 0.85, 264, pu[rows])))
    do[rows] = np.where(kind < 0.5, 264, np.where(kind < 0.7, 265, np.where(kind < 0.85, do[rows], 264)))
    return pu, do


def _labels(rng: np.random.Generator, era: Era, n: int) -> dict[str, np.ndarray]:
    """VendorID, passenger_count, payment_type, store_and_fwd_flag (0=N, 1=Y) and trip_type (green) per trip."""
    green = era.taxi_type == "green"
    vendor_p = (0.12, 0.88, 0.0) if green else ((0.25, 0.749, 0.001) if era.new_fares else (0.30, 0.70, 0.0))
    return {
        "vendor": np.array([1, 2, 6])[choose(rng, n, vendor_p)],
        "passengers": np.array(PASSENGERS)[choose(rng, n, PASSENGER_P)],
        "payment": np.array(PAYMENT_TYPES)[choose(rng, n, PAYMENT_P)],
        "flag": (uniform(rng, n) < 0.005).view(np.int8),
        "trip_type": np.where(uniform(rng, n) < 0.02, 2, 1).astype(np.int8) if green else None,
    }


def _money_cents(rng: np.random.Generator, era: Era, trips: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every money column in integer cents (see the module doc), ``total`` being the sum of the era's parts."""
    geo = geography()
    pu, do, miles, payment, rate_code = trips["pu"], trips["do"], trips["miles"], trips["payment"], trips["rate_code"]
    n = pu.size
    fare = _fare_cents(rng, era, miles, trips["seconds"], rate_code)
    absurd = pick_rows(rng, n, QUIRK_RATES["absurd_fare"])
    fare[absurd] = rng.integers(500_000, 99_999_900, absurd.size)
    extra = _extra_cents(era, trips["hour"], trips["day"], rate_code)
    airport = (pu == JFK) | (pu == LAGUARDIA) | (do == JFK) | (do == LAGUARDIA)
    long_cross = (miles > 5) & (geo.borough[pu] != geo.borough[do])
    u = uniform(rng, n) / np.where(airport | long_cross, np.float32(0.35), np.float32(0.01))
    tolls = ((u < 1).astype(np.int64) + (u < 0.05)) * _toll_cents(era)  # P(toll) 35 % / 1 %, 5 % of those pay two
    u = uniform(rng, n)  # 12 % of card trips tip nothing, the others 12-30 % of fare + extra
    tip_pct = np.where(u < 0.12, np.float32(0), np.float32(0.12) + (u - np.float32(0.12)) * np.float32(0.18 / 0.88))
    cents = {
        "fare": fare,
        "extra": extra,
        "mta": np.where(rate_code == 5, 0, 50),
        "tip": np.where(payment == 1, np.round((fare + extra) * tip_pct), 0).astype(np.int64),
        "tolls": tolls,
        "improvement": np.full(n, 100 if era.new_fares else 30),
        "congestion": (geo.core[pu] | geo.core[do]) * (275 if era.taxi_type == "green" else 250),
        "airport_fee": ((pu == JFK) | (pu == LAGUARDIA)) * (175 if era.new_fares else 125),
        "cbd": (geo.cbd[pu] | geo.cbd[do]) * 75,
    }
    included = [era.has_congestion, era.has_airport_fee, era.has_cbd_fee]
    total = fare.copy()
    for name, keep in zip(("extra", "mta", "tip", "tolls", "improvement", "congestion", "airport_fee", "cbd"),
                          [True] * 5 + included):
        if keep:
            total += cents[name]
    cents["total"] = total
    return cents


def build(era: Era, rng: np.random.Generator, n: int) -> pa.Table:
    """n yellow or green trips of the era's month, with the era's published schema and the documented quirks."""
    pu, do = _zones(rng, era.taxi_type, n)
    pickup, hour, day = pickup_seconds(rng, n, era.year, era.month, era.taxi_type)
    miles = _distances(rng, era.taxi_type, pu, do)
    seconds = durations(rng, miles, hour)
    miles[pick_rows(rng, n, QUIRK_RATES["zero_distance"])] = 0.0
    labels = _labels(rng, era, n)
    payment = labels["payment"]
    rate_code = _rate_codes(rng, era, pu, do, labels["trip_type"])
    trips = {"pu": pu, "do": do, "miles": miles, "seconds": seconds, "hour": hour, "day": day,
             "payment": payment, "rate_code": rate_code}
    cents = _money_cents(rng, era, trips)

    negative = pick_rows(rng, n, QUIRK_RATES["negative_amounts"])
    refund_kind = choose(rng, negative.size, (0.6, 0.3, 0.1))  # dispute, no charge, or keep the original payment
    payment[negative] = np.where(refund_kind == 2, payment[negative], np.array([4, 3, 0])[refund_kind])
    unknown = np.zeros(n, dtype=bool)
    unknown[pick_rows(rng, n, QUIRK_RATES["unknown_passenger_ratecode"])] = True
    if era.new_fares:
        payment[unknown] = 0
    pickup, dropoff = quirky_times(rng, era.year, era.month, pickup, seconds)

    def signed(name: str, mask: Optional[np.ndarray] = None) -> pa.Array:
        """Dollars with the refund rows negated (every money column of a negative row flips together)."""
        dollars = cents[name] / 100.0
        dollars[negative] = 0.0 - dollars[negative]  # 0.0 - x: a zero stays +0.0, never -0.0
        return column(dollars, pa.float64(), mask)

    schema = schema_of(era)
    f = {field.name: field.type for field in schema}
    prefix = "lpep" if era.taxi_type == "green" else "tpep"
    values = {
        "VendorID": lambda: column(labels["vendor"], f["VendorID"]),
        f"{prefix}_pickup_datetime": lambda: timestamps(pickup, f[f"{prefix}_pickup_datetime"]),
        f"{prefix}_dropoff_datetime": lambda: timestamps(dropoff, f[f"{prefix}_dropoff_datetime"]),
        "passenger_count": lambda: column(labels["passengers"], f["passenger_count"], unknown),
        "trip_distance": lambda: column(miles, f["trip_distance"]),
        "RatecodeID": lambda: column(rate_code, f["RatecodeID"], unknown),
        "store_and_fwd_flag": lambda: strings(("N", "Y"), labels["flag"], unknown),
        "PULocationID": lambda: column(pu, f["PULocationID"]),
        "DOLocationID": lambda: column(do, f["DOLocationID"]),
        "payment_type": lambda: column(payment, f["payment_type"]),
        "fare_amount": lambda: signed("fare"),
        "extra": lambda: signed("extra"),
        "mta_tax": lambda: signed("mta"),
        "tip_amount": lambda: signed("tip"),
        "tolls_amount": lambda: signed("tolls"),
        "improvement_surcharge": lambda: signed("improvement"),
        "total_amount": lambda: signed("total"),
        "congestion_surcharge": lambda: signed("congestion", None if era.has_congestion else np.ones(n, bool)),
        "ehail_fee": lambda: pa.nulls(n, f["ehail_fee"]),
        "trip_type": lambda: column(labels["trip_type"], f["trip_type"]),
        era.airport_fee_name: lambda: signed("airport_fee") if era.has_airport_fee else pa.nulls(n, pa.float64()),
        "cbd_congestion_fee": lambda: signed("cbd"),
    }
    return as_published(values, schema)
