"""reports/monthly_answers: the course's homework questions for a month of one taxi type, answered by the platform.

Spark version, average parquet file size after ``repartition(N)``, trips started on a given day, longest trip in
hours, least frequent pickup zone (and the Spark UI port the session really uses). The logic is in
``transforms/answers.py``; this module picks the data, the scratch folder and shows the answers in the UI.

- Group ``analytics``: like ``reports/hourly_revenue_by_zone`` it is a course exercise beside the revenue pipeline,
  needs ``ref/taxi_zones`` and a Spark session in the run's process (so it is left out of the dataproc variant with
  the other analytics assets), and the ``course_analytics`` job runs it. In group ``reports`` it would join the
  ``monthly_revenue`` job, which does not materialize the zones or the for-hire types.
- Config (launchpad): ``taxi_type`` (green, yellow, fhv, fhvhv), ``repartition`` (N), ``day`` (of the month, default
  the 15th), ``include_quarantined`` (default false: the clean trips; true: clean + quarantined rows, i.e. every raw
  row, which is what the course's answers count, e.g. trips longer than 24 h).
- Which data: the clean (and quarantine) months of the configured type. All four types' clean and quarantine
  datasets are optional inputs (lazy DataFrames from the lake IO manager, ``lake/optional``: only the months it
  holds), so only the configured type's are read, and only it must be materialized (else the lake's clear error
  naming the dataset and the missing months).
- The file-size question writes to a staging folder the lake's store hands out (``{lake}/_staging/...``, ignored by
  every reader, local or gs://) and removes it afterwards, also on failure.
- Output: one row per month (``transforms/answers.MONTHLY_ANSWERS_SCHEMA``) in the lake. The month's folder holds the
  answers of the last run's taxi type (a run for another type replaces it; every run's answers stay in the asset's
  materialization history). Metadata: each answer as typed metadata (``answer/...``) when the run is one month, and
  an ``answers`` table (month, question, answer) for any range.
"""

from datetime import date
from typing import Literal

from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    Config,
    MetadataValue,
    Output,
    ResourceParam,
    TableColumn,
    TableRecord,
    TableSchema,
)
from pydantic import Field

from taxi_platform.defs.monthly import monthly_lake_asset
from taxi_platform.defs.revenue.clean import clean_key, quarantine_key
from taxi_platform.defs.reference.zones import TAXI_ZONES_KEY
from taxi_platform.checks.contracts import build_schema_check
from taxi_platform.io_managers.lake import OPTIONAL_INPUT_KEY, LakeIOManager
from taxi_platform.partitions import parse_month
from taxi_platform.resources.spark import SparkResource
from taxi_platform.transforms.answers import MONTHLY_ANSWERS_SCHEMA

MONTHLY_ANSWERS_KEY = AssetKey(["reports", "monthly_answers"])
ANSWER_TAXI_TYPES = ("green", "yellow", "fhv", "fhvhv")
ANSWER_PREFIX = "answer/"
ROWS_CLEAN, ROWS_ALL = "clean", "clean+quarantine"


class MonthlyAnswersConfig(Config):
    taxi_type: Literal["green", "yellow", "fhv", "fhvhv"] = Field(
        default="green", description="Which taxi type's month to answer about."
    )
    repartition: int = Field(
        default=6, description="N of repartition(N) for the average parquet file size question (>= 1)."
    )
    day: int = Field(default=15, description="Day of the month for 'trips started on this day' (1..31).")
    include_quarantined: bool = Field(
        default=False,
        description="Answer over clean + quarantined rows (every raw row, as the course counts) instead of the "
        "clean trips only.",
    )


def day_of(month: str, day: int) -> date:
    year, number = parse_month(month)
    try:
        return date(year, number, day)
    except ValueError:
        raise ValueError(f"reports/monthly_answers: day {day} is not a day of {month} (config 'day')") from None


def input_name(dataset: str, taxi_type: str) -> str:
    return f"{dataset}_{taxi_type}"  # e.g. clean_green, quarantine_fhv


# Every type's clean and quarantine months are inputs, optional (the lake hands over only the months it holds, or
# None): lazy DataFrames, so only the configured type's are ever read, and a type never materialized is no error
# until it is the one asked about (then ``require_months`` names the dataset and the missing months).
ANSWER_INS = {
    input_name(dataset, t): AssetIn(key=key_of(t), metadata={OPTIONAL_INPUT_KEY: True})
    for t in ANSWER_TAXI_TYPES
    for dataset, key_of in (("clean", clean_key), ("quarantine", quarantine_key))
}


def require_months(lake: LakeIOManager, key: AssetKey, months: list[str]) -> None:
    """A clear error (the lake's own) naming the dataset and the months it does not hold."""
    lake.month_files(lake.store(), key, months)


def _typed(value):
    if value is None:
        return MetadataValue.null()
    if isinstance(value, bool):
        return MetadataValue.bool(value)
    if isinstance(value, int):
        return MetadataValue.int(value)
    if isinstance(value, float):
        return MetadataValue.float(value)
    return MetadataValue.text(str(value))


# (row column, question as the course asks it)
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("spark_version", "Spark version"),
    ("avg_parquet_file_mib", "Average parquet file size after repartition(N), MiB"),
    ("avg_parquet_file_bytes", "Average parquet file size after repartition(N), bytes"),
    ("trips_on_day", "Trips started on the day"),
    ("longest_trip_hours", "Longest trip, hours"),
    ("least_frequent_pickup_zone", "Least frequent pickup zone"),
    ("spark_ui_port", "Spark UI port"),
)


def answers_metadata(rows: list[dict]) -> dict:
    """Typed ``answer/...`` entries (one-month runs) and an ``answers`` table (month, question, answer)."""
    metadata: dict = {}
    if len(rows) == 1:
        row = rows[0]
        for column, _ in MONTHLY_ANSWERS_SCHEMA:
            value = row[column]
            metadata[ANSWER_PREFIX + column] = _typed(value.isoformat() if isinstance(value, date) else value)
    records = []
    for row in rows:
        for column, question in QUESTIONS:
            value = row[column]
            if column == "avg_parquet_file_mib" and value is not None:
                value = round(value, 3)
            if column == "least_frequent_pickup_zone" and value is not None:
                zone_id, trips = row["least_frequent_pickup_zone_id"], row["least_frequent_pickup_trips"]
                value = f"{value} (LocationID {zone_id}, {trips} trips)"
            if column == "trips_on_day":
                question = f"{question} ({row['day'].isoformat()})"
            if column.startswith("avg_parquet"):
                question = question.replace("(N)", f"({row['repartition_n']})")
            records.append(TableRecord(data={"month": row["month"], "question": question,
                                             "answer": "none" if value is None else str(value)}))
    metadata["answers"] = MetadataValue.table(
        records=records,
        schema=TableSchema(columns=[TableColumn("month", "string"), TableColumn("question", "string"),
                                    TableColumn("answer", "string")]),
    )
    metadata["months"] = MetadataValue.json([row["month"] for row in rows])
    return metadata


@monthly_lake_asset(
    key=MONTHLY_ANSWERS_KEY,
    ins={"zones": AssetIn(key=TAXI_ZONES_KEY), **ANSWER_INS},
    contract=MONTHLY_ANSWERS_SCHEMA,
    files_per_partition=1,
    group_name="analytics",
    kinds={"spark", "parquet"},
    description="The course's homework answers for a month of one taxi type (config): Spark version, average "
    "parquet file size after repartition(N), trips started on a day, longest trip in hours, least frequent pickup "
    "zone (ties: fewest trips, then zone name, then LocationID), Spark UI port. Each answer is in the metadata.",
)
def monthly_answers(
    context: AssetExecutionContext,
    config: MonthlyAnswersConfig,
    spark: SparkResource,
    lake_io_manager: ResourceParam[LakeIOManager],
    zones,
    clean_green, quarantine_green, clean_yellow, quarantine_yellow,
    clean_fhv, quarantine_fhv, clean_fhvhv, quarantine_fhvhv,
) -> Output:
    from pyspark.sql import functions as F

    from taxi_platform.schemas import MONTH_COLUMN, QUARANTINE_REASON_COLUMN
    from taxi_platform.transforms.answers import answers_frame
    from taxi_platform.transforms.answers import monthly_answers as answers_of

    if config.repartition < 1:
        raise ValueError(f"reports/monthly_answers: repartition must be >= 1; got {config.repartition}")
    months = sorted(context.partition_keys)
    days = {month: day_of(month, config.day) for month in months}  # a bad day fails before any Spark work
    taxi = config.taxi_type
    inputs = {"clean_green": clean_green, "quarantine_green": quarantine_green, "clean_yellow": clean_yellow,
              "quarantine_yellow": quarantine_yellow, "clean_fhv": clean_fhv, "quarantine_fhv": quarantine_fhv,
              "clean_fhvhv": clean_fhvhv, "quarantine_fhvhv": quarantine_fhvhv}
    require_months(lake_io_manager, clean_key(taxi), months)
    data = inputs[input_name("clean", taxi)]  # a lazy DataFrame of the run's months: nothing read until used
    if config.include_quarantined:
        require_months(lake_io_manager, quarantine_key(taxi), months)
        data = data.unionByName(inputs[input_name("quarantine", taxi)].drop(QUARANTINE_REASON_COLUMN))
    ui_url = spark.describe().get("spark_ui")
    store = lake_io_manager.store()
    answers = []
    for month in months:
        trips = data.where(F.col(MONTH_COLUMN) == month).drop(MONTH_COLUMN)
        scratch = store.new_staging(f"{context.run_id}-answers-{month}")
        try:
            answers.append(answers_of(
                trips, zones, month=month, taxi_type=taxi, day=days[month], partitions=config.repartition,
                scratch_path=scratch, ui_url=ui_url, rows_used=ROWS_ALL if config.include_quarantined else ROWS_CLEAN,
            ))
        finally:
            store.discard(scratch)
        context.log.info(f"{taxi} {month}: {answers[-1].as_row()}")
    rows = [a.as_row() for a in answers]
    return Output(answers_frame(spark.get_session(), answers), metadata=answers_metadata(rows))


answers_assets = [monthly_answers]
answers_checks = [build_schema_check(MONTHLY_ANSWERS_KEY, MONTHLY_ANSWERS_SCHEMA)]
