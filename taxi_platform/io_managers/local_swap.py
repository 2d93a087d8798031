"""Whole-version commits of lake folders on a local (or NFS) filesystem: no reader ever sees a month missing or mixed.

Each lake folder (a month ``{dataset}/month=YYYY-MM``, or an unpartitioned dataset) is a symlink, its *pointer*, to
an immutable *version* folder ``{dataset}/_versions/month=YYYY-MM/{write id}/`` (``local_versions``). A write stages
each new folder in full under ``{lake_root}/_staging/{write}/`` (Spark's output), then ``publish_all`` commits a list
of them (``commits.Publish``: a step's outputs for its months, e.g. clean + quarantine) together:

1. **verify**: each staged folder holds the rows the writer produced for it (parquet footers against the writer's
   count, ``commits.verify_staged``); a staged month that is missing or short fails the commit, nothing replaced;
2. **mark**: ``_version.json`` (write id, time, rows, files) goes into each staged folder; readers ignore it (leading
   underscore) and it tells ``upload_lake_to_gcs`` which version a folder holds;
3. **lock** every destination (``_locks/{hash}.lock``, taken in sorted order, so two writers of one month commit one
   after the other); a destination still written the earlier way (a plain folder) is converted to a pointer with the
   same files (``local_versions.convert_plain_folder``: hard links, one ``renameat2(RENAME_EXCHANGE)``); then the
   commit's journal ``_trash/{write}.json`` (each pointer's new and previous target), created already locked;
4. **move** each staged folder to its version folder (one rename each; not yet visible to any reader);
5. **point** each destination at its new version: a new symlink renamed over the old one, ONE ``rename(2)``, atomic
   on every POSIX filesystem: the path always names a whole version, the old one or the new one;
6. **finish**: delete the journal, then (still under the locks) record each superseded version in
   ``_retired/old-{ns}-{id}`` (a symlink to it), release the locks. A superseded version is deleted by a later write
   (or ``vacuum``) only ``RETIRED_GRACE_SECONDS`` after it was superseded.

Readers: a plain reader (Spark, pyarrow, DuckDB on the dataset folder) follows the pointers and skips ``_versions``:
every listing shows each month once, whole. The platform's reader (``LocalStore.files``) resolves the pointer ONCE
and hands Spark the version's own paths, which stay valid during rewrites (for the grace period): a Spark job that
opens its files after a commit of its months reads the old version, whole. A plain reader that lists a month and
opens its files after a commit replaced it opens them through the new pointer: Spark-written files are named per
write, so it finds them gone (file not found: re-list) rather than mixed; a raw month's single ``part-00000.parquet``
is then the new version's file, whole.

A step that fails (ENOSPC, EXDEV, EACCES, ...) is undone at once: the pointers already moved are pointed back, the
new versions go back to staging, and the error (``CommitError``) names the dataset, the month and the OS error;
every destination keeps its old version. A run that dies mid-commit leaves its journal, whose lock the kernel
released with the process: the next writer (or ``vacuum``) that finds a journal it can lock finishes it (every pointer
moved: the previous versions are recorded as superseded) or rolls it back (pointers moved back, the new versions
recorded as superseded), so a step's outputs never stay mixed. Journals of the earlier protocol (folders exchanged in
place) are still rolled back the earlier way.

Locks: ``flock`` on a file opened for reading AND writing (the Linux NFS client emulates flock with POSIX locks, which
need a writable descriptor). Lock files appear already locked (created under a temporary name, locked, renamed).
The owner holds them while it works; the kernel drops them when it dies (SIGKILL included), so recovery acts only on
what it can lock. Staging folders without a lock file (a filesystem without any locking) are removed when older than
``STALE_STAGING_SECONDS``.

Readers never recover and never write: reads work on a read-only mount or as another user.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from taxi_platform.io_managers.commits import Publish, verify_staged
from taxi_platform.io_managers.errors import CommitError, LakeError
from taxi_platform.io_managers.local_versions import (  # noqa: F401 (RETIRED_*, exchange: re-exported)
    RETIRED_DIR,
    RETIRED_PREFIX,
    ExchangeUnsupported,
    convert_plain_folder,
    current_files,
    current_target,
    empty_retired,
    exchange,
    is_current,
    is_plain_folder,
    link_target,
    list_data_files,
    plain_folders,
    point,
    pointer_of,
    restore_parked,
    retire,
    retired_versions,
    stale_temporaries,
    unrecorded_versions,
    version_folder,
)

STAGING_DIR = "_staging"
TRASH_DIR = "_trash"
LOCKS_DIR = "_locks"
LOCK_SUFFIX = ".lock"
VERSION_FILE = "_version.json"
# A staging folder with no lock file, older than this, belongs to a run that died: recovery removes it.
STALE_STAGING_SECONDS = 6 * 3600
# A superseded version is kept this long, so that a reader that resolved the pointer to it before can finish.
RETIRED_GRACE_SECONDS = 300
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
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
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

    The file is opened for reading and writing: NFS grants the lock only on a writable descriptor. On a filesystem
    without locks the owner counts as dead only when the file is older than ``STALE_STAGING_SECONDS`` (no fd then).
    A file this process may not open for writing is not its to recover: (False, None).
    """
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False, None
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return False, None
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):  # held by a live owner
            return False, None
        return _mtime(path) < time.time() - STALE_STAGING_SECONDS, None  # no locks here: the age rule
    return True, fd


def _release(fd: Optional[int]) -> None:
    if fd is not None:
        os.close(fd)


def _lock_destinations(lake_root: Path, destinations: list[Path]) -> list[int]:
    """Block until this process holds the lock of every destination (sorted order: no deadlock between writers)."""
    folder = lake_root / LOCKS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fds = []
    try:
        for name in sorted({hashlib.sha1(str(d).encode()).hexdigest() for d in destinations}):
            fd = os.open(folder / f"{name}{LOCK_SUFFIX}", os.O_CREAT | os.O_RDWR, 0o644)
            fds.append(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as error:
                if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EINTR):
                    raise
                # no locks on this filesystem: writers of one month are not serialised (each swap is still whole)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return fds


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
    """Delete a staging folder (whatever is left of it, including old versions swapped out) and its lock."""
    shutil.rmtree(staging, ignore_errors=True)
    fd = _staging_locks.pop(str(staging), None)
    Path(str(staging) + LOCK_SUFFIX).unlink(missing_ok=True)
    _release(fd)


def staged_files(folder: Path) -> Optional[list[str]]:
    """Data files of a folder (as Spark/pyarrow/DuckDB see them), or None when the folder does not exist."""
    return list_data_files(Path(folder))


def read_version(folder: Path) -> Optional[dict]:
    """The ``_version.json`` of a published folder (None for folders written before it existed, or missing)."""
    try:
        return json.loads((folder / VERSION_FILE).read_text())
    except (OSError, ValueError):
        return None


# ---- commit -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    """One item of a commit: its new version's pointer target, and the pointer's target before (None: new folder)."""

    item: Publish
    target: str
    previous: Optional[str]

    @property
    def destination(self) -> str:  # as ``Publish``'s (fault-test harnesses wrap ``_swap_in`` and read it)
        return self.item.destination

    @property
    def version(self) -> Path:
        return version_folder(Path(self.destination), self.target)


def publish_all(lake_root: Path, items: list[Publish], write_id: Optional[str] = None) -> None:
    """Commit every item together (steps 1-6 of the module docstring); ``CommitError`` leaves every folder as it was.

    ``items``: staged folders (under ``lake_root``, same filesystem) and the lake folders they become.
    """
    lake_root = Path(lake_root)
    write_id = write_id or uuid.uuid4().hex
    written_at = datetime.now(timezone.utc).isoformat()
    for item in items:  # 1-2, before any lock: a bad write touches nothing
        staged = Path(item.staged)
        files = staged_files(staged)
        rows = verify_staged(item, files, lambda uri: open(uri, "rb"))
        version = {"write_id": write_id, "written_at": written_at, "rows": rows,
                   "files": [Path(f).name for f in files]}
        _guard(item, "marking", lambda: (staged / VERSION_FILE).write_text(json.dumps(version)))
    destinations = [Path(i.destination) for i in items]
    _resolve_dead_journals(lake_root, only=set(map(str, destinations)))  # a dead commit of these folders first
    locks = _guard(items[0], "locking", lambda: _lock_destinations(lake_root, destinations))
    journal = lake_root / TRASH_DIR / f"{write_id}.json"
    journal_lock = None
    try:
        plans = [_guard(item, "preparing", lambda: _plan(item, write_id)) for item in items]
        entry = {"write_id": write_id, "format": 2, "items": [
            {"destination": p.item.destination, "staged": p.item.staged, "what": p.item.what,
             "target": p.target, "previous": p.previous} for p in plans]}
        journal.parent.mkdir(parents=True, exist_ok=True)
        journal_lock = _guard(items[0], "journaling", lambda: _create_locked(journal, json.dumps(entry).encode()))
        moved: list[_Plan] = []
        done: list[_Plan] = []
        plan = None
        try:
            for plan in plans:  # 4: the staged folders become versions (beside their pointers, not yet current)
                _move_in(plan)
                moved.append(plan)
            for plan in plans:  # 5: the pointers, one rename(2) each
                _swap_in(plan)
                done.append(plan)
        except OSError as error:
            _undo(done, moved)
            journal.unlink(missing_ok=True)
            raise CommitError(f"{plan.item.what}: could not replace {plan.item.destination} "
                              f"({errno.errorcode.get(error.errno, error.errno)}: {error.strerror}); every folder of "
                              f"this write keeps its previous version") from error
        except BaseException:
            _undo(done, moved)
            raise
        journal.unlink(missing_ok=True)
        for plan in plans:  # 6: under the locks, after the journal: a retired version can never come back
            if plan.previous is not None:
                retire(lake_root, version_folder(Path(plan.destination), plan.previous))
    finally:
        _release(journal_lock)
        for fd in locks:
            os.close(fd)
    empty_retired(lake_root, RETIRED_GRACE_SECONDS)


def _plan(item: Publish, write_id: str) -> _Plan:
    """Under the destination's lock: convert a plain folder (or put back a parked one), read the current pointer."""
    destination = Path(item.destination)
    restore_parked(destination)
    if is_plain_folder(destination):
        convert_plain_folder(destination, write_id)
    return _Plan(item, link_target(destination, write_id), current_target(destination))


def _guard(item: Publish, doing: str, action):
    try:
        return action()
    except OSError as error:
        raise CommitError(f"{item.what}: {doing} the write failed ({errno.errorcode.get(error.errno, error.errno)}: "
                          f"{error.strerror}); nothing was replaced") from error


def _move_in(plan: _Plan) -> None:
    """Move the staged folder to its version folder (same filesystem: one rename; EXDEV otherwise)."""
    plan.version.parent.mkdir(parents=True, exist_ok=True)
    os.rename(plan.item.staged, plan.version)


def _swap_in(plan: _Plan) -> None:
    """Point the lake folder at the new version (one atomic ``rename(2)`` of a symlink)."""
    point(Path(plan.destination), plan.target)


def _undo(done: list[_Plan], moved: list[_Plan]) -> None:
    """Point back what this commit already pointed, and move its new versions back to staging."""
    for plan in reversed(done):
        point(Path(plan.destination), plan.previous)
    for plan in reversed(moved):
        os.rename(plan.version, plan.item.staged)


# ---- recovery (writers and vacuum only; readers never need it) --------------------------------------------------
def recover(lake_root: Path) -> list[str]:
    """Roll back commits whose run died mid-way, and drop dead staging; returns the destinations it rolled back.

    Commits and staging a live process holds (this one included) are left alone.
    """
    lake_root = Path(lake_root)
    restored = _resolve_dead_journals(lake_root)
    staging = lake_root / STAGING_DIR
    if staging.is_dir():
        _remove_dead_staging(staging)
    return restored


def _resolve_dead_journals(lake_root: Path, only: Optional[set[str]] = None) -> list[str]:
    """Finish (all pointers moved) or roll back (some moved) each commit whose journal's owner is dead."""
    restored: list[str] = []
    trash = Path(lake_root) / TRASH_DIR
    if not trash.is_dir():
        return restored
    for journal in sorted(trash.glob("*.json")):
        try:
            entry = json.loads(journal.read_text())
            items = entry["items"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written, or not ours: leave it
        destinations = [i["destination"] for i in items]
        if only is not None and not only.intersection(destinations):
            continue
        dead, lock = _owner_is_dead(journal)
        if not dead:
            continue  # a live commit (maybe another run's): not ours to touch
        locks = _lock_destinations(lake_root, [Path(d) for d in destinations])
        try:
            if entry.get("format") == 2:
                restored += _roll_back_pointers(Path(lake_root), items)
            else:
                restored += _roll_back_exchanges(entry["write_id"], items)
            journal.unlink(missing_ok=True)
        finally:
            _release(lock)
            for fd in locks:
                os.close(fd)
    _remove_stale_temp_files(trash)
    return restored


def _roll_back_pointers(lake_root: Path, items: list[dict]) -> list[str]:
    """A dead commit of pointers: if every pointer was moved, retire the previous versions (the commit stands);
    otherwise point the moved ones back and retire the commit's new versions. Returns the folders pointed back."""
    destinations = [Path(i["destination"]) for i in items]
    applied = []
    for destination, item in zip(destinations, items):
        try:
            applied.append(current_target(destination) == item["target"])
        except IsADirectoryError:
            applied.append(False)
    restored = []
    if all(applied):
        for destination, item in zip(destinations, items):
            if item["previous"] is not None:
                retire(lake_root, version_folder(destination, item["previous"]))
        return restored
    for destination, item, was_applied in zip(destinations, items, applied):
        if was_applied:
            point(destination, item["previous"])
            restored.append(str(destination))
        if version_folder(destination, item["target"]).exists():
            retire(lake_root, version_folder(destination, item["target"]))
    return restored


def _roll_back_exchanges(write_id: str, items: list[dict]) -> list[str]:
    """A dead commit of the earlier protocol (folders exchanged in place, journals without ``format``)."""
    restored = []
    applied = [(read_version(Path(i["destination"])) or {}).get("write_id") == write_id for i in items]
    for item, was_applied in zip(items, applied):
        destination, staged = Path(item["destination"]), Path(item["staged"])
        previous = Path(item["staged"] + ".previous")
        if not destination.exists() and previous.exists():  # killed between two fallback renames
            os.rename(previous, destination)
            restored.append(str(destination))
        elif was_applied and not all(applied):  # a part of the commit: roll it back
            if staged.exists():  # the old version is where the staged one was
                try:
                    exchange(staged, destination)
                except ExchangeUnsupported:
                    os.rename(destination, item["staged"] + ".new")
                    os.rename(staged, destination)
            else:  # there was no old version: the folder did not exist before this commit
                os.rename(destination, item["staged"] + ".new")
            restored.append(str(destination))
    return restored


def _remove_dead_staging(staging: Path, stale_seconds: float = STALE_STAGING_SECONDS, dry_run: bool = False) -> list[str]:
    """Remove staging folders whose writer died (lock free), and unlocked ones older than ``stale_seconds``."""
    locked, gone = set(), []
    for lock_file in sorted(staging.glob(f"*{LOCK_SUFFIX}")):
        folder = lock_file.with_name(lock_file.name[: -len(LOCK_SUFFIX)])
        locked.add(folder.name)
        dead, fd = _owner_is_dead(lock_file)
        if not dead:
            continue  # a live write
        try:
            gone.append(str(folder))
            if not dry_run:
                for leftover in (folder, Path(f"{folder}.previous"), Path(f"{folder}.new")):
                    shutil.rmtree(leftover, ignore_errors=True)
                lock_file.unlink(missing_ok=True)
        finally:
            _release(fd)
    cutoff = time.time() - stale_seconds
    for folder in staging.iterdir():
        if folder.is_dir() and folder.name not in locked and _mtime(folder) < cutoff:
            gone.append(str(folder))
            if not dry_run:
                shutil.rmtree(folder, ignore_errors=True)
    if not dry_run:
        _remove_stale_temp_files(staging)
    return gone


def vacuum(lake_root: Path, grace_seconds: float = STALE_STAGING_SECONDS, dry_run: bool = False) -> list[str]:
    """Remove what no reader needs: dead commits (finished or rolled back), dead writers' staging, unlocked staging
    and versions superseded more than ``grace_seconds`` ago. Returns the paths (with ``dry_run``: only lists them).

    Also converts lake folders written before versions existed into pointers (listed too: same files, no reader
    notices), records the superseded versions a killed run left unrecorded (deleted by a later vacuum or write once
    ``grace_seconds`` have passed) and removes a killed write's hidden temporaries beside lake folders.
    """
    lake_root = Path(lake_root)
    found: list[str] = []
    trash = lake_root / TRASH_DIR
    for journal in sorted(trash.glob("*.json")) if trash.is_dir() else []:
        dead, fd = _owner_is_dead(journal)
        _release(fd)
        if dead:
            found.append(str(journal))
    if not dry_run:
        _resolve_dead_journals(lake_root)
        _record_unrecorded_versions(lake_root)
    for folder in plain_folders(lake_root):  # converted, not removed: listed so that a dry run shows it
        found.append(str(folder))
        if not dry_run:
            _convert_locked(lake_root, folder)
    for temporary in stale_temporaries(lake_root, STALE_TEMP_SECONDS):
        found.append(str(temporary))
        if not dry_run:
            _remove(temporary)
    staging = lake_root / STAGING_DIR
    if staging.is_dir():
        found += _remove_dead_staging(staging, grace_seconds, dry_run)
    found += empty_retired(lake_root, grace_seconds, dry_run)
    return found


def _record_unrecorded_versions(lake_root: Path) -> None:
    """Retire (from now) each version that is neither current nor recorded, checked again under its folder's lock
    (no live commit of that folder then: a commit holds the lock until its retirement records are written)."""
    candidates = unrecorded_versions(lake_root)
    for version in candidates:
        destination = pointer_of(version)
        locks = _lock_destinations(lake_root, [destination])
        try:
            restore_parked(destination)
            if version.exists() and not is_current(version) and str(version) not in retired_versions(lake_root):
                retire(lake_root, version)
        finally:
            for fd in locks:
                os.close(fd)


def _convert_locked(lake_root: Path, folder: Path) -> None:
    """Convert a plain lake folder to a pointer and version under its lock (invisible to readers: same files)."""
    locks = _lock_destinations(lake_root, [folder])
    try:
        if is_plain_folder(folder):
            convert_plain_folder(folder, uuid.uuid4().hex)
    finally:
        for fd in locks:
            os.close(fd)


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


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


# Characters Spark (Hadoop's glob) interprets in a path; a lake root holding one is refused.
GLOB_CHARACTERS = "[]{}*?\\"


def _check_root(root: Path) -> Path:
    """Refuse lake roots that Spark would take as a glob pattern (it has no escape for them in a path)."""
    if any(c in str(root) for c in GLOB_CHARACTERS):
        raise LakeError(f"lake root {str(root)!r} contains one of {GLOB_CHARACTERS}: Spark reads such a path as a "
                        "glob pattern (PATH_NOT_FOUND); choose a folder name without them")
    return root


class LocalStore:
    """The lake IO manager's store for a local root: folders replaced whole by ``publish_all``, crashes undone by
    ``recover`` (writers only).

    Same interface as ``gcs_store.GcsStore``; URIs are plain local paths (strings).
    """

    def __init__(self, root: str):
        self.root = _check_root(Path(root).expanduser().resolve())

    @staticmethod
    def join(base: str, *parts: str) -> str:
        return str(Path(base).joinpath(*parts))

    def check(self) -> None:
        if not self.root.is_dir():
            self.root.mkdir(parents=True, exist_ok=True)

    def recover(self) -> list[str]:
        return recover(self.root)

    def new_staging(self, label: str) -> str:
        return str(new_staging_dir(self.root, label))

    def vacuum(self, grace_seconds: float = STALE_STAGING_SECONDS, dry_run: bool = False) -> list[str]:
        return vacuum(self.root, grace_seconds, dry_run)

    def staged_subfolders(self, staging: str) -> set[str]:
        path = Path(staging)
        return {p.name for p in path.iterdir() if p.is_dir()} if path.is_dir() else set()

    def staged_files(self, staged: str) -> Optional[list[str]]:
        return staged_files(Path(staged))

    def publish(self, staged: str, destination: str, label: str, what: str = "", expected_rows=None) -> None:
        publish_all(self.root, [Publish(staged, destination, what or destination, expected_rows)])

    def publish_all(self, items: list[Publish], label: str) -> None:
        publish_all(self.root, items)

    def stage_file(self, local_path, uri: str, what: str) -> None:
        """Move a local file to ``uri`` in staging (its folders created)."""
        try:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(local_path), uri)
        except OSError as error:
            raise CommitError(f"{what}: staging the file failed ({errno.errorcode.get(error.errno, error.errno)}: "
                              f"{error.strerror}); nothing was replaced") from error

    def put_file(self, local_path, destination: str, label: str, what: str = "") -> None:
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(str(local_path)).metadata.num_rows
        staged = new_staging_dir(self.root, label)
        try:
            self.stage_file(local_path, str(staged / "part-00000.parquet"), what or destination)
            publish_all(self.root, [Publish(str(staged), destination, what or destination, rows)])
        finally:
            release_staging(staged)

    def discard(self, staging: str) -> None:
        release_staging(Path(staging))

    def files(self, folder: str):
        """The data files of the folder's current version, or None when it was never written. Read-only.

        The folder's pointer is resolved once: the paths are the version's own (``{dataset}/_versions/...``), valid
        while writers replace the folder, until that version has been superseded for ``RETIRED_GRACE_SECONDS``.
        """
        return current_files(Path(folder))

    def open(self, uri: str):
        return open(uri, "rb")

    def size(self, uri: str) -> int:
        return Path(uri).stat().st_size
