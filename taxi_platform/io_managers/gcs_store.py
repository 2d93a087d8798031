"""The lake on Google Cloud Storage: whole-version commits without renames, by compare-and-swap of a manifest.

Object stores have no atomic rename, so a folder version is published like this:

1. Spark writes the new files under ``{root}/_staging/{write}/...`` (ignored by readers: leading underscore);
2. the staged files are checked against the rows the writer produced (``commits.verify_staged``: a missing or short
   staged month fails here, nothing replaced), then copied (server-side) into the destination folder under names
   unique to this write, ``part-{write}-{n}.parquet``; the folder's current version is untouched;
3. ``_manifest.json`` in the destination folder is replaced by ONE conditional object write
   (``if_generation_match`` = the generation of the manifest this write read; ``0`` = "only if there is none"):
   this is the commit point, and GCS's own compare-and-swap. If another writer committed the month in between, the
   condition fails and the write re-reads the manifest and tries again (``COMMIT_ATTEMPTS`` times) with its own,
   already copied, complete files: the last committer wins whole, the other's version is superseded whole;
4. the files of the version this write superseded (named by the manifest it replaced) are deleted, except any the
   current manifest names; then the staging objects. Nothing else is deleted by a write: files of a crashed write
   (copied, never committed) are removed by ``vacuum`` once older than its grace period.

The platform reads only the files the current manifest names, so its reads see one whole version, whatever crashes or
concurrent writers did. A plain parquet reader listing a folder sees one version too, except the uncommitted copies
of a crashed write, until ``vacuum``.

Several folders of one commit (a step's outputs for a month, e.g. clean + quarantine) are all staged, verified and
copied before the first manifest is replaced, so a failure in any of them replaces none; the manifests are then
replaced one after the other (GCS has no multi-object transaction): only a crash in that short window can leave
one folder new and the other old, and re-running the month mends it.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Optional
from urllib.parse import urlparse

from taxi_platform.io_managers.commits import Publish, is_data_file, verify_staged
from taxi_platform.io_managers.errors import CommitError

MANIFEST = "_manifest.json"
STAGING_DIR = "_staging"
STALE_STAGING_SECONDS = 6 * 3600
# How often a write re-reads the manifest and retries its commit when another writer committed the folder meanwhile.
COMMIT_ATTEMPTS = 10


@dataclass(frozen=True)
class GcsLocation:
    bucket: str
    prefix: str  # without leading or trailing slash; may be ""

    @classmethod
    def parse(cls, uri: str) -> "GcsLocation":
        parsed = urlparse(uri)
        if parsed.scheme != "gs" or not parsed.netloc:
            raise ValueError(f"not a gs:// URI: {uri!r} (expected gs://bucket/prefix)")
        return cls(parsed.netloc, parsed.path.strip("/"))

    def child(self, *parts: str) -> "GcsLocation":
        return GcsLocation(self.bucket, "/".join(p.strip("/") for p in (self.prefix, *parts) if p.strip("/")))

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}" if self.prefix else f"gs://{self.bucket}"

    def object_name(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name


@dataclass(frozen=True)
class Manifest:
    """A folder's current version: its file names, the write that made it, when, and the manifest's generation."""

    files: list[str]
    write_id: str
    written_at: str
    generation: int  # 0: there is no manifest


def read_manifest(bucket, folder: GcsLocation) -> Manifest:
    """The folder's manifest (generation 0 and no files when it has none), read consistently with its generation."""
    from google.api_core import exceptions

    for _ in range(COMMIT_ATTEMPTS):
        blob = bucket.get_blob(folder.object_name(MANIFEST))
        if blob is None:
            return Manifest([], "", "", 0)
        try:
            body = json.loads(blob.download_as_bytes(if_generation_match=blob.generation))
        except (exceptions.PreconditionFailed, exceptions.NotFound):
            continue  # replaced between the two requests: read the new one
        return Manifest(list(body["files"]), body.get("write_id", ""), body.get("written_at", ""), int(blob.generation))
    raise CommitError(f"{folder.uri}: its manifest kept changing while being read")


def write_manifest(bucket, folder: GcsLocation, names: list[str], write_id: str, if_generation_match: int,
                   written_at: Optional[str] = None) -> None:
    """Make ``names`` (files of ``folder``) its current version if the manifest is still at ``if_generation_match``.

    One conditional object write, the commit point; raises ``google.api_core.exceptions.PreconditionFailed`` when
    another writer replaced the manifest since it was read.
    """
    manifest = {"files": names, "write_id": write_id,
                "written_at": written_at or datetime.now(timezone.utc).isoformat()}
    bucket.blob(folder.object_name(MANIFEST)).upload_from_string(
        json.dumps(manifest), content_type="application/json", if_generation_match=if_generation_match
    )


class GcsStore:
    """Manifest-published parquet folders under one gs:// root (the lake IO manager's store for gs:// roots)."""

    def __init__(self, root: str, client):
        self.root = GcsLocation.parse(root)
        self.client = client

    # ---- the store interface (URIs are gs://bucket/path strings) -----------------------------------------------
    @staticmethod
    def join(base: str, *parts: str) -> str:
        return GcsLocation.parse(base).child(*parts).uri

    def check(self) -> None:
        """Fail early and clearly when the lake's bucket does not exist or is not reachable."""
        from google.api_core import exceptions

        try:
            exists = self.client.bucket(self.root.bucket).exists()
        except exceptions.GoogleAPIError as error:
            raise RuntimeError(f"lake bucket gs://{self.root.bucket} is not reachable: {error}") from None
        if not exists:
            raise RuntimeError(
                f"lake bucket gs://{self.root.bucket} does not exist: create it first (lake_root {self.root.uri})"
            )

    def recover(self) -> list[str]:
        """Nothing to roll back: a folder's manifest always names a complete version (see the module docstring)."""
        return []

    def new_staging(self, label: str) -> str:
        return self.root.child(STAGING_DIR, f"{label}-{uuid.uuid4().hex[:12]}").uri

    def staged_subfolders(self, staging: str) -> set[str]:
        """Names of the first-level folders Spark wrote under ``staging`` (e.g. "month=2021-01")."""
        location = GcsLocation.parse(staging)
        prefix = location.prefix + "/"
        names = (b.name[len(prefix):] for b in self._list(location, recursive=True))
        return {n.split("/", 1)[0] for n in names if "/" in n}

    def staged_files(self, staged: str) -> Optional[list[str]]:
        """gs:// URIs of the data files staged under ``staged`` (None when there are none at all)."""
        location = GcsLocation.parse(staged)
        blobs = self._list(location)
        if not blobs:
            return None
        return [f"gs://{self.root.bucket}/{b.name}" for b in blobs if is_data_file(b.name)]

    def publish(self, staged: str, destination: str, label: str, what: str = "", expected_rows=None) -> None:
        """Make the parquet files under ``staged`` the current version of ``destination`` (steps 2-4 above)."""
        self.publish_all([Publish(staged, destination, what or destination, expected_rows)], label)

    def publish_all(self, items: list[Publish], label: str) -> None:
        """Publish every item (steps 2-4): all verified and copied before the first manifest is replaced."""
        write_id = f"{label[:8]}{uuid.uuid4().hex[:8]}"
        bucket = self.bucket
        copied: list[tuple[Publish, GcsLocation, list[str]]] = []
        for item in items:
            source, target = GcsLocation.parse(item.staged), GcsLocation.parse(item.destination)
            files = self.staged_files(item.staged)
            if files is None and not item.expected_rows:
                files = []  # nothing staged and nothing written: an empty version is refused below
            verify_staged(item, files, self.open)
            if not files:
                raise CommitError(f"{item.what}: no parquet file was staged at {item.staged}; nothing was replaced")
            names = []
            for n, uri in enumerate(sorted(files)):
                name = f"part-{write_id}-{n:05d}.parquet"
                bucket.copy_blob(bucket.blob(GcsLocation.parse(uri).prefix), bucket, target.object_name(name))
                names.append(name)
            copied.append((item, target, names))
        superseded: list[tuple[GcsLocation, set[str]]] = []
        for item, target, names in copied:
            superseded.append((target, self._commit(item, target, names, write_id)))
        for target, old in superseded:
            self._delete_unnamed(target, old)
        for item in items:
            self._delete(self._list(GcsLocation.parse(item.staged), recursive=True))

    def _commit(self, item: Publish, target: GcsLocation, names: list[str], write_id: str) -> set[str]:
        """Compare-and-swap the manifest of ``target`` to ``names``; returns the file names it superseded."""
        from google.api_core import exceptions

        for _ in range(COMMIT_ATTEMPTS):
            current = read_manifest(self.bucket, target)
            try:
                write_manifest(self.bucket, target, names, write_id, if_generation_match=current.generation)
            except exceptions.PreconditionFailed:
                continue  # another writer committed this folder since: our copies are whole, commit over theirs
            return set(current.files) - set(names)
        raise CommitError(f"{item.what}: {COMMIT_ATTEMPTS} other writers committed {target.uri} while this write "
                          "tried to; nothing of this write was published there")

    def _delete_unnamed(self, folder: GcsLocation, candidates: set[str]) -> None:
        """Delete ``candidates`` (file names of ``folder``), never one the folder's current manifest names."""
        if not candidates:
            return
        keep = set(read_manifest(self.bucket, folder).files)
        self._delete(self.bucket.blob(folder.object_name(n)) for n in sorted(candidates - keep))

    def put_file(self, local_path, destination: str, label: str, what: str = "") -> None:
        """Publish one local parquet file as the whole content of ``destination``."""
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(str(local_path)).metadata.num_rows
        staged = GcsLocation.parse(self.new_staging(label))
        self.bucket.blob(staged.object_name("part-00000.parquet")).upload_from_filename(str(local_path))
        self.publish(staged.uri, destination, label, what, rows)

    def discard(self, staging: str) -> None:
        self._delete(self._list(GcsLocation.parse(staging), recursive=True))

    def files(self, folder: str) -> Optional[list[str]]:
        """gs:// URIs of the folder's current version, or None when it was never published."""
        location = GcsLocation.parse(folder)
        manifest = read_manifest(self.bucket, location)
        if manifest.generation == 0:
            return None
        return [location.child(name).uri for name in manifest.files]

    def manifest(self, folder: str) -> Manifest:
        return read_manifest(self.bucket, GcsLocation.parse(folder))

    def open(self, uri: str):
        """A seekable binary reader of one object (parquet footers are read with ranged requests)."""
        return self.bucket.blob(GcsLocation.parse(uri).prefix).open("rb")

    def size(self, uri: str) -> int:
        blob = self.bucket.get_blob(GcsLocation.parse(uri).prefix)
        return int(blob.size or 0) if blob is not None else 0

    def vacuum(self, grace_seconds: float = STALE_STAGING_SECONDS, dry_run: bool = False) -> list[str]:
        """Delete what no manifest names and no live write can still need; returns the gs:// URIs (deleted or not).

        Staging objects and files of manifest folders that the current manifest does not name (copies of crashed
        writes), when last updated more than ``grace_seconds`` ago (a live write copies and commits well within it).
        """
        cutoff = time.time() - grace_seconds
        blobs = self._list(self.root, recursive=True)
        manifests: dict[str, set[str]] = {}
        for blob in blobs:
            folder, _, name = blob.name.rpartition("/")
            if name == MANIFEST:
                manifests[folder] = set(read_manifest(self.bucket, GcsLocation(self.root.bucket, folder)).files)
        staging_prefix = self.root.child(STAGING_DIR).prefix + "/"
        stale = []
        for blob in blobs:
            if blob.updated is None or blob.updated.timestamp() >= cutoff:
                continue
            folder, _, name = blob.name.rpartition("/")
            if blob.name.startswith(staging_prefix):
                stale.append(blob)
            elif folder in manifests and name != MANIFEST and name not in manifests[folder]:
                stale.append(blob)
        if not dry_run:
            self._delete(stale)
        return [f"gs://{self.root.bucket}/{b.name}" for b in stale]

    # ---- helpers ----------------------------------------------------------------------------------------------
    @property
    def bucket(self):
        return self.client.bucket(self.root.bucket)

    def _list(self, folder: GcsLocation, recursive: bool = False) -> list:
        prefix = folder.prefix + "/" if folder.prefix else ""
        blobs = self.client.list_blobs(self.root.bucket, prefix=prefix, delimiter=None if recursive else "/")
        return list(blobs)  # including the connector's zero-byte "folder/" markers, so deletes take them too

    def _delete(self, blobs: Iterable) -> None:
        from google.api_core import exceptions

        for blob in blobs:
            try:
                blob.delete()
            except exceptions.NotFound:
                pass
