"""Where synthetic trips start and end: skewed (Zipf-like) weights over the TLC taxi zones, per taxi type.

Built once from the shipped zone lookup (``taxi_platform.reference.load_zone_lookup``). Zones are grouped by the lookup's
own borough and service_zone columns:

- ``core``: Manhattan "Yellow Zone" (south of W 110th / E 96th St: the yellow-taxi street-hail and congestion zone),
- ``upper``: Manhattan "Boro Zone" (Harlem, Washington Heights, Inwood: where green cabs may pick up in Manhattan),
- ``outer``: Bronx, Brooklyn, Queens, Staten Island "Boro Zone",
- ``airports``: JFK 132, LaGuardia 138 (and EWR 1, a dropoff for Newark trips),
- 264/265 (the lookup's "Unknown" zones) get no weight: they only appear as a documented quirk.

Within each group, zones are ranked (hot zones first, as in the real data, then by LocationID) and weighted 1/rank**s.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from taxi_platform.sample.columns import Sampler, uniform

JFK, LAGUARDIA, NEWARK = 132, 138, 1
UNKNOWN_ZONES = (264, 265)
N_IDS = 266  # LocationID 0 is unused; arrays indexed by LocationID

# Hot zones per group, most frequent first (ordering modelled on real pickup counts).
CORE_HOT = (237, 161, 236, 162, 230, 186, 142, 170, 239, 163, 141, 234, 48, 68, 79, 107, 263, 100, 140, 238, 164,
            249, 113, 137, 229, 43, 233, 90, 246, 231, 158, 143, 151, 262, 114, 144, 50, 13, 125, 211, 87, 261, 148)
UPPER_HOT = (74, 75, 41, 42, 166, 244, 152, 116, 243, 127)
OUTER_GREEN_HOT = (82, 129, 95, 97, 7, 65, 66, 181, 25, 33, 255, 256, 260, 223, 61, 196, 130, 92, 146, 40, 49, 52,
                   80, 112, 17, 226, 179, 189, 188, 36, 37, 225, 56, 159, 168, 69, 247, 235, 119, 167)
OUTER_FHV_HOT = (61, 37, 76, 42, 225, 188, 7, 244, 39, 17, 89, 189, 181, 36, 35, 71, 97, 177, 85, 72, 80, 255, 256,
                 129, 82, 95)

BOROUGH_CODES = ("EWR", "Manhattan", "Bronx", "Brooklyn", "Queens", "Staten Island", "Unknown")


@dataclass(frozen=True)
class ZoneModel:
    """Pickup and dropoff samplers over LocationIDs, per-borough dropoff samplers, the same-borough probability."""

    pickup: Sampler
    dropoff: Sampler
    borough_dropoff: tuple[Sampler, ...]  # per borough code: the dropoff weights restricted to that borough
    same_borough: np.ndarray  # per LocationID: P(dropoff drawn from the pickup's own borough)
    same_zone: float  # P(dropoff == pickup)


@dataclass(frozen=True)
class Geography:
    """Per-LocationID lookup arrays derived from the zone lookup."""

    borough: np.ndarray  # int8 code into BOROUGH_CODES
    core: np.ndarray  # bool: Manhattan Yellow Zone
    upper: np.ndarray  # bool: Manhattan Boro Zone
    outer: np.ndarray  # bool: Bronx/Brooklyn/Queens/Staten Island, not an airport
    cbd: np.ndarray  # bool: Manhattan south of 60th St (the 2025 congestion relief zone)

    def ids(self, mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask)


# Manhattan zones south of 60th St (the Central Business District of the 2025 congestion pricing).
CBD_ZONES = (4, 12, 13, 45, 48, 50, 68, 79, 87, 88, 90, 100, 103, 104, 105, 107, 113, 114, 125, 137, 144, 148, 158,
             161, 162, 163, 164, 170, 186, 209, 211, 224, 229, 230, 231, 232, 233, 234, 246, 249, 261)


@lru_cache(maxsize=1)
def geography() -> Geography:
    """Borough and service-zone arrays indexed by LocationID, from the shipped lookup."""
    from taxi_platform.reference import load_zone_lookup

    lookup = load_zone_lookup().to_pydict()
    borough = np.full(N_IDS, BOROUGH_CODES.index("Unknown"), dtype=np.int8)
    service = np.empty(N_IDS, dtype=object)
    for loc, boro, svc in zip(lookup["LocationID"], lookup["Borough"], lookup["service_zone"]):
        borough[loc] = BOROUGH_CODES.index(boro) if boro in BOROUGH_CODES else BOROUGH_CODES.index("Unknown")
        service[loc] = svc
    manhattan = borough == BOROUGH_CODES.index("Manhattan")
    core = manhattan & (service == "Yellow Zone")
    upper = manhattan & (service == "Boro Zone")
    outer_boro = np.isin(borough, [BOROUGH_CODES.index(b) for b in ("Bronx", "Brooklyn", "Queens", "Staten Island")])
    outer = outer_boro & (service == "Boro Zone")
    cbd = np.zeros(N_IDS, dtype=bool)
    cbd[list(CBD_ZONES)] = True
    return Geography(borough=borough, core=core, upper=upper, outer=outer, cbd=cbd & core)


def _ranked(ids: np.ndarray, hot: tuple[int, ...]) -> list[int]:
    """Hot zones (that belong to ids) first, in their order, then the rest by LocationID."""
    members = set(int(i) for i in ids)
    first = [z for z in hot if z in members]
    return first + sorted(members.difference(first))


def _zipf(ids: np.ndarray, hot: tuple[int, ...], total: float, s: float) -> np.ndarray:
    """A weight vector over LocationIDs: ``total`` spread over ``ids`` as 1/rank**s (hot zones ranked first)."""
    weights = np.zeros(N_IDS)
    order = _ranked(ids, hot)
    if order:
        w = 1.0 / np.arange(1, len(order) + 1) ** s
        weights[order] = total * w / w.sum()
    return weights


def _point(zone: int, total: float) -> np.ndarray:
    weights = np.zeros(N_IDS)
    weights[zone] = total
    return weights


def _sampler(weights: np.ndarray) -> Sampler:
    return Sampler(weights, np.arange(N_IDS, dtype=np.int32))


def _model(pickup: np.ndarray, dropoff: np.ndarray, same: dict[str, float], same_zone: float) -> ZoneModel:
    geo = geography()
    borough_dropoff = []
    for code in range(len(BOROUGH_CODES)):
        restricted = np.where(geo.borough == code, dropoff, 0.0)
        borough_dropoff.append(_sampler(restricted if restricted.sum() > 0 else dropoff))
    same_borough = np.full(N_IDS, same["default"])
    same_borough[geo.core | geo.upper] = same.get("manhattan", same["default"])
    same_borough[[JFK, LAGUARDIA]] = same.get("airport", same["default"])
    return ZoneModel(_sampler(pickup), _sampler(dropoff), tuple(borough_dropoff), same_borough, same_zone)


@lru_cache(maxsize=None)
def zone_model(taxi_type: str) -> ZoneModel:
    """The pickup/dropoff model of a taxi type (yellow: Manhattan + airports; green: outer boroughs; fhv(hv): citywide)."""
    geo = geography()
    core, upper, outer = geo.ids(geo.core), geo.ids(geo.upper), geo.ids(geo.outer)
    if taxi_type == "yellow":
        pickup = (_zipf(core, CORE_HOT, 0.862, 0.6) + _zipf(upper, UPPER_HOT, 0.018, 0.8)
                  + _point(JFK, 0.045) + _point(LAGUARDIA, 0.035) + _zipf(outer, OUTER_GREEN_HOT, 0.04, 1.0))
        dropoff = (_zipf(core, CORE_HOT, 0.80, 0.5) + _zipf(upper, UPPER_HOT, 0.04, 0.8) + _point(JFK, 0.02)
                   + _point(LAGUARDIA, 0.025) + _point(NEWARK, 0.002) + _zipf(outer, OUTER_GREEN_HOT, 0.113, 0.7))
        return _model(pickup, dropoff, {"default": 0.45, "manhattan": 0.9, "airport": 0.05}, same_zone=0.04)
    if taxi_type == "green":
        pickup = (_zipf(outer, OUTER_GREEN_HOT, 0.84, 0.8) + _zipf(upper, UPPER_HOT, 0.135, 0.8)
                  + _zipf(core, CORE_HOT, 0.02, 0.8) + _point(LAGUARDIA, 0.003) + _point(JFK, 0.002))
        dropoff = (_zipf(outer, OUTER_GREEN_HOT, 0.62, 0.6) + _zipf(upper, UPPER_HOT, 0.15, 0.6)
                   + _zipf(core, CORE_HOT, 0.2, 0.6) + _point(LAGUARDIA, 0.015) + _point(JFK, 0.015))
        return _model(pickup, dropoff, {"default": 0.7}, same_zone=0.08)
    if taxi_type in ("fhvhv", "fhv"):
        pickup = (_zipf(outer, OUTER_FHV_HOT, 0.6, 0.5) + _zipf(core, CORE_HOT, 0.28, 0.5)
                  + _zipf(upper, UPPER_HOT, 0.06, 0.6) + _point(JFK, 0.03) + _point(LAGUARDIA, 0.03))
        return _model(pickup, pickup, {"default": 0.6, "airport": 0.05}, same_zone=0.05)
    raise ValueError(f"unknown taxi type: {taxi_type!r}")


def sample_zones(model: ZoneModel, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(PULocationID, DOLocationID) int32 arrays: dropoffs correlated with pickups (same zone / same borough)."""
    geo = geography()
    pu = model.pickup(rng, n)
    do = model.dropoff(rng, n)
    u = uniform(rng, n)
    same_zone = u < model.same_zone
    same_boro = ~same_zone & (u < model.same_zone + (1 - model.same_zone) * model.same_borough[pu])
    do[same_zone] = pu[same_zone]
    pu_boro = geo.borough[pu]
    for code, sampler in enumerate(model.borough_dropoff):
        rows = np.flatnonzero(same_boro & (pu_boro == code))
        if rows.size:
            do[rows] = sampler(rng, rows.size)
    return pu, do
