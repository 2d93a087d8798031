"""kind="tlc": the monthly parquet over HTTP through the Dagster resource, validated before it is handed on."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sources import (
    CorruptFileError,
    EmptyMonthError,
    FetchedMonth,
    MonthNotFoundError,
    SourceError,
    WrongTaxiTypeError,
)
from taxi_platform_tests.sources.helpers import parquet_bytes, trips_table

TEMPLATE = "/{prefix}/{{taxi_type}}_tripdata_{{year}}-{{month:02d}}.parquet"


def tlc(http_server, prefix: str, **config) -> TaxiSourceResource:
    """A tlc-kind resource pointed at the test server under ``/prefix/``, configured through Dagster's API."""
    config.setdefault("backoff_seconds", 0.01)
    config.setdefault("timeout_seconds", 5.0)
    return TaxiSourceResource(
        kind="tlc", tlc_url_template=http_server.base_url + TEMPLATE.format(prefix=prefix), **config
    )


def only_files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_good_month_is_fetched_byte_for_byte(http_server, tmp_path, yellow_parquet):
    url = http_server.add("/good/yellow_tripdata_2021-01.parquet", yellow_parquet)
    fetched = tlc(http_server, "good").fetch_month("yellow", "2021-01", tmp_path / "work")
    assert fetched == FetchedMonth(
        taxi_type="yellow",
        month="2021-01",
        path=tmp_path / "work" / "yellow_tripdata_2021-01.parquet",
        source_uri=url,
        num_rows=100,
        num_bytes=len(yellow_parquet),
    )
    assert fetched.path.read_bytes() == yellow_parquet
    assert pq.read_table(fetched.path).equals(trips_table("yellow", 100))
    assert only_files(tmp_path / "work") == ["yellow_tripdata_2021-01.parquet"]


def test_truncated_month_leaves_no_file(http_server, tmp_path, yellow_parquet):
    http_server.add("/cut/yellow_tripdata_2021-02.parquet", yellow_parquet, truncate=True)
    workdir = tmp_path / "work"
    with pytest.raises(CorruptFileError) as info:
        tlc(http_server, "cut", max_attempts=2).fetch_month("yellow", "2021-02", workdir)
    half, full = len(yellow_parquet) // 2, len(yellow_parquet)
    assert f"yellow 2021-02: truncated: got {half} of {full} bytes" in str(info.value)
    assert not (workdir / "yellow_tripdata_2021-02.parquet").exists()
    assert only_files(workdir) == []  # no .part-* temp files either


def test_missing_month_is_one_request_and_names_url_and_month(http_server, tmp_path):
    resource = tlc(http_server, "missing")
    url = http_server.base_url + "/missing/yellow_tripdata_2021-03.parquet"
    with pytest.raises(MonthNotFoundError) as info:
        resource.fetch_month("yellow", "2021-03", tmp_path)
    assert str(info.value) == f"yellow 2021-03: the source has no such month (HTTP 404) at {url}"
    assert http_server.requests("/missing/yellow_tripdata_2021-03.parquet") == 1
    assert only_files(tmp_path) == []


def test_two_503s_then_success(http_server, tmp_path, yellow_parquet):
    path = "/flaky/yellow_tripdata_2021-01.parquet"
    http_server.add(path, yellow_parquet, fail_times=2, fail_status=503)
    fetched = tlc(http_server, "flaky").fetch_month("yellow", "2021-01", tmp_path)
    assert fetched.num_rows == 100 and fetched.path.read_bytes() == yellow_parquet
    assert http_server.requests(path) == 3


def test_503_forever_fails_after_max_attempts(http_server, tmp_path):
    path = "/down/yellow_tripdata_2021-05.parquet"
    http_server.add(path, status=503)
    with pytest.raises(SourceError, match=r"yellow 2021-05: gave up after 3 attempts at http://.*/down/.*HTTP 503"):
        tlc(http_server, "down", max_attempts=3).fetch_month("yellow", "2021-05", tmp_path)
    assert http_server.requests(path) == 3
    assert only_files(tmp_path) == []


@pytest.mark.parametrize(
    "prefix, body, expected",
    [
        ("html", b"<!DOCTYPE html><html><body>Access denied</body></html>", "looks like HTML"),
        ("bad-footer", b"PAR1" + b"\0" * 64 + b"PAR1", "unreadable parquet footer"),
        ("no-footer", b"PAR1" + b"\0" * 64, "no parquet footer"),
    ],
)
def test_not_parquet_is_corrupt(http_server, tmp_path, prefix, body, expected):
    url = http_server.add(f"/{prefix}/yellow_tripdata_2021-06.parquet", body)
    with pytest.raises(CorruptFileError, match=expected) as info:
        tlc(http_server, prefix).fetch_month("yellow", "2021-06", tmp_path)
    assert url in str(info.value) and "yellow 2021-06" in str(info.value)
    assert only_files(tmp_path) == []


def test_empty_month(http_server, tmp_path, files_dir):
    body = parquet_bytes(trips_table("yellow", 0), files_dir, "empty.parquet")
    url = http_server.add("/empty/yellow_tripdata_2021-07.parquet", body)
    with pytest.raises(EmptyMonthError) as info:
        tlc(http_server, "empty").fetch_month("yellow", "2021-07", tmp_path)
    assert str(info.value) == f"yellow 2021-07: {url} holds 0 rows"
    assert only_files(tmp_path) == []


def test_green_file_served_for_yellow(http_server, tmp_path, green_parquet):
    http_server.add("/mixup/yellow_tripdata_2021-08.parquet", green_parquet)
    with pytest.raises(WrongTaxiTypeError) as info:
        tlc(http_server, "mixup").fetch_month("yellow", "2021-08", tmp_path)
    message = str(info.value)
    assert "yellow 2021-08" in message and "has the columns of a green file, not yellow" in message
    assert "expected tpep_pickup_datetime" in message and "lpep_pickup_datetime" in message
    assert only_files(tmp_path) == []


def test_fhv_and_fhvhv_are_told_apart(http_server, tmp_path, files_dir):
    fhvhv = parquet_bytes(trips_table("fhvhv", 5, start="2019-10-01"), files_dir, "fhvhv.parquet")
    fhv = parquet_bytes(trips_table("fhv", 6, start="2019-10-01"), files_dir, "fhv.parquet")
    http_server.add("/hv/fhv_tripdata_2019-10.parquet", fhvhv)
    http_server.add("/hv/fhvhv_tripdata_2019-10.parquet", fhv)
    http_server.add("/ok-fhv/fhv_tripdata_2019-10.parquet", fhv)
    with pytest.raises(WrongTaxiTypeError, match="has the columns of a fhvhv file, not fhv"):
        tlc(http_server, "hv").fetch_month("fhv", "2019-10", tmp_path)
    with pytest.raises(WrongTaxiTypeError, match="has the columns of a fhv file, not fhvhv: expected hvfhs_license_num"):
        tlc(http_server, "hv").fetch_month("fhvhv", "2019-10", tmp_path)
    assert tlc(http_server, "ok-fhv").fetch_month("fhv", "2019-10", tmp_path).num_rows == 6


def test_parquet_of_no_taxi_type(http_server, tmp_path, files_dir):
    body = parquet_bytes(pa.table({"LocationID": [1, 2], "Borough": ["EWR", "Queens"]}), files_dir, "zones.parquet")
    http_server.add("/zones/green_tripdata_2020-01.parquet", body)
    with pytest.raises(WrongTaxiTypeError) as info:
        tlc(http_server, "zones").fetch_month("green", "2020-01", tmp_path)
    message = str(info.value)
    assert "does not have the columns of a green file: expected lpep_pickup_datetime" in message
    assert message.endswith("columns found: LocationID, Borough")


def test_tlc_column_drift_is_kept_as_published(http_server, tmp_path, files_dir):
    """TLC files drift (double passenger_count, Airport_fee): the raw month keeps the bytes, only the type is checked."""
    table = trips_table("yellow", 3, start="2023-01-01")
    table = table.set_column(3, "passenger_count", table.column("passenger_count").cast(pa.float64()))
    table = table.append_column("Airport_fee", pa.array([None, 1.25, 0.0], pa.float64()))
    body = parquet_bytes(table, files_dir, "drift.parquet")
    http_server.add("/drift/yellow_tripdata_2023-01.parquet", body)
    fetched = tlc(http_server, "drift").fetch_month("yellow", "2023-01", tmp_path)
    assert fetched.path.read_bytes() == body
    assert pq.read_schema(fetched.path).field("passenger_count").type == pa.float64()


def test_file_url_template(tmp_path, yellow_parquet):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "yellow_tripdata_2021-01.parquet").write_bytes(yellow_parquet)
    resource = TaxiSourceResource(kind="tlc", tlc_url_template=mirror.as_uri() + "/{taxi_type}_tripdata_{year}-{month:02d}.parquet")
    fetched = resource.fetch_month("yellow", "2021-01", tmp_path / "work")
    assert fetched.num_rows == 100 and fetched.path.read_bytes() == yellow_parquet
    assert fetched.source_uri == (mirror / "yellow_tripdata_2021-01.parquet").as_uri()
    with pytest.raises(MonthNotFoundError, match="yellow 2021-02: the source has no such month"):
        resource.fetch_month("yellow", "2021-02", tmp_path / "work")


def test_refetch_replaces_the_previous_file(http_server, tmp_path, yellow_parquet, files_dir):
    http_server.add("/again/yellow_tripdata_2021-01.parquet", yellow_parquet)
    resource = tlc(http_server, "again")
    resource.fetch_month("yellow", "2021-01", tmp_path)
    smaller = parquet_bytes(trips_table("yellow", 7), files_dir, "seven.parquet")
    http_server.add("/again/yellow_tripdata_2021-01.parquet", smaller)
    assert resource.fetch_month("yellow", "2021-01", tmp_path).num_rows == 7
    assert only_files(tmp_path) == ["yellow_tripdata_2021-01.parquet"]
