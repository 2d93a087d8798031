"""The lake on Google Cloud Storage: atomic month replacement without renames, through a per-folder manifest.

Object stores have no atomic rename, so a folder version is published like this:

1. Spark writes the new files under ``{root}/_staging/{write}/...`` (ignored by readers: leading underscore);
2. each file is copied (server-side) into the destination folder under a name unique to this write,
   ``part-{write}-{n}.parquet``; the old files are still there and still the current version;
3. ``_manifest.json`` in the destination folder is replaced in one object write (atomic in GCS) and from then on names
   the new files: this is the commit point;
4. files of the folder not named by the manifest (the previous version, leftovers of crashed writes) and the staging
   objects are deleted.

The platform reads only the files the manifest names, so its reads see the old version or the new one, never a mix, even
after a crash at any step (a crash before 3 leaves the old manifest; after 3, the new one). A plain parquet reader
listing the folder sees exactly one version too, except after a crash between 2 and 4, until the next write of that
month (or ``vacuum``) deletes the leftovers.
"""

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Optional
from urllib.parse import urlparse

MANIFEST = "_manifest.json"
STAGING_DIR = "_staging"
STALE_STAGING_SECONDS = 6 * 3600


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


def write_manifest(bucket, folder: GcsLocation, names: list[str], write_id: str) -> None:
    """Make ``names`` (files of ``folder``) its current version: one object write, the commit point."""
    manifest = {"files": names, "write_id": write_id, "written_at": datetime.now(timezone.utc).isoformat()}
    bucket.blob(folder.object_name(MANIFEST)).upload_from_string(json.dumps(manifest), content_type="application/json")


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

    def publish(self, staged: str, destination: str, label: str) -> None:
        """Make the parquet files under ``staged`` the current version of ``destination`` (steps 2-4 above)."""
        source, target = GcsLocation.parse(staged), GcsLocation.parse(destination)
        write_id = f"{label[:8]}{uuid.uuid4().hex[:8]}"
        bucket = self.bucket
        names = []
        for n, blob in enumerate(self._parquet(source)):
            name = f"part-{write_id}-{n:05d}.parquet"
            bucket.copy_blob(blob, bucket, target.object_name(name))
            names.append(name)
        write_manifest(bucket, target, names, write_id)
        self._delete(b for b in self._list(target) if b.name.rsplit("/", 1)[-1] not in {*names, MANIFEST})
        self._delete(self._list(source, recursive=True))

    def put_file(self, local_path, destination: str, label: str) -> None:
        """Publish one local parquet file as the whole content of ``destination``."""
        staged = GcsLocation.parse(self.new_staging(label))
        self.bucket.blob(staged.object_name("part-00000.parquet")).upload_from_filename(str(local_path))
        self.publish(staged.uri, destination, label)

    def discard(self, staging: str) -> None:
        self._delete(self._list(GcsLocation.parse(staging), recursive=True))

    def files(self, folder: str) -> Optional[list[str]]:
        """gs:// URIs of the folder's current version, or None when it was never published."""
        from google.api_core import exceptions

        location = GcsLocation.parse(folder)
        try:
            manifest = json.loads(self.bucket.blob(location.object_name(MANIFEST)).download_as_bytes())
        except exceptions.NotFound:
            return None
        return [location.child(name).uri for name in manifest["files"]]

    def open(self, uri: str):
        """A seekable binary reader of one object (parquet footers are read with ranged requests)."""
        return self.bucket.blob(GcsLocation.parse(uri).prefix).open("rb")

    def size(self, uri: str) -> int:
        blob = self.bucket.get_blob(GcsLocation.parse(uri).prefix)
        return int(blob.size or 0) if blob is not None else 0

    def vacuum(self) -> int:
        """Delete staging left by dead runs; returns how many objects went."""
        cutoff = time.time() - STALE_STAGING_SECONDS
        stale = [b for b in self._list(self.root.child(STAGING_DIR), recursive=True)
                 if b.updated is not None and b.updated.timestamp() < cutoff]
        self._delete(stale)
        return len(stale)

    # ---- helpers ----------------------------------------------------------------------------------------------
    @property
    def bucket(self):
        return self.client.bucket(self.root.bucket)

    def _list(self, folder: GcsLocation, recursive: bool = False) -> list:
        prefix = folder.prefix + "/" if folder.prefix else ""
        blobs = self.client.list_blobs(self.root.bucket, prefix=prefix, delimiter=None if recursive else "/")
        return list(blobs)  # including the connector's zero-byte "folder/" markers, so deletes take them too

    def _parquet(self, folder: GcsLocation) -> list:
        return sorted((b for b in self._list(folder) if b.name.endswith(".parquet")), key=lambda b: b.name)

    def _delete(self, blobs: Iterable) -> None:
        from google.api_core import exceptions

        for blob in blobs:
            try:
                blob.delete()
            except exceptions.NotFound:
                pass
