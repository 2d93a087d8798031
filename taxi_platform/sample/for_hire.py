"""For-hire vehicle trips: high-volume (fhvhv: Uber, Lyft, Via, Juno) and the other for-hire bases (fhv).

fhvhv
    hvfhs_license_num HV0003 (Uber) ~70 %, HV0005 (Lyft) ~25 %, HV0004 (Via) and HV0002 (Juno, until 2019) the rest;
    from 2022 only Uber (73 %) and Lyft (27 %). dispatching_base_num is one of the license's real bases ("B" + 5
    digits, e.g. Uber B02764, Lyft B02510); originating_base_num mostly equals it for Uber and is null otherwise.
    request_datetime precedes the pickup by the wait (median ~4 min); on_scene_datetime is null for Lyft.
    Money: base_passenger_fare ~ 2.50 + 1.40/mi + 0.45/min with a surge factor; bcf 2.5 % (2.75 % from 2020) and
    sales_tax 8.875 % of it; congestion_surcharge 2.75 when the trip touches Manhattan south of 96th St (null in
    2019-01); airport_fee 2.50 at JFK/LaGuardia from 2022 (null before); tips on ~15 % of trips; driver_pay ~72 %.
    Flags "N"/"Y" (shared rides ~6 % until 2020-03, ~0.5 % after); SR_Flag "1" for shared requests, else null.

fhv
    dispatching_base_num drawn (Zipf) from a fixed list of bases; a third of the pickups recorded to the minute;
    PUlocationID/DOlocationID double: 18 % both null, 27 % both 264, 5 % only the pickup 264, else real zones.
    SR_Flag mostly null ("1" on 1 %); Affiliated_base_number = the dispatching base (85 %), another base (12 %), null.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from taxi_platform.sample.columns import as_published, choose, column, money, strings, timestamps, uniform
from taxi_platform.sample.eras import Era, schema_of
from taxi_platform.sample.quirks import QUIRK_RATES, pick_rows, quirky_times
from taxi_platform.sample.timing import durations, pickup_seconds
from taxi_platform.sample.zones import JFK, LAGUARDIA, geography, sample_zones, zone_model

LICENSES = ("HV0002", "HV0003", "HV0004", "HV0005")
LICENSE_BASES: dict[str, tuple[str, ...]] = {
    "HV0002": ("B03035",),
    "HV0003": ("B02764", "B02765", "B02682", "B02864", "B02872", "B02875", "B02884", "B02870", "B02871", "B02887",
               "B02888", "B02889", "B02866", "B02867", "B02869", "B02876", "B02877", "B02878", "B02879", "B02880",
               "B02882", "B02883", "B02836", "B02835", "B02617", "B02512", "B02598"),
    "HV0004": ("B02800", "B03136"),
    "HV0005": ("B02510", "B02844"),
}
ALL_HV_BASES: tuple[str, ...] = tuple(base for lic in LICENSES for base in LICENSE_BASES[lic])
FLAGS = ("N", "Y")


def _license_shares(era: Era) -> tuple[float, ...]:
    if era.key < 202001:
        return (0.015, 0.70, 0.035, 0.25)
    if era.key < 202201:
        return (0.0, 0.72, 0.03, 0.25)
    return (0.0, 0.73, 0.0, 0.27)


def _hv_bases(rng: np.random.Generator, license_idx: np.ndarray) -> np.ndarray:
    """Index into ALL_HV_BASES of each trip's dispatching base (Zipf over the license's bases)."""
    out = np.zeros(license_idx.size, dtype=np.int32)
    offset = 0
    for code, lic in enumerate(LICENSES):
        bases = LICENSE_BASES[lic]
        rows = np.flatnonzero(license_idx == code)
        weights = 1.0 / np.arange(1, len(bases) + 1) ** (1.2 if lic == "HV0003" else 4.0)
        out[rows] = offset + choose(rng, rows.size, weights)
        offset += len(bases)
    return out


def _fhvhv_money_cents(rng: np.random.Generator, era: Era, pu: np.ndarray, do: np.ndarray, miles: np.ndarray,
                       seconds: np.ndarray) -> dict[str, np.ndarray]:
    """The fhvhv money columns in cents (see the module doc)."""
    geo = geography()
    n = pu.size
    surge = np.clip(np.exp(rng.standard_normal(n, dtype=np.float32) * np.float32(0.18)), 0.7, 3.0)
    base_fare = np.round((250 + 140 * miles + 0.75 * seconds) * surge).astype(np.int64)
    airport = (pu == JFK) | (pu == LAGUARDIA) | (do == JFK) | (do == LAGUARDIA)
    toll_p = np.where(airport, np.float32(0.3), np.float32(0.03))
    u = uniform(rng, n)
    return {
        "base_passenger_fare": base_fare,
        "tolls": (uniform(rng, n) < toll_p) * (655 if era.key < 202301 else 694),
        "bcf": np.round(base_fare * (0.025 if era.year < 2020 else 0.0275)).astype(np.int64),
        "sales_tax": np.round(base_fare * 0.08875).astype(np.int64),
        "congestion_surcharge": (geo.core[pu] | geo.core[do]) * 275,
        "airport_fee": airport * 250,
        "tips": np.where(u < 0.15, np.round(base_fare * (0.1 + u)), 0).astype(np.int64),  # 15 % tip 10-25 %
        "driver_pay": np.round(base_fare * np.clip(0.72 + 0.08 * rng.standard_normal(n, dtype=np.float32),
                                                   0.4, 1.0)).astype(np.int64),
    }


def _fhvhv_flags(rng: np.random.Generator, era: Era, n: int) -> dict[str, np.ndarray]:
    """The Y/N flags (True = "Y"): shared rides until the 2020-03 suspension (then rare), wheelchair, access-a-ride."""
    shared_request = uniform(rng, n) < (0.06 if era.key < 202004 else 0.005)
    wav_request = uniform(rng, n) < 0.003
    return {
        "shared_request": shared_request,
        "shared_match": shared_request & (uniform(rng, n) < 0.5),
        "access_a_ride": uniform(rng, n) < 0.001,
        "wav_request": wav_request,
        "wav_match": wav_request | (uniform(rng, n) < 0.07),
    }


def build_fhvhv(era: Era, rng: np.random.Generator, n: int) -> pa.Table:
    """n high-volume for-hire trips of the era's month (see module doc)."""
    geo = geography()
    schema = schema_of(era)
    f = {field.name: field.type for field in schema}
    ts = f["pickup_datetime"]

    license_idx = choose(rng, n, _license_shares(era))
    base_idx = _hv_bases(rng, license_idx)
    uber, lyft = license_idx == 1, license_idx == 3
    originating_null = ~uber | (uniform(rng, n) < 0.2)

    pu, do = sample_zones(zone_model("fhvhv"), rng, n)
    unknown_zone = pick_rows(rng, n, QUIRK_RATES["unknown_zone"])
    do[unknown_zone] = np.where(uniform(rng, unknown_zone.size) < 0.8, 265, 264)
    pickup, hour, _ = pickup_seconds(rng, n, era.year, era.month, "fhvhv")
    spread = np.exp(rng.standard_normal(n, dtype=np.float32) * np.float32(0.8))
    miles = np.round(np.clip(3.0 * spread * np.where(geo.borough[pu] != geo.borough[do], 1.8, 1.0), 0.1, 120.0), 2)
    seconds = durations(rng, miles, hour)
    miles[pick_rows(rng, n, QUIRK_RATES["zero_distance"])] = 0.0
    pickup, dropoff = quirky_times(rng, era.year, era.month, pickup, seconds)
    wait = np.clip(240 * np.exp(rng.standard_normal(n, dtype=np.float32) * np.float32(0.6)), 20, 1800).astype(np.int64)
    on_scene = pickup - np.minimum(rng.integers(0, 180, n), wait)  # the car arrives between request and pickup
    on_scene_null = lyft | (uniform(rng, n) < 0.01)

    cents = _fhvhv_money_cents(rng, era, pu, do, miles, seconds)
    flags = _fhvhv_flags(rng, era, n)

    values = {
        "hvfhs_license_num": lambda: strings(LICENSES, license_idx),
        "dispatching_base_num": lambda: strings(ALL_HV_BASES, base_idx),
        "originating_base_num": lambda: strings(ALL_HV_BASES, base_idx, originating_null),
        "request_datetime": lambda: timestamps(pickup - wait, ts),
        "on_scene_datetime": lambda: timestamps(on_scene, ts, on_scene_null),
        "pickup_datetime": lambda: timestamps(pickup, ts),
        "dropoff_datetime": lambda: timestamps(dropoff, ts),
        "PULocationID": lambda: column(pu, f["PULocationID"]),
        "DOLocationID": lambda: column(do, f["DOLocationID"]),
        "trip_miles": lambda: column(miles, pa.float64()),
        "trip_time": lambda: column(seconds, pa.int64()),
        "base_passenger_fare": lambda: money(cents["base_passenger_fare"]),
        "tolls": lambda: money(cents["tolls"]),
        "bcf": lambda: money(cents["bcf"]),
        "sales_tax": lambda: money(cents["sales_tax"]),
        "congestion_surcharge": lambda: money(cents["congestion_surcharge"], mask=None if era.has_congestion else np.ones(n, bool)),
        "airport_fee": lambda: money(cents["airport_fee"], mask=None if era.key >= 202201 else np.ones(n, bool)),
        "tips": lambda: money(cents["tips"]),
        "driver_pay": lambda: money(cents["driver_pay"]),
        "shared_request_flag": lambda: strings(FLAGS, flags["shared_request"]),
        "shared_match_flag": lambda: strings(FLAGS, flags["shared_match"]),
        "access_a_ride_flag": lambda: strings(FLAGS, flags["access_a_ride"]),
        "wav_request_flag": lambda: strings(FLAGS, flags["wav_request"]),
        "wav_match_flag": lambda: strings(FLAGS, flags["wav_match"]),
    }
    return as_published(values, schema)


def _fhv_bases() -> tuple[str, ...]:
    """A fixed list of 300 for-hire base numbers ("B" + 5 digits), the same for every month."""
    numbers = np.sort(np.random.default_rng(20191001).choice(np.arange(1, 3600), 300, replace=False))
    return tuple(f"B{num:05d}" for num in numbers)


FHV_BASES = _fhv_bases()


def build_fhv(era: Era, rng: np.random.Generator, n: int) -> pa.Table:
    """n (non high-volume) for-hire trips of the era's month (see module doc)."""
    schema = schema_of(era)
    f = {field.name: field.type for field in schema}
    ts = f["pickup_datetime"]

    weights = 1.0 / np.arange(1, len(FHV_BASES) + 1) ** 1.1
    order = np.random.default_rng(7).permutation(len(FHV_BASES))  # which bases are the busy ones, fixed
    base_idx = order[choose(rng, n, weights)]
    u = rng.random(n)
    affiliated_idx = np.where(u < 0.85, base_idx, order[choose(rng, n, weights)])
    affiliated_null = u > 0.97

    pu, do = sample_zones(zone_model("fhv"), rng, n)
    loc = rng.random(n)
    both_null = loc < 0.18
    pu = np.where((loc >= 0.18) & (loc < 0.50), 264, pu)
    do = np.where((loc >= 0.18) & (loc < 0.45), 264, do)

    pickup, hour, _ = pickup_seconds(rng, n, era.year, era.month, "fhv")
    pickup = np.where(rng.random(n) < 0.33, pickup - pickup % 60, pickup)
    miles = np.clip(rng.lognormal(np.log(4.0), 0.8, n), 0.1, 100.0)
    seconds = durations(rng, miles, hour)
    pickup, dropoff = quirky_times(rng, era.year, era.month, pickup, seconds)
    sr_flag_null = rng.random(n) >= 0.01

    values = {
        "dispatching_base_num": lambda: strings(FHV_BASES, base_idx),
        "pickup_datetime": lambda: timestamps(pickup, ts),
        "dropOff_datetime": lambda: timestamps(dropoff, ts),
        "PUlocationID": lambda: column(pu, pa.float64(), both_null),
        "DOlocationID": lambda: column(do, pa.float64(), both_null),
        "SR_Flag": lambda: column(np.ones(n), pa.float64(), sr_flag_null),  # 1.0 or null, as the era's type
        "Affiliated_base_number": lambda: strings(FHV_BASES, affiliated_idx, affiliated_null),
    }
    return as_published(values, schema)
