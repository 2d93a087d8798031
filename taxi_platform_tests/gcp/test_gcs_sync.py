"""Uploading a local lake to fake-gcs-server: parallel, verified, skipping what is there, never rolling back."""

import json
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.io_managers.gcs_store import GcsStore
from taxi_platform.io_managers.gcs_sync import sync_to_gcs

pytestmark = pytest.mark.gcp


@pytest.fixture
def bucket(gcp):
    name = f"lake-{uuid.uuid4().hex[:8]}"
    gcp.storage_client().create_bucket(name)
    return name


def write_month(root, relative: str, values: list[int], name: str = "part-00000.parquet") -> None:
    folder = root / relative
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"x": values}), folder / name)


def make_lake(root):
    write_month(root, "raw/green_trips/month=2021-01", [1, 2])
    write_month(root, "raw/green_trips/month=2021-02", [3])
    write_month(root, "reports/revenue_monthly_zone/month=2021-01", list(range(1000)))
    write_month(root, "_staging/run-1/month=2021-03", [9])  # in flight: never copied
    (root / "_trash").mkdir()
    (root / "_trash/abc.json").write_text("{}")
    (root / "docs").mkdir()
    (root / "docs/readme.txt").write_text("not parquet: copied as it is")


def values(store: GcsStore, folder: str) -> list[int]:
    out = []
    for uri in store.files(f"{store.root.uri}/{folder}"):
        out += pq.read_table(pa.BufferReader(store.bucket.blob(uri.split("/", 3)[3]).download_as_bytes())).column("x").to_pylist()
    return sorted(out)


def test_upload_then_rerun_uploads_only_what_changed(gcp, bucket, tmp_path):
    client = gcp.storage_client()
    make_lake(tmp_path)
    store = GcsStore(f"gs://{bucket}/lake", client)
    first = sync_to_gcs(tmp_path, f"gs://{bucket}/lake", client, workers=4)
    assert first.manifests == 3 and len(first.uploaded) == 4 and first.skipped == []
    assert values(store, "raw/green_trips/month=2021-01") == [1, 2]
    assert values(store, "reports/revenue_monthly_zone/month=2021-01") == list(range(1000))
    names = [b.name for b in client.list_blobs(bucket)]
    assert not [n for n in names if "_staging" in n or "_trash" in n]  # in-flight folders are not copied
    assert client.bucket(bucket).blob("lake/docs/readme.txt").download_as_bytes() == b"not parquet: copied as it is"

    time.sleep(0.01)
    write_month(tmp_path, "raw/green_trips/month=2021-02", [3, 4])  # changed locally (a newer local version)
    second = sync_to_gcs(tmp_path, f"gs://{bucket}/lake", client)
    assert second.manifests == 1 and len(second.uploaded) == 1 and second.newer_on_gcs == []
    assert values(store, "raw/green_trips/month=2021-02") == [3, 4]
    assert values(store, "raw/green_trips/month=2021-01") == [1, 2]
    parquet = [b.name for b in client.list_blobs(bucket, prefix="lake/raw/green_trips/month=2021-02/")
               if b.name.endswith(".parquet")]
    assert len(parquet) == 1  # the superseded upload is gone


def test_an_upload_never_replaces_a_month_rematerialized_on_gcs(gcp, bucket, tmp_path):
    """#14.10: before, re-running the upload after a month was re-materialized on GCS put the laptop's older version
    back (and orphaned the newer files)."""
    client = gcp.storage_client()
    write_month(tmp_path / "lake", "core/trips/month=2021-01", [1, 2, 3])
    (tmp_path / "lake/core/trips/month=2021-01/_version.json").write_text(json.dumps(
        {"write_id": "laptop-1", "written_at": "2026-01-01T00:00:00+00:00"}))
    assert sync_to_gcs(tmp_path / "lake", f"gs://{bucket}/lake", client).manifests == 1

    store = GcsStore(f"gs://{bucket}/lake", client)  # the month re-materialized on GCS, later
    staging = store.new_staging("gcs-run")
    pq.write_table(pa.table({"x": [7, 8]}), tmp_path / "new.parquet")
    store.bucket.blob(f"{staging.split('/', 3)[3]}/part-0.parquet").upload_from_filename(str(tmp_path / "new.parquet"))
    store.publish(staging, f"gs://{bucket}/lake/core/trips/month=2021-01", "gcs-run")
    newer = store.files(f"gs://{bucket}/lake/core/trips/month=2021-01")

    again = sync_to_gcs(tmp_path / "lake", f"gs://{bucket}/lake", client)
    assert values(store, "core/trips/month=2021-01") == [7, 8]  # the outcome first: it fails on the old code
    assert store.files(f"gs://{bucket}/lake/core/trips/month=2021-01") == newer
    assert again.newer_on_gcs == [f"gs://{bucket}/lake/core/trips/month=2021-01"] and again.manifests == 0
    assert again.as_metadata()["newer_on_gcs"] == again.newer_on_gcs


def test_missing_local_folder_is_a_clear_error(gcp, bucket, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to upload"):
        sync_to_gcs(tmp_path / "nope", f"gs://{bucket}/lake", gcp.storage_client())
