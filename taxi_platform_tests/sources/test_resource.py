"""The resource through Dagster: configuration, use inside a materialized asset, describe(), input checks, sample kind."""

import importlib.util
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sources import FetchedMonth, MonthNotFoundError


def test_resource_in_a_materialized_partitioned_asset(http_server, tmp_path, yellow_parquet):
    http_server.add("/dg/yellow_tripdata_2021-01.parquet", yellow_parquet)
    workdir = tmp_path / "work"

    @dg.asset(partitions_def=dg.MonthlyPartitionsDefinition(start_date="2021-01", fmt="%Y-%m"))
    def yellow_raw(context: dg.AssetExecutionContext, sources: TaxiSourceResource) -> dg.MaterializeResult:
        fetched = sources.fetch_month("yellow", context.partition_key, workdir)
        return dg.MaterializeResult(
            metadata={"source_uri": fetched.source_uri, "rows": fetched.num_rows, "path": str(fetched.path)}
        )

    resource = TaxiSourceResource(
        kind="tlc",
        tlc_url_template=http_server.base_url + "/dg/{taxi_type}_tripdata_{year}-{month:02d}.parquet",
        backoff_seconds=0.01,
    )
    result = dg.materialize([yellow_raw], partition_key="2021-01", resources={"sources": resource})
    assert result.success
    [mat] = result.asset_materializations_for_node("yellow_raw")
    assert mat.metadata["rows"].value == 100
    assert Path(mat.metadata["path"].value).read_bytes() == yellow_parquet

    failed = dg.materialize(
        [yellow_raw], partition_key="2021-02", resources={"sources": resource}, raise_on_error=False
    )
    assert not failed.success
    [failure] = [e for e in failed.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    assert "MonthNotFoundError" in error.cls_name or "MonthNotFoundError" in error.to_string()
    assert "yellow 2021-02: the source has no such month (HTTP 404)" in error.to_string()


def test_defaults_and_describe():
    resource = TaxiSourceResource()
    assert resource.kind == "sample" and resource.max_attempts == 4 and resource.sample_rows_per_month == 50_000
    assert resource.describe() == {"kind": "sample", "rows_per_month": 50_000, "volumes": "realistic", "seed": 42}
    tlc = TaxiSourceResource(kind="tlc")
    assert tlc.describe()["template"] == tlc.tlc_url_template
    assert tlc.source_uri("yellow", "2021-03") == "https://d37ci6vzurychx.cloudfront.net/trip-data/yellow_tripdata_2021-03.parquet"
    backup = TaxiSourceResource(kind="backup")
    assert backup.source_uri("green", "2020-11") == (
        "https://github.com/DataTalksClub/nyc-tlc-data/releases/download/green/green_tripdata_2020-11.csv.gz"
    )
    secret = TaxiSourceResource(kind="tlc", tlc_url_template="https://me:pw@mirror.example/{taxi_type}.parquet?X-Amz-Signature=abc")
    assert "pw" not in str(secret.describe()) and "abc" not in str(secret.describe())


def test_bad_inputs_are_value_errors(tmp_path):
    resource = TaxiSourceResource(kind="local", local_path_template=str(tmp_path / "{taxi_type}/{year}/{month:02d}"))
    with pytest.raises(ValueError, match="unknown taxi type 'blue'"):
        resource.fetch_month("blue", "2021-01", tmp_path)
    with pytest.raises(ValueError, match="not a month key: '2021-1-01'"):
        resource.fetch_month("green", "2021-1-01", tmp_path)
    bad = TaxiSourceResource(kind="tlc", tlc_url_template="http://127.0.0.1:9/{type}.parquet")
    with pytest.raises(ValueError, match="tlc_url_template .* may only use the placeholders"):
        bad.fetch_month("green", "2021-01", tmp_path)
    with pytest.raises(Exception):
        TaxiSourceResource(kind="s3")  # not a configured kind
    with pytest.raises(MonthNotFoundError):
        resource.fetch_month("green", "2021-01", tmp_path)


@pytest.mark.skipif(
    importlib.util.find_spec("taxi_platform.sample.generator") is None,
    reason="taxi_platform.sample.generator (write_month) is not written yet",
)
def test_sample_kind(tmp_path):
    resource = TaxiSourceResource(kind="sample", sample_rows_per_month=500, sample_seed=7)
    fetched = resource.fetch_month("green", "2021-01", tmp_path)
    assert isinstance(fetched, FetchedMonth)
    # 500 yellow rows; green gets its real 2021-01 share of yellow (76K / 1.37M trips): 28 rows
    assert fetched.source_uri == "sample://green/2021-01?rows=28&seed=7" and fetched.num_rows == 28
    assert resource.fetch_month("yellow", "2021-01", tmp_path / "yellow").num_rows == 500
    assert fetched.num_rows == pq.ParquetFile(fetched.path).metadata.num_rows > 0
    again = resource.fetch_month("green", "2021-01", tmp_path / "again")
    assert pq.read_table(again.path).equals(pq.read_table(fetched.path))  # same seed, same month
