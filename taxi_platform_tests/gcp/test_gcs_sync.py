"""Uploading a local lake to fake-gcs-server: parallel, verified, and skipping what is already there."""

import uuid

import pytest

from taxi_platform.io_managers.gcs_sync import crc32c_base64, sync_to_gcs

pytestmark = pytest.mark.gcp


@pytest.fixture
def bucket(gcp):
    name = f"lake-{uuid.uuid4().hex[:8]}"
    gcp.storage_client().create_bucket(name)
    return name


def make_lake(root):
    files = {
        "raw/green_trips/month=2021-01/part-00000.parquet": b"PAR1 green jan PAR1",
        "raw/green_trips/month=2021-02/part-00000.parquet": b"PAR1 green feb PAR1",
        "reports/revenue_monthly_zone/month=2021-01/part-00000.parquet": b"PAR1 report PAR1" * 1000,
        "_staging/run-1/month=2021-03/part-00000.parquet": b"in flight",
        "_trash/abc.json": b"{}",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def test_upload_then_rerun_uploads_only_what_changed(gcp, bucket, tmp_path):
    client = gcp.storage_client()
    files = make_lake(tmp_path)
    first = sync_to_gcs(tmp_path, f"gs://{bucket}/lake", client, workers=4)
    expected = sorted(f"lake/{n}" for n in files if not n.startswith("_"))
    assert sorted(first.uploaded) == expected and first.skipped == []
    assert first.bytes_uploaded == sum(len(d) for n, d in files.items() if not n.startswith("_"))
    stored = {b.name: b for b in client.list_blobs(bucket) if not b.name.endswith("_manifest.json")}
    assert sorted(stored) == expected  # in-flight _staging/_trash are not copied
    from taxi_platform.io_managers.gcs_store import GcsStore

    store = GcsStore(f"gs://{bucket}/lake", client)  # every uploaded parquet folder is readable as a lake folder
    assert store.files(f"gs://{bucket}/lake/raw/green_trips/month=2021-01") == [
        f"gs://{bucket}/lake/raw/green_trips/month=2021-01/part-00000.parquet"]
    assert first.manifests == 3
    for name in expected:
        local = tmp_path / name.removeprefix("lake/")
        assert stored[name].download_as_bytes() == local.read_bytes()
        assert stored[name].crc32c == crc32c_base64(local)

    changed = tmp_path / "raw/green_trips/month=2021-02/part-00000.parquet"
    changed.write_bytes(b"PAR1 green feb, corrected PAR1")
    second = sync_to_gcs(tmp_path, f"gs://{bucket}/lake", client)
    assert second.uploaded == ["lake/raw/green_trips/month=2021-02/part-00000.parquet"]
    assert len(second.skipped) == 2
    assert client.bucket(bucket).blob(second.uploaded[0]).download_as_bytes() == changed.read_bytes()


def test_missing_local_folder_is_a_clear_error(gcp, bucket, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to upload"):
        sync_to_gcs(tmp_path / "nope", f"gs://{bucket}/lake", gcp.storage_client())
