"""The four inputs of issue #13 that were silently wrong, rebuilt from its description: each gives the right rows, a
counted quarantine, or a clear refusal."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.sources.base import DuplicateFilesError, PublishedTypeError
from taxi_platform.sources.fetch import fetch_local
from taxi_platform.transforms.conform import conform_month, conform_months
from taxi_platform.transforms.quarantine import classify, clean_rows, quarantined_rows
from taxi_platform_tests.transforms.published import csv_text, publish, write_csv, write_parquet

pytestmark = pytest.mark.spark


def clean_and_reasons(spark, path, taxi_type, month):
    """(clean rows as dicts sorted by pickup, {reason: rows}) of one fetched month file."""
    classified = classify(conform_month(spark.read.parquet(str(path)), taxi_type, month=month))
    clean = [r.asDict() for r in clean_rows(classified).orderBy("pickup_datetime", "dropoff_datetime").collect()]
    reasons = {r["quarantine_reason"]: r["count"] for r in quarantined_rows(classified).groupBy("quarantine_reason")
               .count().collect()}
    return clean, reasons


def fhv_trips(month_start: datetime, sr_flags):
    return [{"dispatching_base_num": "B02510", "pickup_datetime": month_start + timedelta(hours=i),
             "dropoff_datetime": month_start + timedelta(hours=i, minutes=12), "PULocationID": 161 + i,
             "DOLocationID": 236, "SR_Flag": flag, "Affiliated_base_number": "B02510"} for i, flag in enumerate(sr_flags)]


def test_sr_flag_published_as_double_all_null_or_text_is_the_tlc_text(spark, tmp_path):
    """1. FHV 2019-02 publishes SR_Flag as double (1.0 or null), 2019-03 as an all-null column, the CSV backup as
    "1": clean holds "1" (never "1.0") and null, the same for the same trips."""
    february = fhv_trips(datetime(2019, 2, 1), ["1", None, "1"])
    march = fhv_trips(datetime(2019, 3, 1), [None, None, None])
    (tmp_path / "in").mkdir()
    sources = {
        ("2019-02", "parquet double"): write_parquet(publish("fhv", "double_ns", february), tmp_path / "in" / "f.parquet",
                                                     "double_ns"),
        ("2019-02", "csv"): write_csv(csv_text("fhv", february), tmp_path / "in" / "f.csv"),
        ("2019-03", "parquet all-null"): write_parquet(publish("fhv", "typeless_nulls", march),
                                                       tmp_path / "in" / "m.parquet", "typeless_nulls"),
        ("2019-03", "csv"): write_csv(csv_text("fhv", march), tmp_path / "in" / "m.csv"),
    }
    assert pq.read_schema(sources[("2019-02", "parquet double")]).field("SR_Flag").type == pa.float64()
    assert pq.read_schema(sources[("2019-03", "parquet all-null")]).field("SR_Flag").type == pa.null()
    flags = {}
    for number, ((month, layout), path) in enumerate(sources.items()):
        fetched = fetch_local("fhv", month, tmp_path / str(number), path=path)
        clean, reasons = clean_and_reasons(spark, fetched.path, "fhv", month)
        assert reasons == {}, layout
        flags[(month, layout)] = [row["SR_Flag"] for row in clean]
    assert flags == {("2019-02", "parquet double"): ["1", None, "1"], ("2019-02", "csv"): ["1", None, "1"],
                     ("2019-03", "parquet all-null"): [None] * 3, ("2019-03", "csv"): [None] * 3}


def test_pandas_zoned_month_is_refused_naming_file_column_and_zone(tmp_path):
    """2. A yellow 2021-01 file written by pandas after tz_localize("America/New_York") (isAdjustedToUTC=true):
    every pickup would land 5 hours later and Jan 31 evening trips in February; raw refuses it instead."""
    path = write_parquet(publish("yellow", "zoned"), tmp_path / "yellow_tripdata_2021-01.parquet", "zoned")
    assert "isAdjustedToUTC=true" in str(pq.ParquetFile(path).schema.column(1).logical_type)
    with pytest.raises(PublishedTypeError) as refused:
        fetch_local("yellow", "2021-01", tmp_path / "work", path=path)
    message = str(refused.value)
    assert str(path) in message and "tpep_pickup_datetime" in message and "America/New_York" in message
    assert "tz_localize(None)" in message  # says how to fix it
    assert not list((tmp_path / "work").glob("*.parquet"))


def test_month_of_text_columns_parses_like_csv_and_quarantines_what_cannot_be_parsed(spark, tmp_path):
    """3. Every column text, '' for missing (pandas/ADF conversions): the rows equal the typed month's; a value that
    cannot be converted sends its row to quarantine as unparseable:<column>, never a crash naming nothing."""
    typed = write_parquet(publish("green", "int64_us"), tmp_path / "typed.parquet", "int64_us")
    text = publish("green", "text")
    assert set(text.schema.types) == {pa.string()}
    bad = dict(text.to_pylist()[0], fare_amount="abc", passenger_count="1.0", lpep_pickup_datetime="2021-01-07 10:00:00")
    texts = write_parquet(pa.concat_tables([text, pa.Table.from_pylist([bad], schema=text.schema)]),
                          tmp_path / "text.parquet", "text")
    fractional = publish("green", "double_ns").to_pylist()[:1]
    fractional[0]["passenger_count"] = 1.5
    fraction = write_parquet(pa.Table.from_pylist(fractional, schema=publish("green", "double_ns").schema),
                             tmp_path / "fraction.parquet", "double_ns")

    typed_clean, typed_reasons = clean_and_reasons(spark, typed, "green", "2021-01")
    text_clean, text_reasons = clean_and_reasons(spark, texts, "green", "2021-01")
    assert text_clean == typed_clean and len(text_clean) == 5
    assert text_reasons == {**typed_reasons, "unparseable:fare_amount": 1}
    _, fraction_reasons = clean_and_reasons(spark, fraction, "green", "2021-01")
    assert fraction_reasons == {"unparseable:passenger_count": 1}  # 1.5 passengers is not a count


def test_exact_duplicate_rows_are_quarantined_and_counted_and_identical_files_refused(spark, tmp_path):
    """4. A month with 3 exact duplicate rows: 40 clean + 3 duplicate_row; a month folder holding the same file twice
    (``x.parquet`` and a byte-identical ``x (1).parquet``) is refused, naming both."""
    start = datetime(2021, 3, 1, 6, 0)
    rows = [dict(publish("green", "int64_us").to_pylist()[0], lpep_pickup_datetime=start + timedelta(minutes=17 * i),
                 lpep_dropoff_datetime=start + timedelta(minutes=17 * i + 9), total_amount=10.0 + i)
            for i in range(40)]
    schema = publish("green", "int64_us").schema
    table = pa.Table.from_pylist(rows + rows[5:8], schema=schema)
    path = write_parquet(table, tmp_path / "dups.parquet", "int64_us")
    published = spark.read.parquet(str(path))
    classified = classify(conform_months({"2021-03": published}, "green"))
    clean = clean_rows(classified)
    assert clean.count() == 40
    assert clean.distinct().count() == 40
    assert {r[0]: r[1] for r in quarantined_rows(classified).groupBy("quarantine_reason").count().collect()} == {
        "duplicate_row": 3}
    assert round(sum(r.total_amount for r in clean.collect()), 2) == round(sum(10.0 + i for i in range(40)), 2)

    folder = tmp_path / "green" / "2021" / "03"
    folder.mkdir(parents=True)
    shutil.copyfile(write_parquet(table.slice(0, 40), tmp_path / "once.parquet", "int64_us"),
                    folder / "green_tripdata_2021-03.parquet")
    shutil.copyfile(folder / "green_tripdata_2021-03.parquet", folder / "green_tripdata_2021-03 (1).parquet")
    with pytest.raises(DuplicateFilesError, match=r"green_tripdata_2021-03 \(1\)\.parquet = green_tripdata_2021-03"
                       r"\.parquet|green_tripdata_2021-03\.parquet = green_tripdata_2021-03 \(1\)\.parquet"):
        fetch_local("green", "2021-03", tmp_path / "work", path=folder)
    assert not list((tmp_path / "work").glob("*.parquet"))


def test_likely_duplicates_by_the_course_key_are_counted_per_month(spark):
    """Rows sharing (VendorID, pickup, dropoff, PULocationID, DOLocationID) but not every value: the share the WARN
    check ``likely_duplicates`` reports."""
    from taxi_platform.transforms.quarantine import likely_duplicates_by_month

    t = datetime(2021, 1, 5, 8, 0)
    rows = [(1, t + timedelta(minutes=i), t + timedelta(minutes=i + 9), 161, 236, 10.0 + i, "2021-01") for i in range(8)]
    rows += [(1, t, t + timedelta(minutes=9), 161, 236, 99.0, "2021-01"),  # the first trip again, another amount
             (2, t, t + timedelta(minutes=9), 161, 236, 10.0, "2021-01"),  # another vendor: another trip
             (1, t, t + timedelta(minutes=9), 161, 236, 10.0, "2021-02")]
    trips = spark.createDataFrame(rows, "VendorID int, pickup_datetime timestamp, dropoff_datetime timestamp, "
                                        "PULocationID int, DOLocationID int, total_amount double, month string")
    assert likely_duplicates_by_month(trips) == {
        "2021-01": {"rows": 10, "likely_duplicates": 1, "share": 0.1},
        "2021-02": {"rows": 1, "likely_duplicates": 0, "share": 0.0},
    }
