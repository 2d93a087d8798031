"""The GCS lake store on fake-gcs-server: manifest publication, and a crash at every step keeps one whole version."""

import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.io_managers.gcs_store import MANIFEST, GcsStore

pytestmark = pytest.mark.gcp


@pytest.fixture
def store(gcp):
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    gcp.storage_client().create_bucket(bucket)
    return GcsStore(f"gs://{bucket}/lake", gcp.storage_client())


def stage(store, month_rows: dict[str, int], tmp_path) -> str:
    """Upload parquet files the way Spark leaves them in staging (incl. a zero-byte folder marker)."""
    staging = store.new_staging("run1")
    for month, rows in month_rows.items():
        path = tmp_path / f"{month}.parquet"
        pq.write_table(pa.table({"x": list(range(rows))}), path)
        folder = store.join(staging, f"month={month}")
        for n in range(2):
            store.bucket.blob(folder.split("/", 3)[3] + f"/part-{n}.parquet").upload_from_filename(str(path))
        store.bucket.blob(folder.split("/", 3)[3] + "/").upload_from_string(b"")
    return staging


def rows(store, folder) -> int:
    return sum(pq.ParquetFile(store.open(uri)).metadata.num_rows for uri in store.files(folder))


def test_publish_replaces_a_month_and_reads_only_the_manifest(store, tmp_path):
    dest = store.join(store.root.uri, "clean/green_trips/month=2021-01")
    assert store.files(dest) is None
    staging = stage(store, {"2021-01": 5}, tmp_path)
    assert store.staged_subfolders(staging) == {"month=2021-01"}
    store.publish(store.join(staging, "month=2021-01"), dest, "run1")
    assert rows(store, dest) == 10 and len(store.files(dest)) == 2

    staging = stage(store, {"2021-01": 7}, tmp_path)
    store.publish(store.join(staging, "month=2021-01"), dest, "run2")
    assert rows(store, dest) == 14
    names = sorted(b.name.rsplit("/", 1)[-1] for b in store.client.list_blobs(store.root.bucket, prefix="lake/clean/"))
    assert names == sorted([MANIFEST] + [u.rsplit("/", 1)[-1] for u in store.files(dest)])  # the old version is gone
    assert not list(store.client.list_blobs(store.root.bucket, prefix="lake/_staging/"))


@pytest.mark.parametrize("crash_at", ["after_copy", "after_manifest"])
def test_a_crash_mid_publish_leaves_exactly_one_readable_version(store, tmp_path, monkeypatch, crash_at):
    dest = store.join(store.root.uri, "core/trips/month=2021-01")
    store.publish(store.join(stage(store, {"2021-01": 3}, tmp_path), "month=2021-01"), dest, "old")
    old_files = store.files(dest)

    class Crash(Exception):
        pass

    real_upload = type(store.bucket.blob("x")).upload_from_string
    real_delete = store._delete

    def crash_on_manifest(blob, *args, **kwargs):
        if crash_at == "after_copy" and blob.name.endswith(MANIFEST):
            raise Crash()
        return real_upload(blob, *args, **kwargs)

    def crash_on_delete(blobs):
        if crash_at == "after_manifest":
            raise Crash()
        return real_delete(blobs)

    monkeypatch.setattr(type(store.bucket.blob("x")), "upload_from_string", crash_on_manifest)
    monkeypatch.setattr(store, "_delete", crash_on_delete)
    with pytest.raises(Crash):
        store.publish(store.join(stage(store, {"2021-01": 8}, tmp_path), "month=2021-01"), dest, "new")
    monkeypatch.undo()

    if crash_at == "after_copy":
        assert store.files(dest) == old_files and rows(store, dest) == 6  # the commit point was not reached
    else:
        assert store.files(dest) != old_files and rows(store, dest) == 16  # committed; leftovers not yet deleted
    # the next write of the month cleans up whatever the crash left
    store.publish(store.join(stage(store, {"2021-01": 4}, tmp_path), "month=2021-01"), dest, "next")
    assert rows(store, dest) == 8
    listed = [b for b in store.client.list_blobs(store.root.bucket, prefix="lake/core/trips/month=2021-01/")
              if b.name.endswith(".parquet")]
    assert len(listed) == len(store.files(dest)) == 2


def test_put_file_and_missing_bucket(store, gcp, tmp_path):
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), path)
    dest = store.join(store.root.uri, "raw/yellow_trips/month=2021-01")
    store.put_file(path, dest, "run")
    assert rows(store, dest) == 3
    store.check()
    with pytest.raises(RuntimeError, match=r"lake bucket gs://no-such-bucket does not exist"):
        GcsStore("gs://no-such-bucket/lake", gcp.storage_client()).check()
