"""The course's homework questions about one month of one taxi type (plain DataFrame functions, no Dagster).

Every function takes a DataFrame of trips with ``pickup_datetime``, ``dropoff_datetime`` and ``PULocationID`` (the
clean datasets of every taxi type: green, yellow, fhv, fhvhv) and answers one question:

- ``spark_version(spark)``: the session's Spark version.
- ``parquet_file_sizes(df, partitions, path)``: the trips written with ``repartition(partitions)`` as parquet to
  ``path`` (a scratch folder the caller chose and removes afterwards), and the real sizes of the part files written,
  as the file system reports them (Spark's ``_metadata.file_size``: the same code measures a local folder, gs:// and
  a Spark Connect server's files). The average is over the files that hold rows (Spark writes no file for an empty
  partition, except one schema-only file when there are no rows at all, which is not counted).
- ``trip_facts(trips, day)``: in one pass, the number of trips, the trips that started on ``day`` (the date of
  ``pickup_datetime``: TLC times are New York wall-clock times, which a UTC session keeps as they are) and the
  longest trip in hours (dropoff - pickup, to the microsecond; trips with a null timestamp are left out).
- ``least_frequent_pickup_zone(trips, zones)``: the pickup zone with the fewest trips, joined with the zone lookup
  (``LocationID``, ``Borough``, ``Zone``). Only zones with at least one pickup compete (as the course's group-by);
  trips whose ``PULocationID`` is null or not in the lookup are left out. Zones are counted by ``LocationID``, so
  two ids sharing a name (56 and 57 "Corona") are two zones. **Ties**: fewest trips first, then the zone name
  (ascending), then the ``LocationID`` (ascending), so the answer is the same on every run and target.
- The Spark UI port is not a question of the data: ``spark_ui_port(ui_url)`` reads it from the session's UI address.

``monthly_answers(...)`` runs them all for one month and gives a ``MonthlyAnswers``; ``answers_frame`` turns a list of
them into a one-row-per-month DataFrame with ``MONTHLY_ANSWERS_SCHEMA`` (+ ``month``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Optional
from urllib.parse import urlsplit

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from taxi_platform.schemas import MONTH_COLUMN, Contract

MICROS_PER_HOUR = 3_600_000_000
BYTES_PER_MIB = 1024 * 1024
UI_DISABLED = "disabled"

MONTHLY_ANSWERS_SCHEMA: Contract = (
    ("taxi_type", "string"),
    ("rows_used", "string"),  # "clean" or "clean+quarantine" (every raw row, as the course counts)
    ("trips", "long"),
    ("spark_version", "string"),
    ("spark_ui_port", "string"),
    ("repartition_n", "int"),
    ("parquet_files", "int"),
    ("parquet_bytes", "long"),
    ("avg_parquet_file_bytes", "double"),
    ("avg_parquet_file_mib", "double"),
    ("day", "date"),
    ("trips_on_day", "long"),
    ("longest_trip_hours", "double"),
    ("least_frequent_pickup_zone", "string"),
    ("least_frequent_pickup_zone_id", "int"),
    ("least_frequent_pickup_borough", "string"),
    ("least_frequent_pickup_trips", "long"),
)


# ---- Spark version and UI port ---------------------------------------------------------------------------------------
def spark_version(spark) -> str:
    return str(spark.version)


def spark_ui_port(ui_url: Optional[str]) -> str:
    """The port of the Spark UI at ``ui_url`` (e.g. "http://127.0.0.1:4040" -> "4040"); "disabled" without a UI.

    The course's answer is 4040, Spark's default; Spark takes the next free port (4041, ...) when it is busy, so the
    session's own address is the true answer. An ``sc://`` address (Spark Connect) has no UI on the client side: the
    UI is the server's, and the answer says so.
    """
    if not ui_url:
        return UI_DISABLED
    parts = urlsplit(ui_url)
    if parts.scheme == "sc":
        return "n/a (Spark Connect: the Spark UI is on the server)"
    return str(parts.port) if parts.port else UI_DISABLED


# ---- average parquet file size after repartition(N) ------------------------------------------------------------------
@dataclass(frozen=True)
class ParquetFileSizes:
    partitions: int
    sizes: dict[str, int] = field(default_factory=dict)  # file URI -> bytes, for every part file holding rows

    @property
    def files(self) -> int:
        return len(self.sizes)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes.values())

    @property
    def average_bytes(self) -> Optional[float]:
        return self.total_bytes / self.files if self.files else None


def parquet_file_sizes(df: DataFrame, partitions: int, path: str) -> ParquetFileSizes:
    """Write ``df.repartition(partitions)`` as parquet to ``path`` and measure the written part files.

    ``path`` is a scratch folder the caller owns (it is overwritten, and the caller removes it): this function never
    chooses a location. Sizes come from the file system through Spark (``_metadata.file_size``), not from estimates.
    """
    if partitions < 1:
        raise ValueError(f"repartition needs at least 1 partition; got {partitions}")
    df.repartition(partitions).write.mode("overwrite").parquet(path)
    written = df.sparkSession.read.parquet(path).select(
        F.col("_metadata.file_path").alias("file"), F.col("_metadata.file_size").alias("bytes")
    )
    rows = written.groupBy("file", "bytes").count().collect()
    return ParquetFileSizes(partitions=partitions, sizes={str(r["file"]): int(r["bytes"]) for r in rows})


# ---- trips on a day, longest trip ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TripFacts:
    trips: int
    day: date
    trips_on_day: int
    longest_trip_hours: Optional[float]  # None when no trip has both timestamps


def started_on(day: date) -> Column:
    """True for a trip whose pickup is on ``day`` (its wall-clock date)."""
    return F.to_date(F.col("pickup_datetime")) == F.lit(day.isoformat()).cast("date")


def trip_micros() -> Column:
    """dropoff - pickup in microseconds (null when either is null)."""
    return F.unix_micros(F.col("dropoff_datetime")) - F.unix_micros(F.col("pickup_datetime"))


def trip_facts(trips: DataFrame, day: date) -> TripFacts:
    """Trips, trips started on ``day`` and the longest trip in hours, in one Spark job."""
    row = trips.agg(
        F.count(F.lit(1)).alias("trips"),
        F.count(F.when(started_on(day), 1)).alias("on_day"),
        F.max(trip_micros()).alias("longest_micros"),
    ).collect()[0]
    longest = row["longest_micros"]
    return TripFacts(
        trips=int(row["trips"]),
        day=day,
        trips_on_day=int(row["on_day"]),
        longest_trip_hours=None if longest is None else int(longest) / MICROS_PER_HOUR,
    )


# ---- least frequent pickup zone --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ZoneCount:
    location_id: int
    zone: str
    borough: str
    trips: int


def pickups_per_zone(trips: DataFrame, zones: DataFrame) -> DataFrame:
    """(LocationID, Zone, Borough, trips) for every lookup zone with at least one pickup, least frequent first
    (ties: zone name, then LocationID)."""
    counts = trips.where(F.col("PULocationID").isNotNull()).groupBy("PULocationID").agg(F.count(F.lit(1)).alias("trips"))
    named = counts.join(
        F.broadcast(zones.select("LocationID", "Zone", "Borough")),
        counts["PULocationID"] == F.col("LocationID"),
        "inner",
    )
    return named.select("LocationID", "Zone", "Borough", "trips").orderBy(
        F.col("trips").asc(), F.col("Zone").asc_nulls_last(), F.col("LocationID").asc()
    )


def least_frequent_pickup_zone(trips: DataFrame, zones: DataFrame) -> Optional[ZoneCount]:
    """The pickup zone with the fewest trips (see the module docstring for ties); None when no trip has a zone."""
    rows = pickups_per_zone(trips, zones).limit(1).collect()
    if not rows:
        return None
    r = rows[0]
    return ZoneCount(location_id=int(r["LocationID"]), zone=str(r["Zone"] or ""), borough=str(r["Borough"] or ""),
                     trips=int(r["trips"]))


# ---- all of them for one month ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MonthlyAnswers:
    month: str
    taxi_type: str
    rows_used: str
    spark_version: str
    spark_ui_port: str
    file_sizes: ParquetFileSizes
    facts: TripFacts
    least_frequent_zone: Optional[ZoneCount]

    def as_row(self) -> dict:
        """One row of ``MONTHLY_ANSWERS_SCHEMA`` (+ ``month``), plain Python values."""
        average = self.file_sizes.average_bytes
        zone = self.least_frequent_zone
        return {
            "taxi_type": self.taxi_type,
            "rows_used": self.rows_used,
            "trips": self.facts.trips,
            "spark_version": self.spark_version,
            "spark_ui_port": self.spark_ui_port,
            "repartition_n": self.file_sizes.partitions,
            "parquet_files": self.file_sizes.files,
            "parquet_bytes": self.file_sizes.total_bytes,
            "avg_parquet_file_bytes": average,
            "avg_parquet_file_mib": None if average is None else average / BYTES_PER_MIB,
            "day": self.facts.day,
            "trips_on_day": self.facts.trips_on_day,
            "longest_trip_hours": self.facts.longest_trip_hours,
            "least_frequent_pickup_zone": zone.zone if zone else None,
            "least_frequent_pickup_zone_id": zone.location_id if zone else None,
            "least_frequent_pickup_borough": zone.borough if zone else None,
            "least_frequent_pickup_trips": zone.trips if zone else None,
            MONTH_COLUMN: self.month,
        }


def monthly_answers(
    trips: DataFrame,
    zones: DataFrame,
    *,
    month: str,
    taxi_type: str,
    day: date,
    partitions: int,
    scratch_path: str,
    ui_url: Optional[str] = None,
    rows_used: str = "clean",
) -> MonthlyAnswers:
    """Every answer for one month's ``trips`` (drop ``month`` first if the caller wants it out of the files written
    for the file-size question). ``scratch_path`` is where that question writes; the caller removes it."""
    return MonthlyAnswers(
        month=month,
        taxi_type=taxi_type,
        rows_used=rows_used,
        spark_version=spark_version(trips.sparkSession),
        spark_ui_port=spark_ui_port(ui_url),
        file_sizes=parquet_file_sizes(trips, partitions, scratch_path),
        facts=trip_facts(trips, day),
        least_frequent_zone=least_frequent_pickup_zone(trips, zones),
    )


def answers_frame(spark, answers: list[MonthlyAnswers]) -> DataFrame:
    """The answers as a DataFrame: one row per month, ``MONTHLY_ANSWERS_SCHEMA`` + ``month``."""
    from taxi_platform.schemas import spark_schema

    schema = spark_schema(tuple(MONTHLY_ANSWERS_SCHEMA) + ((MONTH_COLUMN, "string"),))
    return spark.createDataFrame([tuple(a.as_row()[f.name] for f in schema.fields) for a in answers], schema)
