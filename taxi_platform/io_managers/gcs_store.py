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

Several folders of one commit are all staged, verified and copied before anything is committed, so a failure in any
of them replaces none. Folders of one commit UNIT (``Publish.unit``: a step's outputs for one month, e.g. clean +
quarantine of 2021-01) are committed by ONE object write too, since GCS has no multi-object transaction:

- the unit has a **commit record** ``{root}/_commits/{hash of the folders}.json``: ``{"serial": n, "folders":
  {folder URI: [file names]}, "write_id", "written_at"}``, replaced only with ``if_generation_match`` (serial + 1);
- each folder's ``_manifest.json`` is then a **pointer**: ``{"group": record object, "after_serial": s, "files":
  [the version it had before it was pointed]}``. A reader (``read_manifest``) takes the record's files for the folder
  when the record's serial is above ``after_serial``, else the pointer's own files;
- a unit commit (``_commit_group``): read the record; make every folder a pointer to it if it is not one yet (a
  compare-and-swap of its manifest keeping the files it shows, with ``after_serial`` = the record's serial: readers see
  no change); then compare-and-swap the record with every folder's new files (the commit point, one write). A
  concurrent writer of the same unit that commits first makes the record write fail: re-read, retry, last committer
  wins whole. A kill anywhere leaves the record either before or after: every folder of the unit is from one writer.
- a folder of a unit written alone (``gcs_sync``'s upload, a single-output write) gets a plain manifest again; its
  next unit commit points it back, with ``after_serial`` above the record's stale entry. Assumed (and true of the
  platform): concurrent writers of a unit's folder are writers of that unit; a lone write racing a unit commit of
  the same folder can lose the race silently to the unit's version (both are whole versions).

Units of one commit (the months of a multi-month run) are committed one after the other: every month is whole and
its folders from one writer; a crash between two months' records leaves earlier months new, later ones old.
"""

from __future__ import annotations

import hashlib
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
COMMITS_DIR = "_commits"
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
    """A folder's current version: its file names, the write that made it, when, and the manifest's generation.

    For a folder of a commit unit (see the module docstring) ``files``/``write_id``/``written_at`` are those of the
    version readers see (resolved through the commit record); ``group`` names the record object, ``after_serial``
    and ``own_files`` are the pointer's own fields.
    """

    files: list[str]
    write_id: str
    written_at: str
    generation: int  # 0: there is no manifest
    group: str = ""
    after_serial: int = 0


@dataclass(frozen=True)
class CommitRecord:
    """A commit unit's record: {folder URI: file names} of its last commit, its serial and the object's generation."""

    folders: dict
    serial: int
    write_id: str
    written_at: str
    generation: int  # 0: there is no record yet


def _read_json(bucket, name: str, what: str):
    """(body, generation) of an object read consistently with its generation; (None, 0) when there is none."""
    from google.api_core import exceptions

    for _ in range(COMMIT_ATTEMPTS):
        blob = bucket.get_blob(name)
        if blob is None:
            return None, 0
        try:
            return json.loads(blob.download_as_bytes(if_generation_match=blob.generation)), int(blob.generation)
        except (exceptions.PreconditionFailed, exceptions.NotFound):
            continue  # replaced between the two requests: read the new one
    raise CommitError(f"{what} kept changing while being read")


def read_record(bucket, name: str) -> CommitRecord:
    body, generation = _read_json(bucket, name, f"commit record gs://{bucket.name}/{name}")
    if body is None:
        return CommitRecord({}, 0, "", "", 0)
    return CommitRecord(dict(body["folders"]), int(body["serial"]), body.get("write_id", ""),
                        body.get("written_at", ""), generation)


def read_manifest(bucket, folder: GcsLocation) -> Manifest:
    """The folder's current version (generation 0 and no files when it has none), resolved through its unit's
    commit record when the manifest is a pointer."""
    body, generation = _read_json(bucket, folder.object_name(MANIFEST), f"{folder.uri}: its manifest")
    if body is None:
        return Manifest([], "", "", 0)
    group, after = body.get("group", ""), int(body.get("after_serial", 0))
    files, write_id, written_at = list(body["files"]), body.get("write_id", ""), body.get("written_at", "")
    if group:
        record = read_record(bucket, group)
        if record.serial > after and folder.uri in record.folders:
            files, write_id, written_at = list(record.folders[folder.uri]), record.write_id, record.written_at
    return Manifest(files, write_id, written_at, generation, group, after)


def write_manifest(bucket, folder: GcsLocation, names: list[str], write_id: str, if_generation_match: int,
                   written_at: Optional[str] = None, group: str = "", after_serial: int = 0) -> None:
    """Make ``names`` (files of ``folder``) its current version if the manifest is still at ``if_generation_match``
    (with ``group``: a pointer to that commit record, ``names`` being the version it shows until the record's serial
    exceeds ``after_serial``).

    One conditional object write, the commit point; raises ``google.api_core.exceptions.PreconditionFailed`` when
    another writer replaced the manifest since it was read.
    """
    manifest = {"files": names, "write_id": write_id,
                "written_at": written_at or datetime.now(timezone.utc).isoformat()}
    if group:
        manifest.update(group=group, after_serial=after_serial)
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
        units: dict[str, list[tuple[Publish, GcsLocation, list[str]]]] = {}
        for entry in copied:  # items without a unit are a unit each
            units.setdefault(entry[0].unit or f"\0{entry[1].uri}", []).append(entry)
        superseded: list[tuple[GcsLocation, set[str]]] = []
        for entries in units.values():
            if len(entries) == 1:
                item, target, names = entries[0]
                superseded.append((target, self._commit(item, target, names, write_id)))
            else:
                superseded += self._commit_group(entries, write_id)
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

    def record_name(self, folders: Iterable[GcsLocation]) -> str:
        """Object name of the commit record of a unit of these folders (the same for any order of them)."""
        digest = hashlib.sha256("\n".join(sorted(f.uri for f in folders)).encode()).hexdigest()[:24]
        return self.root.child(COMMITS_DIR, f"{digest}.json").prefix

    def _commit_group(self, entries: list[tuple[Publish, GcsLocation, list[str]]],
                      write_id: str) -> list[tuple[GcsLocation, set[str]]]:
        """Commit the folders of one unit by one compare-and-swap of its commit record (module docstring);
        returns each folder with the file names it superseded."""
        from google.api_core import exceptions

        bucket, group = self.bucket, self.record_name(e[1] for e in entries)
        for _ in range(COMMIT_ATTEMPTS):
            record = read_record(bucket, group)
            current: dict[str, list[str]] = {}
            try:
                for _item, target, _names in entries:
                    manifest = read_manifest(bucket, target)
                    current[target.uri] = manifest.files
                    if manifest.group != group:  # point it at the record, showing readers the same version
                        write_manifest(bucket, target, manifest.files, manifest.write_id, manifest.generation,
                                       manifest.written_at or None, group=group, after_serial=record.serial)
                body = {"serial": record.serial + 1, "write_id": write_id,
                        "written_at": datetime.now(timezone.utc).isoformat(),
                        "folders": {**record.folders, **{t.uri: names for _, t, names in entries}}}
                bucket.blob(group).upload_from_string(json.dumps(body), content_type="application/json",
                                                      if_generation_match=record.generation)
            except exceptions.PreconditionFailed:
                continue  # another writer of the unit moved first: re-read; our copies are whole, commit over theirs
            return [(t, set(current[t.uri]) - set(names)) for _, t, names in entries]
        raise CommitError(f"{entries[0][0].what} (and the other folders of its unit): {COMMIT_ATTEMPTS} other writers "
                          "committed it while this write tried to; nothing of this write was published there")

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
        staged = self.new_staging(label)
        self.stage_file(local_path, self.join(staged, "part-00000.parquet"), what or destination)
        self.publish(staged, destination, label, what, rows)

    def stage_file(self, local_path, uri: str, what: str) -> None:
        """Upload a local file to ``uri`` in staging."""
        self.bucket.blob(GcsLocation.parse(uri).prefix).upload_from_filename(str(local_path), checksum="crc32c")

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
