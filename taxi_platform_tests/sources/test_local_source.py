"""kind="local": a course-layout month folder (parquet parts or CSV files) or a single file."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sources import (
    CorruptFileError,
    EmptyMonthError,
    InconsistentFilesError,
    MonthNotFoundError,
    SourceError,
    WrongTaxiTypeError,
)
from taxi_platform_tests.sources.helpers import data_lines, gz, head_text, trips_table


def local(root, template="{taxi_type}/{year}/{month:02d}") -> TaxiSourceResource:
    return TaxiSourceResource(kind="local", local_path_template=f"{root}/{template}")


def month_folder(root, taxi_type, year, month):
    folder = root / taxi_type / str(year) / f"{month:02d}"
    folder.mkdir(parents=True)
    return folder


def test_folder_of_two_parquet_parts_is_combined_in_name_order(tmp_path):
    root = tmp_path / "raw"
    folder = month_folder(root, "green", 2021, 1)
    second, first = trips_table("green", 30, first_id=1000), trips_table("green", 20, first_id=1)
    pq.write_table(second, folder / "part-00001.parquet")
    pq.write_table(first, folder / "part-00000.parquet")
    (folder / "_SUCCESS").write_text("")  # Spark's bookkeeping files are ignored
    (folder / ".part-00000.parquet.crc").write_bytes(b"crc")
    fetched = local(root).fetch_month("green", "2021-01", tmp_path / "work")
    assert fetched.num_rows == 50 and fetched.source_uri == str(folder)
    assert fetched.path == tmp_path / "work" / "green_tripdata_2021-01.parquet"
    assert pq.read_table(fetched.path).equals(pa.concat_tables([first, second]))
    assert fetched.num_bytes == fetched.path.stat().st_size
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == [fetched.path.name]


def test_parts_with_different_schemas_name_the_file(tmp_path):
    root = tmp_path / "raw"
    folder = month_folder(root, "yellow", 2021, 1)
    pq.write_table(trips_table("yellow", 5), folder / "a.parquet")
    drifted = trips_table("yellow", 5)
    drifted = drifted.set_column(3, "passenger_count", drifted.column("passenger_count").cast(pa.float64()))
    pq.write_table(drifted, folder / "b.parquet")
    with pytest.raises(InconsistentFilesError) as info:
        local(root).fetch_month("yellow", "2021-01", tmp_path / "work")
    message = str(info.value)
    assert message.startswith(f"yellow 2021-01: {folder / 'b.parquet'} does not share the schema of {folder / 'a.parquet'}")
    assert "passenger_count: int32 vs double" in message
    assert list((tmp_path / "work").iterdir()) == []


def test_single_part_folder_keeps_the_bytes(tmp_path):
    root = tmp_path / "raw"
    folder = month_folder(root, "fhvhv", 2021, 1)
    pq.write_table(trips_table("fhvhv", 12), folder / "fhvhv_tripdata_2021-01.parquet")
    fetched = local(root).fetch_month("fhvhv", "2021-01", tmp_path / "work")
    assert fetched.path.read_bytes() == (folder / "fhvhv_tripdata_2021-01.parquet").read_bytes()
    assert fetched.num_rows == 12


def test_folder_of_csv_files(tmp_path):
    root = tmp_path / "raw"
    folder = month_folder(root, "yellow", 2020, 6)
    text = head_text("yellow_tripdata_2020-06.csv")
    lines = text.splitlines()
    (folder / "a.csv.gz").write_bytes(gz("\n".join(lines[:4]) + "\n"))
    (folder / "b.csv").write_text("\n".join([lines[0]] + lines[4:]) + "\n")
    fetched = local(root).fetch_month("yellow", "2020-06", tmp_path / "work")
    assert fetched.num_rows == data_lines(text)
    table = pq.read_table(fetched.path)
    # raw keeps a CSV month's text as published (clean converts it, like a text parquet month)
    assert table.column("trip_distance").to_pylist()[:4] == ["3.60", "5.60", "2.30", "5.30"]


def test_file_template(tmp_path):
    src = tmp_path / "mirror" / "yellow_tripdata_2021-01.parquet"
    src.parent.mkdir()
    pq.write_table(trips_table("yellow", 9), src)
    resource = local(tmp_path / "mirror", "{taxi_type}_tripdata_{year}-{month:02d}.parquet")
    fetched = resource.fetch_month("yellow", "2021-01", tmp_path / "work")
    assert fetched.num_rows == 9 and fetched.path.read_bytes() == src.read_bytes()
    assert fetched.source_uri == str(src)


def test_missing_month_names_the_path(tmp_path):
    with pytest.raises(MonthNotFoundError) as info:
        local(tmp_path / "raw").fetch_month("green", "2020-02", tmp_path / "work")
    assert str(info.value) == f"green 2020-02: no such local file or folder: {tmp_path / 'raw' / 'green' / '2020' / '02'}"


def test_empty_folder_and_mixed_folder(tmp_path):
    root = tmp_path / "raw"
    folder = month_folder(root, "green", 2020, 3)
    (folder / "_SUCCESS").write_text("")
    with pytest.raises(MonthNotFoundError, match="holds no .parquet, .csv or .csv.gz files"):
        local(root).fetch_month("green", "2020-03", tmp_path / "work")
    pq.write_table(trips_table("green", 2), folder / "a.parquet")
    (folder / "b.csv").write_text(head_text("green_tripdata_2020-03.csv"))
    with pytest.raises(SourceError, match="holds both parquet"):
        local(root).fetch_month("green", "2020-03", tmp_path / "work")


def test_local_validation_is_the_same(tmp_path):
    root = tmp_path / "raw"
    pq.write_table(trips_table("green", 0), month_folder(root, "green", 2020, 4) / "empty.parquet")
    with pytest.raises(EmptyMonthError, match="green 2020-04: .*empty.parquet holds 0 rows"):
        local(root).fetch_month("green", "2020-04", tmp_path / "work")
    pq.write_table(trips_table("green", 3), month_folder(root, "yellow", 2020, 4) / "x.parquet")
    with pytest.raises(WrongTaxiTypeError, match="has the columns of a green file, not yellow"):
        local(root).fetch_month("yellow", "2020-04", tmp_path / "work")
    (month_folder(root, "fhv", 2020, 4) / "x.parquet").write_bytes(b"PAR1 not really PAR1")
    with pytest.raises(CorruptFileError, match="fhv 2020-04: .*x.parquet"):
        local(root).fetch_month("fhv", "2020-04", tmp_path / "work")
    assert list((tmp_path / "work").iterdir()) == []


def test_relative_template_resolves_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = month_folder(tmp_path / "data" / "raw", "green", 2021, 2)
    pq.write_table(trips_table("green", 4, start="2021-02-01"), folder / "p.parquet")
    fetched = TaxiSourceResource(kind="local").fetch_month("green", "2021-02", tmp_path / "work")
    assert fetched.num_rows == 4 and fetched.source_uri == str(folder)
