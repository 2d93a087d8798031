"""What version of a month a source publishes, without fetching it: the data version of the observed source months.

A version is a short string that changes whenever the published month changes (the TLC re-publishes months: its 2023
re-publication changed the types of every file), and ``None`` while the month is not published:

- HTTP(S) (``tlc``, ``backup``): one HEAD (a GET with the body unread when the host refuses HEAD), redirects followed
  only as ``download`` follows them (``download.probe_headers``).
  ``etag=...`` when the server sends an ETag, else ``last-modified=...;length=...`` from Last-Modified and
  Content-Length; 403/404/410 -> ``None``. A server that sends none of the three gives ``present`` (a change cannot be
  seen there, only the month's appearance).
- Local files (``local``, and ``file://`` templates): for each file of the month (a file, or a folder's parquet/CSV
  files): name, size, mtime (ns) and a SHA-256 of its first and last MiB (a parquet file's footer, which describes
  every row group, is at its end), hashed together: ``files=<sha256 hex, 16 chars>``. Missing -> ``None``.
- ``sample``: the generator's inputs (``sample:rows=...;seed=...``): the same inputs make the same month.

Errors: ``TransientSourceError`` when a remote source cannot tell right now (connection error, timeout, 408, 429,
5xx), ``SourceError`` for any other unexpected answer. No Dagster, no Spark.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

from taxi_platform.sources.download import local_path_of_file_url, probe_headers
from taxi_platform.sources.local_files import is_csv_name, is_parquet_name

EDGE_BYTES = 1 << 20  # hashed at each end of a local file


def sample_version(rows: int, seed: int) -> str:
    return f"sample:rows={rows};seed={seed}"


def http_version(url: str, *, timeout_seconds: float = 60.0, redirect_hosts: Sequence[str] = (),
                 describe: str = "version") -> str | None:
    """The month's version from the headers of ``url`` (module docstring); ``None`` while it is not published.

    Asked with ``download.probe_headers``: the same deadline, redirect policy and "403/404/410 = not published" as
    every other request to the source.
    """
    if urlsplit(url).scheme.lower() == "file":
        return file_version(local_path_of_file_url(url))
    headers = probe_headers(url, timeout_seconds=timeout_seconds, redirect_hosts=redirect_hosts, describe=describe,
                            item="month")
    if headers is None:
        return None
    if headers.get("ETag"):
        return f"etag={headers['ETag']}"
    if headers.get("Last-Modified") or headers.get("Content-Length"):
        return f"last-modified={headers.get('Last-Modified', '')};length={headers.get('Content-Length', '')}"
    return "present"


def _month_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and (is_parquet_name(p) or is_csv_name(p)))
    return []


def file_version(path: Path) -> str | None:
    """The version of a local month (a file, or a folder of parquet/CSV files); ``None`` when there is none."""
    files = _month_files(Path(path))
    if not files:
        return None
    digest = hashlib.sha256()
    for file in files:
        stat = file.stat()
        digest.update(f"{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        with open(file, "rb") as handle:
            digest.update(handle.read(EDGE_BYTES))
            if stat.st_size > 2 * EDGE_BYTES:
                handle.seek(-EDGE_BYTES, 2)
                digest.update(handle.read(EDGE_BYTES))
    return f"files={digest.hexdigest()[:16]}"
