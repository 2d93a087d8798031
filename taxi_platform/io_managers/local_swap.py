"""Atomic replacement of a folder on a local filesystem, safe against a crash at any instant.

A new version of a lake folder (one month of a dataset, or a whole unpartitioned dataset) is first written in full
under ``{lake_root}/_staging/``; then ``swap`` puts it in place:

1. a journal ``{lake_root}/_trash/{id}.json`` records the destination, the staged folder and where the old one goes;
2. the old folder (if any) is renamed into ``_trash/{id}``;
3. the staged folder is renamed to the destination;
4. the old folder and the journal are deleted.

Renames within one filesystem are atomic, so a reader sees the old version or the new one, never a mix. A crash
between steps 2 and 3 leaves the destination missing for a moment; ``recover`` (run before every lake read and write)
finds the journal and puts the old version back, so the previous version stays readable and the next write succeeds.
Folders whose name starts with ``_`` or ``.`` are ignored by Spark, pyarrow and DuckDB readers, so staging and trash
never show up as data.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

STAGING_DIR = "_staging"
TRASH_DIR = "_trash"
# A staging folder older than this belongs to a run that died: recovery removes it.
STALE_STAGING_SECONDS = 6 * 3600


def new_staging_dir(lake_root: Path, label: str) -> Path:
    """A fresh, empty staging folder for one write (``label`` makes it recognisable, e.g. the run id)."""
    path = lake_root / STAGING_DIR / f"{label}-{uuid.uuid4().hex[:12]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def swap(lake_root: Path, staged: Path, destination: Path) -> None:
    """Replace ``destination`` by ``staged`` atomically (see the module docstring); ``staged`` is consumed."""
    trash = lake_root / TRASH_DIR
    trash.mkdir(parents=True, exist_ok=True)
    swap_id = uuid.uuid4().hex
    old = trash / swap_id
    journal = trash / f"{swap_id}.json"
    _write_journal(journal, {"destination": str(destination), "old": str(old), "staged": str(staged)})
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.exists():
        os.rename(destination, old)
    os.rename(staged, destination)
    shutil.rmtree(old, ignore_errors=True)
    journal.unlink()


def recover(lake_root: Path) -> list[str]:
    """Finish or roll back swaps a crash interrupted, and drop stale staging; returns what it restored."""
    restored: list[str] = []
    trash = lake_root / TRASH_DIR
    if trash.is_dir():
        for journal in sorted(trash.glob("*.json")):
            try:
                entry = json.loads(journal.read_text())
            except (OSError, ValueError):
                continue  # being written this instant by a live swap, or unreadable: leave it
            destination, old = Path(entry["destination"]), Path(entry["old"])
            if not destination.exists() and old.exists():
                os.rename(old, destination)
                restored.append(str(destination))
            if destination.exists():
                shutil.rmtree(old, ignore_errors=True)
                journal.unlink(missing_ok=True)
    staging = lake_root / STAGING_DIR
    if staging.is_dir():
        cutoff = time.time() - STALE_STAGING_SECONDS
        for folder in staging.iterdir():
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
    return restored


def _write_journal(path: Path, entry: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(entry))
    os.replace(tmp, path)


class LocalStore:
    """The lake IO manager's store for a local root: folders replaced by ``swap``, crashes undone by ``recover``.

    Same interface as ``gcs_store.GcsStore``; URIs are plain local paths (strings).
    """

    def __init__(self, root: str):
        self.root = Path(root).expanduser().resolve()

    @staticmethod
    def join(base: str, *parts: str) -> str:
        return str(Path(base).joinpath(*parts))

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def recover(self) -> list[str]:
        return recover(self.root)

    def new_staging(self, label: str) -> str:
        return str(new_staging_dir(self.root, label))

    def staged_subfolders(self, staging: str) -> set[str]:
        path = Path(staging)
        return {p.name for p in path.iterdir() if p.is_dir()} if path.is_dir() else set()

    def publish(self, staged: str, destination: str, label: str) -> None:
        swap(self.root, Path(staged), Path(destination))

    def put_file(self, local_path, destination: str, label: str) -> None:
        staged = new_staging_dir(self.root, label)
        staged.mkdir(parents=True)
        shutil.move(str(local_path), staged / "part-00000.parquet")
        swap(self.root, staged, Path(destination))

    def discard(self, staging: str) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def files(self, folder: str):
        path = Path(folder)
        return [str(p) for p in sorted(path.glob("*.parquet"))] if path.is_dir() else None

    def open(self, uri: str):
        return open(uri, "rb")

    def size(self, uri: str) -> int:
        return Path(uri).stat().st_size
