"""Reference data the package ships: the public TLC taxi zone lookup (265 zones)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

ZONE_LOOKUP_FILE = "taxi_zone_lookup.csv"
# The highest LocationID in the TLC lookup. 264 ("NV") and 265 ("NA") are the lookup's own "Unknown" zones:
# they are valid IDs the TLC uses for trips it could not place, so they are kept, not quarantined.
MIN_ZONE_ID = 1
MAX_ZONE_ID = 265


def zone_lookup_path() -> Path:
    """Path of the shipped copy of the TLC zone lookup CSV (LocationID, Borough, Zone, service_zone)."""
    return Path(str(resources.files("taxi_platform") / "data" / ZONE_LOOKUP_FILE))


def load_zone_lookup():
    """The zone lookup as a pyarrow Table with the contract types (LocationID int32, the rest strings)."""
    import pyarrow as pa
    from pyarrow import csv

    from taxi_platform.schemas import TAXI_ZONES_SCHEMA, arrow_schema

    schema = arrow_schema(TAXI_ZONES_SCHEMA)
    # Read through importlib.resources (not a filesystem path) so it also works when the package runs from a zip.
    data = (resources.files("taxi_platform") / "data" / ZONE_LOOKUP_FILE).read_bytes()
    return csv.read_csv(
        pa.BufferReader(data),
        convert_options=csv.ConvertOptions(column_types=schema, strings_can_be_null=False),
    ).select(schema.names)
