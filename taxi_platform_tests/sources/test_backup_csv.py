"""kind="backup": the course's gzip CSVs (built from real TLC CSV heads): raw keeps each CSV's text under the course
schema's names (``csv_backup.text_schema``); clean converts it to the explicit course schema (checked here through
``conform_month``, against values typed by hand)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pyarrow.parquet as pq
import pytest

from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.schemas import COURSE_SCHEMAS
from taxi_platform.sources import CorruptFileError, EmptyMonthError, MonthNotFoundError, WrongTaxiTypeError
from taxi_platform.sources import csv_backup
from taxi_platform.sources.csv_backup import csv_to_parquet, text_schema
from taxi_platform_tests.sources.helpers import data_lines, gz, head_text, require_heads

TEMPLATE = "/{prefix}/{{taxi_type}}/{{taxi_type}}_tripdata_{{year}}-{{month:02d}}.csv.gz"


def backup(http_server, prefix: str, **config) -> TaxiSourceResource:
    config.setdefault("backoff_seconds", 0.01)
    return TaxiSourceResource(
        kind="backup", backup_url_template=http_server.base_url + TEMPLATE.format(prefix=prefix), **config
    )


def serve_csv(http_server, prefix: str, taxi_type: str, month: str, text: str) -> str:
    return http_server.add(f"/{prefix}/{taxi_type}/{taxi_type}_tripdata_{month}.csv.gz", gz(text))


def text_rows(text: str, taxi_type: str) -> list[dict]:
    """The CSV's rows as raw must keep them: {schema name: the field's text, None for ''}; absent columns None."""
    by_lower = {name.lower(): name for name, _ in COURSE_SCHEMAS[taxi_type]}
    return [dict(dict.fromkeys(by_lower.values()), **{by_lower[k.lower()]: v or None for k, v in raw.items()})
            for raw in csv.DictReader(io.StringIO(text))]


def clean_values(spark, path, taxi_type: str) -> list[dict]:
    """The raw month at ``path`` conformed by clean ({course name: value}, in file order; no unparseable value)."""
    from taxi_platform.transforms.conform import UNPARSEABLE_COLUMN, conform_month

    rows = conform_month(spark.read.parquet(str(path)), taxi_type).collect()
    assert all(r[UNPARSEABLE_COLUMN] is None for r in rows)
    names = [name for name, _ in COURSE_SCHEMAS[taxi_type]]
    return [dict(zip(names, tuple(r)[:len(names)])) for r in rows]


def expected_rows(text: str, taxi_type: str) -> list[dict]:
    """The CSV's rows typed by hand (independently of pyarrow), keyed by the schema's names; absent columns null."""
    kinds = dict(COURSE_SCHEMAS[taxi_type])
    by_lower = {name.lower(): name for name in kinds}
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        row = dict.fromkeys(kinds)
        for key, value in raw.items():
            name = by_lower[key.lower()]
            kind = kinds[name]
            if value == "":
                row[name] = None
            elif kind == "int":
                row[name] = int(float(value))
            elif kind == "double":
                row[name] = float(value)
            elif kind == "timestamp":
                row[name] = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
            else:
                row[name] = value
        rows.append(row)
    return rows


@pytest.mark.parametrize(
    "taxi_type, month",
    [("green", "2019-01"), ("yellow", "2020-06"), ("fhv", "2019-10"), ("fhvhv", "2020-01")],
)
def test_real_heads_parse_to_the_course_schema(http_server, tmp_path, taxi_type, month):
    text = head_text(f"{taxi_type}_tripdata_{month}.csv")
    url = serve_csv(http_server, "heads", taxi_type, month, text)
    fetched = backup(http_server, "heads").fetch_month(taxi_type, month, tmp_path)
    table = pq.read_table(fetched.path)
    assert table.schema.equals(text_schema(taxi_type))
    assert fetched.num_rows == table.num_rows == data_lines(text)
    assert fetched.source_uri == url and fetched.path == tmp_path / f"{taxi_type}_tripdata_{month}.parquet"
    assert table.to_pylist() == text_rows(text, taxi_type)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fetched.path.name]  # the downloaded .csv.gz is gone


@pytest.mark.spark
def test_real_quirks_green_2019_01(spark, http_server, tmp_path):
    text = head_text("green_tripdata_2019-01.csv")
    serve_csv(http_server, "quirks", "green", "2019-01", text)
    rows = clean_values(spark, backup(http_server, "quirks").fetch_month("green", "2019-01", tmp_path).path, "green")
    first = rows[0]
    assert first["trip_distance"] == 0.0  # ".00"
    assert rows[1]["trip_distance"] == 0.86  # ".86"
    assert first["ehail_fee"] is None and first["congestion_surcharge"] is None  # empty fields
    assert first["lpep_pickup_datetime"] == datetime(2018, 12, 21, 15, 17, 29)  # out-of-month pickup kept as published
    assert (first["VendorID"], first["PULocationID"], first["total_amount"]) == (2, 264, 4.3)


def test_real_quirks_fhv_and_fhvhv(http_server, tmp_path):
    serve_csv(http_server, "quirks2", "fhv", "2019-10", head_text("fhv_tripdata_2019-10.csv"))
    serve_csv(http_server, "quirks2", "fhvhv", "2020-01", head_text("fhvhv_tripdata_2020-01.csv"))
    resource = backup(http_server, "quirks2")
    fhv = pq.read_table(resource.fetch_month("fhv", "2019-10", tmp_path).path).to_pylist()
    assert fhv[0]["dispatching_base_num"] == "B00009" and fhv[0]["PULocationID"] == "264"
    assert all(r["SR_Flag"] is None and r["Affiliated_base_number"] is None for r in fhv)
    fhvhv = pq.read_table(resource.fetch_month("fhvhv", "2020-01", tmp_path).path).to_pylist()
    assert fhvhv[0]["hvfhs_license_num"] == "HV0003" and fhvhv[0]["SR_Flag"] is None


@pytest.mark.spark
def test_every_real_head_parses(spark, tmp_path):
    """All real heads (2019-01..2020-06, four taxi types): every era's header fits the course schema, raw keeps the
    text, and clean converts every value to what it is typed by hand (one Spark read per taxi type)."""
    from pyspark.sql import functions as F

    heads = sorted(require_heads().glob("*_tripdata_*.csv"))
    assert len(heads) >= 60
    expected: dict[str, dict[str, list]] = {}
    for head in heads:
        taxi_type = head.name.split("_tripdata_")[0]
        text = head.read_text()
        dest = tmp_path / f"{head.stem}.parquet"
        rows = csv_to_parquet([head], dest, taxi_type, describe=head.stem, wheres=[str(head)])
        assert rows == data_lines(text), head.name
        assert pq.read_table(dest).to_pylist() == text_rows(text, taxi_type), head.name
        expected.setdefault(taxi_type, {})[dest.as_uri()] = expected_rows(text, taxi_type)
    from taxi_platform.transforms.conform import UNPARSEABLE_COLUMN, conform_month

    names = {t: [name for name, _ in COURSE_SCHEMAS[t]] for t in expected}
    for taxi_type, by_file in expected.items():
        published = spark.read.parquet(*by_file).withColumn("month", F.input_file_name())
        got: dict[str, list] = {}
        for row in conform_month(published, taxi_type).collect():
            values = row.asDict()
            assert values.pop(UNPARSEABLE_COLUMN) is None, values
            got.setdefault(values.pop("month"), []).append(dict(zip(names[taxi_type], values.values())))
        key = lambda r: repr(sorted(r.items(), key=repr))  # noqa: E731
        assert {f: sorted(r, key=key) for f, r in got.items()} == {f: sorted(r, key=key) for f, r in by_file.items()}


def test_fhv_backup_header_casing_is_mapped(http_server, tmp_path):
    """The course backup's FHV header: dropOff_datetime, PUlocationID, DOlocationID, plus Affiliated_base_number."""
    lines = head_text("fhv_tripdata_2019-10.csv").splitlines()
    header = "dispatching_base_num,pickup_datetime,dropOff_datetime,PUlocationID,DOlocationID,SR_Flag,Affiliated_base_number"
    body = "\n".join([header] + [f"{line},B02{i}" for i, line in enumerate(lines[1:])]) + "\n"
    serve_csv(http_server, "casing", "fhv", "2019-10", body)
    table = pq.read_table(backup(http_server, "casing").fetch_month("fhv", "2019-10", tmp_path).path)
    assert table.column_names == [n for n, _ in COURSE_SCHEMAS["fhv"]]
    assert table.column("dropoff_datetime")[0].as_py() == "2019-10-01 00:35:00"
    assert table.column("PULocationID").to_pylist()[:3] == ["264", "264", "264"]
    assert table.column("Affiliated_base_number").to_pylist()[:2] == ["B020", "B021"]


@pytest.mark.spark
def test_integer_columns_written_as_floats(spark, http_server, tmp_path):
    """"1.0" is the int 1 in clean; "1.5" passengers is kept as text in raw and quarantined as unparseable by clean
    (not a refusal of the month)."""
    from taxi_platform.transforms.conform import conform_month
    from taxi_platform.transforms.quarantine import classify

    lines = head_text("yellow_tripdata_2020-06.csv").splitlines()
    fields = lines[1].split(",")
    fields[0], fields[3], fields[5] = "1.0", "2.0", ""  # VendorID 1.0, passenger_count 2.0, RatecodeID empty
    serve_csv(http_server, "floats", "yellow", "2020-06", "\n".join([lines[0], ",".join(fields)]) + "\n")
    path = backup(http_server, "floats").fetch_month("yellow", "2020-06", tmp_path).path
    row = clean_values(spark, path, "yellow")[0]
    assert (row["VendorID"], row["passenger_count"], row["RatecodeID"]) == (1, 2, None)

    half = list(fields)
    half[3] = "1.5"
    serve_csv(http_server, "half", "yellow", "2020-06",
              "\n".join([lines[0], ",".join(half)] + lines[2:]) + "\n")
    path = backup(http_server, "half").fetch_month("yellow", "2020-06", tmp_path / "half").path
    assert pq.read_table(path).column("passenger_count")[0].as_py() == "1.5"  # raw: as published
    reasons = [r.quarantine_reason for r in classify(conform_month(spark.read.parquet(str(path)), "yellow",
                                                                   month="2020-06")).collect()]
    assert reasons.count("unparseable:passenger_count") == 1 and len(reasons) == len(lines) - 1


def test_known_extra_column_is_dropped(http_server, tmp_path):
    lines = head_text("yellow_tripdata_2020-06.csv").splitlines()
    body = "\n".join([lines[0] + ",airport_fee"] + [line + ",0" for line in lines[1:]]) + "\n"
    serve_csv(http_server, "airport", "yellow", "2020-06", body)
    table = pq.read_table(backup(http_server, "airport").fetch_month("yellow", "2020-06", tmp_path).path)
    assert table.schema.equals(text_schema("yellow")) and table.num_rows == len(lines) - 1


def test_missing_and_unknown_columns_are_named(http_server, tmp_path):
    text = head_text("yellow_tripdata_2020-06.csv")
    rows = list(csv.reader(io.StringIO(text)))
    drop = rows[0].index("fare_amount")
    no_fare = "\n".join(",".join(r[:drop] + r[drop + 1 :]) for r in rows) + "\n"
    url = serve_csv(http_server, "header", "yellow", "2020-06", no_fare)
    with pytest.raises(CorruptFileError) as info:
        backup(http_server, "header").fetch_month("yellow", "2020-06", tmp_path)
    message = str(info.value)
    assert message.startswith(f"yellow 2020-06: {url} does not have the yellow CSV header: missing columns ['fare_amount']")

    extra = "\n".join(",".join(r + ["surprise" if i == 0 else "1"]) for i, r in enumerate(rows)) + "\n"
    serve_csv(http_server, "header", "yellow", "2020-05", extra)
    with pytest.raises(CorruptFileError, match=r"unexpected columns \['surprise'\]"):
        backup(http_server, "header").fetch_month("yellow", "2020-05", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_green_csv_served_for_yellow(http_server, tmp_path):
    url = serve_csv(http_server, "mixup", "yellow", "2019-01", head_text("green_tripdata_2019-01.csv"))
    with pytest.raises(WrongTaxiTypeError) as info:
        backup(http_server, "mixup").fetch_month("yellow", "2019-01", tmp_path)
    message = str(info.value)
    assert message.startswith(f"yellow 2019-01: {url} has the columns of a green file, not yellow")
    assert "lpep_pickup_datetime" in message


def test_unreadable_csv_text_carries_pyarrow_message(http_server, tmp_path):
    """A row with one field too many (not a value clean could quarantine: the columns are lost) is refused."""
    lines = head_text("green_tripdata_2020-06.csv").splitlines()
    text = "\n".join(lines[:2] + [lines[2] + ",surplus"] + lines[3:]) + "\n"
    serve_csv(http_server, "badvalue", "green", "2020-06", text)
    with pytest.raises(CorruptFileError, match=r"green 2020-06: cannot parse .* as a green CSV: .*CSV parse error: "
                                               r"Expected 20 columns, got 21"):
        backup(http_server, "badvalue").fetch_month("green", "2020-06", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cut_gzip_and_non_gzip_garbage_are_corrupt(http_server, tmp_path):
    body = gz(head_text("yellow_tripdata_2020-06.csv") * 3)
    http_server.add("/cutgz/yellow/yellow_tripdata_2020-04.csv.gz", body[: len(body) // 2])  # complete HTTP, cut gzip
    with pytest.raises(CorruptFileError, match=r"yellow 2020-04: cannot parse .*yellow_tripdata_2020-04\.csv\.gz"):
        backup(http_server, "cutgz").fetch_month("yellow", "2020-04", tmp_path)
    http_server.add("/cutgz/yellow/yellow_tripdata_2020-03.csv.gz", b"\x00\x01binary junk\xff\xfe")
    with pytest.raises(CorruptFileError, match="yellow 2020-03: .* (does not start with a CSV header|does not have the yellow CSV header)"):
        backup(http_server, "cutgz").fetch_month("yellow", "2020-03", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_header_only_is_empty_month(http_server, tmp_path):
    serve_csv(http_server, "hdr", "green", "2020-02", head_text("green_tripdata_2020-02.csv").splitlines()[0] + "\n")
    with pytest.raises(EmptyMonthError, match=r"green 2020-02: .* holds 0 rows"):
        backup(http_server, "hdr").fetch_month("green", "2020-02", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_backup_month(http_server, tmp_path):
    with pytest.raises(MonthNotFoundError, match=r"fhvhv 2021-01: the source has no such month \(HTTP 404\) at http://"):
        backup(http_server, "none").fetch_month("fhvhv", "2021-01", tmp_path)
    assert http_server.requests("/none/fhvhv/fhvhv_tripdata_2021-01.csv.gz") == 1


def test_parsing_streams_in_batches(tmp_path, monkeypatch):
    """Small CSV blocks -> many record batches, each appended as it is parsed (row groups), all rows kept."""
    lines = head_text("yellow_tripdata_2020-06.csv").splitlines()
    src = tmp_path / "big.csv.gz"
    src.write_bytes(gz("\n".join([lines[0]] + lines[1:] * 500) + "\n"))
    monkeypatch.setattr(csv_backup, "BLOCK_SIZE", 16 * 1024)
    dest = tmp_path / "big.parquet"
    rows = csv_to_parquet([src], dest, "yellow", describe="yellow 2020-06", wheres=[str(src)])
    assert rows == (len(lines) - 1) * 500 == pq.ParquetFile(dest).metadata.num_rows
    assert pq.ParquetFile(dest).num_row_groups > 1
