"""Copy a local lake to gs:// in parallel, folder version by folder version, never replacing a newer GCS version.

The course's ``gsutil -m cp -r pq/ gs://bucket/pq`` step, made safe for a lake that is also written on GCS:

- each local folder holding parquet files (a month, or an unpartitioned dataset) is one version: its
  ``_version.json`` (written by the local lake; for folders without one, the files' newest mtime) says which write
  made it and when;
- the GCS folder's ``_manifest.json`` says the same of the GCS version. A folder whose GCS version came from the same
  write is skipped; one whose GCS version is NEWER (re-materialized on GCS after the laptop's write) is skipped and
  reported (``newer_on_gcs``): an upload never rolls a month back;
- otherwise the files are uploaded under names unique to the local version (``v{write}-{name}``; a file already
  there with the same CRC32C, the checksum GCS keeps for every object, is not sent again, so a re-run after an
  interruption only sends what is missing), then the manifest is replaced by a compare-and-swap on the generation
  read before (``if_generation_match``): if another writer committed the folder meanwhile, the upload of that folder
  is skipped and reported (``changed_during_upload``), the other write stays whole. The superseded version's files
  are deleted afterwards (never one the current manifest names).

Other files (not parquet) are copied as they are, skipping those with the same CRC32C. Folders starting with ``_``
or ``.`` (the lake's in-flight ``_staging``/``_trash``/``_retired``, and ``_versions``: a month's pointer is followed
instead, so GCS gets the plain ``month=YYYY-MM`` layout) are not copied.
"""

import base64
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import google_crc32c

from taxi_platform.io_managers.commits import is_data_file
from taxi_platform.io_managers.gcs_store import GcsLocation, read_manifest, write_manifest

CHUNK = 1 << 20
VERSION_FILE = "_version.json"  # the local lake's (local_swap.VERSION_FILE)


@dataclass
class SyncReport:
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    manifests: int = 0
    newer_on_gcs: list[str] = field(default_factory=list)  # folders left alone: GCS holds a newer version
    changed_during_upload: list[str] = field(default_factory=list)  # another writer committed them meanwhile

    def as_metadata(self) -> dict:
        return {"uploaded_files": len(self.uploaded), "skipped_files": len(self.skipped),
                "bytes_uploaded": self.bytes_uploaded, "manifests_written": self.manifests,
                "newer_on_gcs": sorted(self.newer_on_gcs), "changed_during_upload": sorted(self.changed_during_upload)}


def crc32c_base64(path: Path) -> str:
    """The file's CRC32C as GCS reports it (base64 of the big-endian 4 bytes)."""
    checksum = google_crc32c.Checksum()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            checksum.update(chunk)
    return base64.b64encode(checksum.digest()).decode("ascii")


def local_files(root: Path) -> list[Path]:
    """Files under ``root``, skipping hidden and underscore folders/files (in-flight writes, markers, the superseded
    ``_versions``). A lake folder's pointer (symlink) is followed: its files are listed under the folder's own path."""
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        found += [Path(folder) / f for f in sorted(files) if not f.startswith((".", "_"))]
    return found


def local_version(folder: Path, names: list[str]) -> tuple[str, datetime]:
    """(write id, written at) of a local folder version: its ``_version.json``, else derived from its files."""
    try:
        version = json.loads((folder / VERSION_FILE).read_text())
        return str(version["write_id"]), _parse_time(version["written_at"])
    except (OSError, ValueError, KeyError):
        stats = [(folder / n).stat() for n in names]
        digest = hashlib.sha1(json.dumps([(n, s.st_size, s.st_mtime_ns) for n, s in zip(names, stats)]).encode())
        newest = max(s.st_mtime for s in stats)
        return f"local-{digest.hexdigest()[:16]}", datetime.fromtimestamp(newest, timezone.utc)


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def sync_to_gcs(local_root: Path, destination: str, client, workers: int = 8) -> SyncReport:
    """Upload every folder version under ``local_root`` to ``destination`` (gs://bucket/prefix), keeping relative
    paths; see the module docstring for what is skipped. Returns what was uploaded, skipped and left alone."""
    local_root = Path(local_root)
    if not local_root.is_dir():
        raise FileNotFoundError(f"nothing to upload: {local_root} is not a folder")
    target = GcsLocation.parse(destination)
    bucket = client.bucket(target.bucket)
    prefix = target.prefix + "/" if target.prefix else ""
    existing = {b.name: b.crc32c for b in client.list_blobs(target.bucket, prefix=prefix)}
    report = SyncReport()

    files = local_files(local_root)
    folders: dict[Path, list[str]] = {}
    others: list[tuple[Path, str]] = []
    for path in files:
        relative = path.relative_to(local_root)
        if is_data_file(path.name):
            folders.setdefault(relative.parent, []).append(path.name)
        else:
            others.append((path, prefix + relative.as_posix()))

    plans = []  # (folder, gcs folder, write id, written at, generation read, [(local path, object name)])
    for folder, names in sorted(folders.items()):
        gcs_folder = target.child(folder.as_posix())
        write_id, written_at = local_version(local_root / folder, names)
        current = read_manifest(bucket, gcs_folder)
        if current.generation and current.write_id == write_id:
            report.skipped += [gcs_folder.object_name(n) for n in current.files]
            continue
        if current.generation and current.written_at and _parse_time(current.written_at) > written_at:
            report.newer_on_gcs.append(gcs_folder.uri)
            continue
        tag = hashlib.sha1(write_id.encode()).hexdigest()[:12]
        uploads = [(local_root / folder / n, gcs_folder.object_name(f"v{tag}-{n}")) for n in sorted(names)]
        plans.append((folder, gcs_folder, write_id, written_at, current, uploads))

    def upload(item: tuple[Path, str]) -> tuple[str, bool, int]:
        path, name = item
        if existing.get(name) == crc32c_base64(path):
            return name, False, 0
        bucket.blob(name).upload_from_filename(str(path), checksum="crc32c")  # verified by GCS against it
        return name, True, path.stat().st_size

    work = others + [u for plan in plans for u in plan[5]]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for name, uploaded, size in pool.map(upload, work):
            (report.uploaded if uploaded else report.skipped).append(name)
            report.bytes_uploaded += size

    from google.api_core import exceptions

    for folder, gcs_folder, write_id, written_at, current, uploads in plans:
        names = [name.rsplit("/", 1)[-1] for _, name in uploads]
        try:
            write_manifest(bucket, gcs_folder, names, write_id, if_generation_match=current.generation,
                           written_at=written_at.isoformat())
        except exceptions.PreconditionFailed:
            report.changed_during_upload.append(gcs_folder.uri)  # the other write stays; our copies are unreferenced
            keep = set(read_manifest(bucket, gcs_folder).files)
            for _, name in uploads:
                if name.rsplit("/", 1)[-1] not in keep:
                    _delete_quietly(bucket, name)
            continue
        report.manifests += 1
        keep = set(read_manifest(bucket, gcs_folder).files)
        for old in set(current.files) - keep:
            _delete_quietly(bucket, gcs_folder.object_name(old))
    return report


def _delete_quietly(bucket, name: str) -> None:
    from google.api_core import exceptions

    try:
        bucket.blob(name).delete()
    except exceptions.NotFound:
        pass
