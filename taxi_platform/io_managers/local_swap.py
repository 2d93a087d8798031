"""Atomic replacement of a folder on a local filesystem, safe against a crash at any instant and against other runs.

A new version of a lake folder (one month of a dataset, or a whole unpartitioned dataset) is first written in full
under ``{lake_root}/_staging/``; then ``swap`` puts it in place:

1. a journal ``{lake_root}/_trash/{id}.json`` records the destination, the staged folder and where the old one goes;
2. the old folder (if any) is renamed into ``_trash/{id}``;
3. the staged folder is renamed to the destination;
4. the old folder and the journal are deleted.

Renames within one filesystem are atomic, so a reader sees the old version or the new one, never a mix. A crash
between steps 2 and 3 leaves the destination missing for a moment; ``recover`` (run before every lake read and write)
finds the journal and puts the old version back, so the previous version stays readable and the next write succeeds.

Several runs may write the same lake at once (different months, different datasets). ``recover`` must tell a swap
or a staging folder that a live run is using this very instant from the leftovers of a run that died, without
guessing from ages: the owner holds an exclusive ``flock`` on the journal (and on ``_staging/{name}.lock`` beside
its staging folder) for as long as it works on it. The kernel drops the lock when the owning process dies, however it
dies (SIGKILL included), so ``recover`` acts only on what it can lock: it rolls back (or finishes) dead swaps and
deletes dead staging, and leaves live ones alone. Lock files appear already locked (created under a temporary name,
locked, then renamed), so no reader can take a fresh one for a dead one. Staging folders without a lock file (a
filesystem without ``flock``, or older versions) are removed when older than ``STALE_STAGING_SECONDS``.

Folders whose name starts with ``_`` or ``.`` are ignored by Spark, pyarrow and DuckDB readers, so staging and trash
never show up as data.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Optional

STAGING_DIR = "_staging"
TRASH_DIR = "_trash"
LOCK_SUFFIX = ".lock"
# A staging folder with no lock file, older than this, belongs to a run that died: recovery removes it.
STALE_STAGING_SECONDS = 6 * 3600
# Temporary lock/journal files exist for microseconds in a live write; older ones are a crash's leftovers.
STALE_TEMP_SECONDS = 600

# Locks this process holds on its staging folders: {staging folder path: locked file descriptor}.
_staging_locks: dict[str, int] = {}


# ---- locks ------------------------------------------------------------------------------------------------------
def _create_locked(final: Path, content: bytes = b"") -> Optional[int]:
    """Create ``final`` holding ``content``, already exclusively locked when it appears; returns the open fd.

    Returns None (no lock: the age rules apply) on a filesystem without ``flock``.
    """
    tmp = final.with_name(f"{final.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            fd = None
            tmp.write_bytes(content)
        else:
            os.write(fd, content)
            os.fsync(fd)
        os.replace(tmp, final)  # appears complete and already locked
    except BaseException:
        if fd is not None:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    return fd


def _owner_is_dead(path: Path) -> tuple[bool, Optional[int]]:
    """(True, an fd holding the lock of ``path``) when its owner is gone; (False, None) while a live process holds it.

    On a filesystem without ``flock`` the owner counts as dead only when the file is older than
    ``STALE_STAGING_SECONDS`` (and no lock is held then: the fd is None).
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False, None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # held by a live owner
        os.close(fd)
        return False, None
    except OSError:  # no flock on this filesystem: fall back to the age rule
        os.close(fd)
        return _mtime(path) < time.time() - STALE_STAGING_SECONDS, None
    return True, fd


def _release(fd: Optional[int]) -> None:
    if fd is not None:
        os.close(fd)


# ---- staging ----------------------------------------------------------------------------------------------------
def new_staging_dir(lake_root: Path, label: str) -> Path:
    """A fresh staging folder path for one write (``label`` makes it recognisable, e.g. the run id).

    The folder itself is created by the writer (Spark creates it); this process holds ``{folder}.lock`` until
    ``release_staging`` (or its death), so no other run's ``recover`` removes it meanwhile.
    """
    path = lake_root / STAGING_DIR / f"{label}-{uuid.uuid4().hex[:12]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    _staging_locks[str(path)] = _create_locked(path.with_name(path.name + LOCK_SUFFIX))
    return path


def release_staging(staging: Path) -> None:
    """Delete a staging folder (whatever is left of it) and its lock."""
    shutil.rmtree(staging, ignore_errors=True)
    fd = _staging_locks.pop(str(staging), None)
    Path(str(staging) + LOCK_SUFFIX).unlink(missing_ok=True)
    _release(fd)


# ---- swap and recover -------------------------------------------------------------------------------------------
def swap(lake_root: Path, staged: Path, destination: Path) -> None:
    """Replace ``destination`` by ``staged`` atomically (see the module docstring); ``staged`` is consumed."""
    trash = lake_root / TRASH_DIR
    trash.mkdir(parents=True, exist_ok=True)
    swap_id = uuid.uuid4().hex
    old = trash / swap_id
    journal = trash / f"{swap_id}.json"
    entry = {"destination": str(destination), "old": str(old), "staged": str(staged)}
    lock = _create_locked(journal, json.dumps(entry).encode())
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.exists():
            os.rename(destination, old)
        os.rename(staged, destination)
        shutil.rmtree(old, ignore_errors=True)
        journal.unlink()
    finally:
        _release(lock)  # on a crash (an exception here) the journal stays: recover() finishes or rolls back


def recover(lake_root: Path) -> list[str]:
    """Finish or roll back swaps whose run died, and drop dead staging; returns the destinations it restored.

    Swaps and staging that a live process holds (this one included) are left alone.
    """
    restored: list[str] = []
    trash = lake_root / TRASH_DIR
    if trash.is_dir():
        for journal in sorted(trash.glob("*.json")):
            dead, lock = _owner_is_dead(journal)
            if not dead:
                continue  # a live swap (maybe another run's): not ours to touch
            try:
                try:
                    entry = json.loads(journal.read_text())
                except (OSError, ValueError):
                    continue  # unreadable: leave it for a person to look at
                destination, old = Path(entry["destination"]), Path(entry["old"])
                if not destination.exists() and old.exists():
                    os.rename(old, destination)  # died between the two renames: the previous version goes back
                    restored.append(str(destination))
                if destination.exists():
                    shutil.rmtree(old, ignore_errors=True)
                    journal.unlink(missing_ok=True)
            finally:
                _release(lock)
        _remove_stale_temp_files(trash)
    staging = lake_root / STAGING_DIR
    if staging.is_dir():
        _remove_dead_staging(staging)
    return restored


def _remove_dead_staging(staging: Path) -> None:
    locked = set()
    for lock_file in sorted(staging.glob(f"*{LOCK_SUFFIX}")):
        folder = lock_file.with_name(lock_file.name[: -len(LOCK_SUFFIX)])
        locked.add(folder.name)
        dead, fd = _owner_is_dead(lock_file)
        if not dead:
            continue  # a live write
        try:
            shutil.rmtree(folder, ignore_errors=True)
            lock_file.unlink(missing_ok=True)
        finally:
            _release(fd)
    cutoff = time.time() - STALE_STAGING_SECONDS
    for folder in staging.iterdir():
        if folder.is_dir() and folder.name not in locked and _mtime(folder) < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
    _remove_stale_temp_files(staging)


def _remove_stale_temp_files(folder: Path) -> None:
    cutoff = time.time() - STALE_TEMP_SECONDS
    for tmp in folder.glob("*.tmp"):
        if tmp.is_file() and _mtime(tmp) < cutoff:
            tmp.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return time.time()


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
        try:
            staged.mkdir(parents=True)
            shutil.move(str(local_path), staged / "part-00000.parquet")
            swap(self.root, staged, Path(destination))
        finally:
            release_staging(staged)

    def discard(self, staging: str) -> None:
        release_staging(Path(staging))

    def files(self, folder: str):
        path = Path(folder)
        return [str(p) for p in sorted(path.glob("*.parquet"))] if path.is_dir() else None

    def open(self, uri: str):
        return open(uri, "rb")

    def size(self, uri: str) -> int:
        return Path(uri).stat().st_size
