"""Copy a local folder tree to gs:// in parallel, skipping objects already there with the same content.

The course's ``gsutil -m cp -r pq/ gs://bucket/pq`` step, made idempotent: an object whose CRC32C (the checksum GCS
keeps for every object) equals the local file's is not uploaded again, so a re-run after an interruption only sends
what is missing or changed. Folders starting with ``_`` or ``.`` (the lake's in-flight ``_staging``/``_trash``) are
not copied. Each uploaded folder that holds parquet files gets the ``_manifest.json`` naming them (a local lake folder
holds exactly one version), so the lake IO manager reads the uploaded lake like one it wrote itself.
"""

import base64
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import google_crc32c

from taxi_platform.io_managers.gcs_store import GcsLocation, write_manifest

CHUNK = 1 << 20


@dataclass
class SyncReport:
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    manifests: int = 0

    def as_metadata(self) -> dict:
        return {"uploaded_files": len(self.uploaded), "skipped_files": len(self.skipped),
                "bytes_uploaded": self.bytes_uploaded, "manifests_written": self.manifests}


def crc32c_base64(path: Path) -> str:
    """The file's CRC32C as GCS reports it (base64 of the big-endian 4 bytes)."""
    checksum = google_crc32c.Checksum()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            checksum.update(chunk)
    return base64.b64encode(checksum.digest()).decode("ascii")


def local_files(root: Path) -> list[Path]:
    """Files under ``root``, skipping hidden and underscore folders/files (in-flight writes, markers)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        found += [Path(folder) / f for f in sorted(files) if not f.startswith((".", "_"))]
    return found


def sync_to_gcs(local_root: Path, destination: str, client, workers: int = 8) -> SyncReport:
    """Upload every file under ``local_root`` to ``destination`` (gs://bucket/prefix), keeping relative paths."""
    local_root = Path(local_root)
    if not local_root.is_dir():
        raise FileNotFoundError(f"nothing to upload: {local_root} is not a folder")
    target = GcsLocation.parse(destination)
    bucket = client.bucket(target.bucket)
    prefix = target.prefix + "/" if target.prefix else ""
    existing = {b.name: b.crc32c for b in client.list_blobs(target.bucket, prefix=prefix)}
    report = SyncReport()

    def upload(path: Path) -> tuple[str, bool, int]:
        name = prefix + path.relative_to(local_root).as_posix()
        checksum = crc32c_base64(path)
        if existing.get(name) == checksum:
            return name, False, 0
        blob = bucket.blob(name)
        blob.upload_from_filename(str(path), checksum="crc32c")  # the upload is verified by GCS against this checksum
        return name, True, path.stat().st_size

    files = local_files(local_root)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for name, uploaded, size in pool.map(upload, files):
            (report.uploaded if uploaded else report.skipped).append(name)
            report.bytes_uploaded += size
    folders: dict[Path, list[str]] = {}
    for path in files:
        if path.suffix == ".parquet":
            folders.setdefault(path.parent.relative_to(local_root), []).append(path.name)
    for folder, names in sorted(folders.items()):
        write_manifest(bucket, target.child(folder.as_posix()), sorted(names), "upload")
    report.manifests = len(folders)
    return report
