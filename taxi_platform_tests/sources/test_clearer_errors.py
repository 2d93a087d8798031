"""Source errors that say what a user needs: the CSV column by its header name, the valid range of months."""

from pathlib import Path

import pytest

from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sources.base import CorruptFileError
from taxi_platform.sources.csv_backup import csv_to_parquet
from taxi_platform_tests.transforms.published import csv_text


def test_csv_value_error_names_the_column_by_its_header_name(tmp_path):
    """Text that is not UTF-8 cannot be kept as text: refused, the column named by its header name. (A value that is
    text but not of its column's type, "abc" for an amount, is kept and quarantined by clean: test_type_matrix.)"""
    lines = csv_text("green").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("total_amount")] = "\udcff\udcfe"
    source = tmp_path / "green_tripdata_2021-01.csv"
    source.write_bytes(("\n".join([lines[0], ",".join(row)]) + "\n").encode("utf-8", "surrogateescape"))
    with pytest.raises(CorruptFileError) as error:
        csv_to_parquet([source], tmp_path / "out.parquet", "green", describe="green 2021-01", wheres=[str(source)])
    message = str(error.value)
    assert "CSV column total_amount (#17)" in message and "invalid UTF8" in message and str(source) in message
    assert "#16" not in message
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize("month, where", [("2018-12", "before the first"), ("2099-01", "after the last")])
def test_month_outside_the_partitions_names_the_valid_range(tmp_path, month, where):
    with pytest.raises(ValueError, match=rf"month {month} is {where} monthly partition: valid months are 2019-01 \.\. "):
        TaxiSourceResource(kind="sample").fetch_month("green", month, tmp_path)
    assert not list(tmp_path.iterdir())
