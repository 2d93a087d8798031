"""fhv + fhvhv raw/clean/quarantine and analytics/fhvhv_base_ids through Dagster on one sample month, every check."""

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from dagster import materialize

from taxi_platform.defs.for_hire.assets import FHVHV_BASE_IDS_SCHEMA, fhv_assets, fhv_checks
from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.schemas import CLEAN_SCHEMAS, MONTH_COLUMN
from taxi_platform_tests.conftest import lake_io_managers

pytestmark = pytest.mark.spark

MONTH = "2021-01"
ROWS = 1500


@pytest.fixture(scope="module")
def one_month(spark_resource, tmp_path_factory):
    lake = tmp_path_factory.mktemp("fhv-lake")
    resources = {
        "spark": spark_resource,
        **lake_io_managers(LakeIOManager(lake_root=str(lake), spark=spark_resource)),
        "sources": TaxiSourceResource(kind="sample", sample_volumes="equal", sample_rows_per_month=ROWS, sample_seed=11),
    }
    result = materialize(fhv_assets + fhv_checks, resources=resources, partition_key=MONTH)
    return result, lake


def test_every_fhv_asset_materializes_and_every_check_passes(one_month):
    result, lake = one_month
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"raw/fhv_trips", "raw/fhvhv_trips", "clean/fhv_trips", "clean/fhvhv_trips",
                            "quarantine/fhv_trips", "quarantine/fhvhv_trips", "analytics/fhvhv_base_ids"}
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert len(checks) == len(fhv_checks) == 5
    assert all(checks.values()), checks
    for name in materialized:
        assert (lake.joinpath(*name.split("/")) / f"month={MONTH}").is_dir()


def test_raw_equals_clean_plus_quarantine(one_month):
    _, lake = one_month
    for taxi in ("fhv", "fhvhv"):
        raw = pq.ParquetFile(lake / f"raw/{taxi}_trips/month={MONTH}/part-00000.parquet").metadata.num_rows
        clean = ds.dataset(lake / f"clean/{taxi}_trips/month={MONTH}", format="parquet").count_rows()
        quarantine = ds.dataset(lake / f"quarantine/{taxi}_trips/month={MONTH}", format="parquet")
        assert raw == ROWS
        assert clean > 0 and clean + quarantine.count_rows() == raw
        reasons = set(quarantine.to_table(columns=["quarantine_reason"]).column(0).to_pylist())
        # only the timestamp and zone rules apply to the for-hire datasets (no fare or distance columns)
        assert reasons and reasons <= {"missing_timestamp", "pickup_outside_month", "dropoff_before_pickup",
                                       "trip_longer_than_24h", "unknown_zone"}


def test_fhv_odd_header_casing_is_cleaned_to_the_course_schema(one_month):
    _, lake = one_month
    raw_names = pq.read_schema(lake / f"raw/fhv_trips/month={MONTH}/part-00000.parquet").names
    assert {"dropOff_datetime", "PUlocationID", "DOlocationID"} <= set(raw_names)
    clean = ds.dataset(lake / f"clean/fhv_trips/month={MONTH}", format="parquet")
    assert clean.schema.names == [name for name, _ in CLEAN_SCHEMAS["fhv"]]
    assert str(clean.schema.field("PULocationID").type) == "int32"
    assert str(clean.schema.field("dropoff_datetime").type).startswith("timestamp")
    table = clean.to_table(columns=["dropoff_datetime", "PULocationID"])
    assert table.column("dropoff_datetime").null_count == 0


def test_base_ids_asset_metadata_and_contents(one_month):
    result, lake = one_month
    mats = {e.asset_key.to_user_string(): e.materialization for e in result.get_asset_materialization_events()}
    meta = mats["analytics/fhvhv_base_ids"].metadata
    clean_rows = ds.dataset(lake / f"clean/fhvhv_trips/month={MONTH}", format="parquet").count_rows()
    table = ds.dataset(lake / f"analytics/fhvhv_base_ids/month={MONTH}", format="parquet").to_table()
    assert table.schema.names == [name for name, _ in FHVHV_BASE_IDS_SCHEMA if name != MONTH_COLUMN]
    assert meta["rows"].value == table.num_rows == clean_rows
    ids = table.column("base_id").to_pylist()
    assert meta["distinct_base_ids"].value == len(set(ids)) > 1
    assert meta["null_base_ids"].value == 0 and None not in ids
    from taxi_platform.transforms.base_ids import base_id

    bases = table.column("dispatching_base_num").to_pylist()
    assert ids == [base_id(b) for b in bases]
