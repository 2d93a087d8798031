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


def plain_listing(store, prefix) -> list[str]:
    """The parquet files a plain reader (Spark, pyarrow, DuckDB) would read from the folder: a listing."""
    return sorted(b.name.rsplit("/", 1)[-1] for b in store.client.list_blobs(store.root.bucket, prefix=prefix)
                  if b.name.endswith(".parquet") and not b.name.rsplit("/", 1)[-1].startswith(("_", ".")))


def names_of(uris) -> list[str]:
    return sorted(u.rsplit("/", 1)[-1] for u in uris)


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
    # the next write of the month replaces the current version; vacuum removes what a crash left unreferenced
    store.publish(store.join(stage(store, {"2021-01": 4}, tmp_path), "month=2021-01"), dest, "next")
    assert rows(store, dest) == 8
    store.vacuum(grace_seconds=0)
    assert plain_listing(store, "lake/core/trips/month=2021-01/") == names_of(store.files(dest))
    assert not list(store.client.list_blobs(store.root.bucket, prefix="lake/_staging/"))


def test_put_file_and_missing_bucket(store, gcp, tmp_path):
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), path)
    dest = store.join(store.root.uri, "raw/yellow_trips/month=2021-01")
    store.put_file(path, dest, "run")
    assert rows(store, dest) == 3
    store.check()
    with pytest.raises(RuntimeError, match=r"lake bucket gs://no-such-bucket does not exist"):
        GcsStore("gs://no-such-bucket/lake", gcp.storage_client()).check()


def test_two_writers_of_one_month_the_later_commit_wins_whole(store, gcp, tmp_path):
    """Issue #14.1: A copies its files, B publishes the month whole, then A commits. The month must end whole.

    Before: each publish deleted every file its own manifest did not name: B deleted A's copies, then A's manifest
    named deleted files (0 readable rows, old version gone). Now A's commit (compare-and-swap on the manifest's
    generation) sees B's commit, re-reads and commits over it with its own complete files; B's version is superseded
    whole, and B never deleted files that were not of the version it superseded.
    """
    dest = store.join(store.root.uri, "clean/green_trips/month=2021-01")
    store.publish(store.join(stage(store, {"2021-01": 3}, tmp_path), "month=2021-01"), dest, "old")
    writer_a, writer_b = GcsStore(store.root.uri, gcp.storage_client()), GcsStore(store.root.uri, gcp.storage_client())
    staged_a = store.join(stage(store, {"2021-01": 5}, tmp_path), "month=2021-01")
    staged_b = store.join(stage(store, {"2021-01": 7}, tmp_path), "month=2021-01")
    real_commit = writer_a._commit

    def b_commits_first(item, target, names, write_id):
        writer_b.publish(staged_b, dest, "writer-b", "clean/green_trips 2021-01", expected_rows=14)
        assert rows(store, dest) == 14  # B's version is whole and current while A waits to commit
        return real_commit(item, target, names, write_id)

    writer_a._commit = b_commits_first
    writer_a.publish(staged_a, dest, "writer-a", "clean/green_trips 2021-01", expected_rows=10)
    assert rows(store, dest) == 10  # A's whole version (2 files of 5 rows), every named file readable
    assert all(f.rsplit("/", 1)[-1].startswith("part-writer-a") for f in store.files(dest))
    # the superseded versions (the old one and B's) are gone for plain readers too
    assert plain_listing(store, "lake/clean/green_trips/month=2021-01/") == names_of(store.files(dest))


def test_a_writer_overtaken_at_its_commit_point_leaves_the_month_whole(store, gcp, tmp_path, monkeypatch):
    """#14.1 through the pre-#14 interface (``publish(staged, destination, label)``; it runs on the code the issue was
    filed against): A copies, B publishes whole just as A writes its manifest, A publishes. Before, B deleted A's
    copies and A's manifest named them: 0 readable rows, old version gone. The month must be one writer's, whole."""
    from google.cloud.storage import Blob

    dest = store.join(store.root.uri, "clean/green_trips/month=2021-01")
    store.publish(store.join(stage(store, {"2021-01": 3}, tmp_path), "month=2021-01"), dest, "old")
    writer_b = GcsStore(store.root.uri, gcp.storage_client())
    staged_a = store.join(stage(store, {"2021-01": 5}, tmp_path), "month=2021-01")
    staged_b = store.join(stage(store, {"2021-01": 7}, tmp_path), "month=2021-01")
    real_upload, overtaken = Blob.upload_from_string, []

    def upload(blob, *args, **kwargs):
        if not overtaken and blob.name.endswith("month=2021-01/" + MANIFEST):
            overtaken.append(blob.name)
            writer_b.publish(staged_b, dest, "writer-b")
        return real_upload(blob, *args, **kwargs)

    monkeypatch.setattr(Blob, "upload_from_string", upload)
    store.publish(staged_a, dest, "writer-a")
    assert overtaken
    assert rows(store, dest) in (10, 14)  # A's version or B's, every named file readable
    assert plain_listing(store, "lake/clean/green_trips/month=2021-01/") == names_of(store.files(dest))


def test_a_publish_never_deletes_files_the_current_manifest_names(store, gcp, tmp_path):
    """B superseded the original version; A's copies (not yet committed) are not B's to delete."""
    dest = store.join(store.root.uri, "core/trips/month=2021-02")
    store.publish(store.join(stage(store, {"2021-02": 2}, tmp_path), "month=2021-02"), dest, "old")
    writer_a = GcsStore(store.root.uri, gcp.storage_client())
    staged_a = store.join(stage(store, {"2021-02": 4}, tmp_path), "month=2021-02")
    staged_b = store.join(stage(store, {"2021-02": 6}, tmp_path), "month=2021-02")
    real_commit = writer_a._commit
    copies = []

    def b_publishes_between(item, target, names, write_id):
        copies.extend(names)
        store.publish(staged_b, dest, "writer-b")
        assert set(copies) <= set(plain_listing(store, "lake/core/trips/month=2021-02/"))  # A's copies intact
        return real_commit(item, target, names, write_id)

    writer_a._commit = b_publishes_between
    writer_a.publish(staged_a, dest, "writer-a")
    assert names_of(store.files(dest)) == sorted(copies) and rows(store, dest) == 8


def test_a_staged_month_that_lost_its_files_is_refused_and_the_month_kept(store, tmp_path):
    """The write produced 10 rows for the month; its staged files are gone: a clear error, the old version stays."""
    from taxi_platform.io_managers.errors import CommitError

    dest = store.join(store.root.uri, "clean/green_trips/month=2021-03")
    store.publish(store.join(stage(store, {"2021-03": 3}, tmp_path), "month=2021-03"), dest, "old")
    staging = stage(store, {"2021-03": 5}, tmp_path)
    store.discard(staging)  # e.g. a recovery or a person removed it under the live write
    with pytest.raises(CommitError, match=r"clean/green_trips 2021-03: .* gone but the write produced 10 rows"):
        store.publish(store.join(staging, "month=2021-03"), dest, "run", "clean/green_trips 2021-03", 10)
    assert rows(store, dest) == 6
