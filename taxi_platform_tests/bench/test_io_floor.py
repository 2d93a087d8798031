"""bench/io_floor.py reads the bench's raw months one parquet schema at a time, as the lake does."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.io_floor import files_by_schema


def test_months_are_grouped_by_parquet_schema_in_month_order(tmp_path):
    schemas = {"01": pa.int32(), "02": pa.int32(), "03": pa.float64(), "04": pa.int32()}
    for month, fee_type in schemas.items():
        folder = tmp_path / "yellow" / "2020" / month
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"airport_fee": pa.array([1, 2], fee_type)}), folder / "part-00000.parquet")
    groups = files_by_schema(tmp_path, "yellow", months=3)
    assert [[f.split("/")[-2] for f in group] for group in groups] == [["01", "02"], ["03"]]


def test_a_missing_input_names_the_folder_and_the_command(tmp_path):
    with pytest.raises(SystemExit, match=r"no raw green months under .*: run `python -m bench` once"):
        files_by_schema(tmp_path, "green", months=12)
