"""Versioned lake folders behind one symlink each, on a local (or NFS) filesystem (no Dagster, no Spark).

A lake folder (a month ``{dataset}/month=YYYY-MM``, or an unpartitioned dataset) is a relative symlink, the
*pointer*, to one immutable *version* folder beside it::

    {dataset}/month=2021-01 -> _versions/month=2021-01/{write id}
    {dataset}/_versions/month=2021-01/{write id}/part-*.parquet, _version.json

- Plain readers (Spark partition discovery, pyarrow.dataset with hive partitioning, DuckDB
  ``read_parquet('{dataset}/*/*.parquet', hive_partitioning=true)``) follow the pointer and skip ``_versions``
  (leading underscore): each month once, as ``month=YYYY-MM``.
- A writer replaces the pointer with ``rename(2)`` of a new symlink over it (``point``): atomic on every POSIX
  filesystem, so a reader resolving the path always finds a whole version, the old or the new one.
- The platform's reader resolves the pointer ONCE (``current_files``) and hands Spark the version's own paths, which
  stay valid while the month is rewritten: a superseded version is deleted only ``grace`` seconds after it was
  superseded (``retire`` records it in ``{lake_root}/_retired/``; ``empty_retired`` deletes it later).
- A lake folder written before versions existed (a plain folder) is converted by the next write of it
  (``convert_plain_folder``): its files are hard-linked into a version (same names, same inodes) and the folder is
  exchanged with a pointer to it in one ``renameat2(RENAME_EXCHANGE)``, so a reader that listed the plain folder
  still opens the same files afterwards.

The commit protocol (locks, journal, rollback) that uses these pieces is ``local_swap``'s.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Iterator, Optional

from taxi_platform.io_managers.commits import is_data_file

VERSIONS_DIR = "_versions"
RETIRED_DIR = "_retired"
RETIRED_PREFIX = "old-"
# Temporary names, inside ``_versions`` (never beside the lake folders: DuckDB's ``*/*.parquet`` would match files
# under a hidden folder there) and hidden.
TEMP_SUFFIX = ".lake-tmp"
PARKED_SUFFIX = ".lake-parked"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}


# ---- the exchange (plain folders only) --------------------------------------------------------------------------
def _renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


_RENAMEAT2 = _renameat2()


class ExchangeUnsupported(OSError):
    """This filesystem (or kernel, or C library) cannot swap two paths atomically."""


def exchange(a: Path, b: Path) -> None:
    """Swap the two existing paths ``a`` and ``b`` in one atomic step (``renameat2(RENAME_EXCHANGE)``).

    Raises ``ExchangeUnsupported`` where the filesystem cannot, ``OSError`` for any other failure.
    """
    if _RENAMEAT2 is None:
        raise ExchangeUnsupported(errno.ENOSYS, "renameat2 is not available")
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        if code in _NO_EXCHANGE:
            raise ExchangeUnsupported(code, os.strerror(code), str(a), None, str(b))
        raise OSError(code, os.strerror(code), str(a), None, str(b))


# ---- pointers and versions --------------------------------------------------------------------------------------
def link_target(destination: Path, version_id: str) -> str:
    """The pointer's (relative) target for version ``version_id`` of ``destination``: ``_versions/{name}/{id}``."""
    return f"{VERSIONS_DIR}/{Path(destination).name}/{version_id}"


def version_folder(destination: Path, target: str) -> Path:
    """The version folder a pointer target names (``target`` as returned by ``link_target``)."""
    return Path(destination).parent / target


def pointer_of(version: Path) -> Path:
    """The lake folder (pointer) a version folder ``{parent}/_versions/{name}/{id}`` belongs to."""
    version = Path(version)
    return version.parent.parent.parent / version.parent.name


def current_target(destination: Path) -> Optional[str]:
    """The pointer's target (``_versions/{name}/{id}``), None when nothing is there.

    Raises ``IsADirectoryError`` when ``destination`` is a plain folder (written before versions existed).
    """
    try:
        return os.readlink(destination)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.EINVAL:  # not a symlink
            raise IsADirectoryError(errno.EISDIR, "a plain folder, not a version pointer", str(destination)) from None
        raise


def is_plain_folder(destination: Path) -> bool:
    """True for a lake folder written before versions existed (a real folder, not a pointer)."""
    return not os.path.islink(destination) and os.path.isdir(destination)


def point(destination: Path, target: Optional[str]) -> None:
    """Make ``destination`` a symlink to ``target`` in one ``rename(2)`` (atomic); None removes the pointer.

    ``destination`` must not be a plain folder (``convert_plain_folder`` first). Raises ``OSError``.
    """
    destination = Path(destination)
    if target is None:
        try:
            os.unlink(destination)
        except FileNotFoundError:
            pass
        return
    temp = _temporary(destination, TEMP_SUFFIX)
    os.symlink(target, temp)
    try:
        os.replace(temp, destination)
    except BaseException:
        os.unlink(temp)
        raise


def current_files(folder: Path) -> Optional[list[str]]:
    """Absolute paths of the data files of the folder's current version, or None when it was never written.

    The pointer is resolved once: the paths name the version's own files, valid until that version has been
    superseded for the grace period, whatever writers do meanwhile. A plain folder lists as itself.
    """
    return list_data_files(Path(os.path.realpath(folder)))


def list_data_files(folder: Path) -> Optional[list[str]]:
    """Data files of ``folder`` (as Spark/pyarrow/DuckDB see them), sorted by name; None when it does not exist."""
    try:
        return [str(folder / e.name) for e in sorted(os.scandir(folder), key=lambda e: e.name)
                if e.is_file() and is_data_file(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        return None


def convert_plain_folder(destination: Path, version_id: str) -> str:
    """Turn the plain folder ``destination`` into a pointer to version ``legacy-{version_id}`` with the same files.

    The files are hard-linked (copied where links are refused) into the version, then the folder and the pointer
    are exchanged atomically: a reader finds the folder with the same file names and contents throughout. Without
    ``RENAME_EXCHANGE`` two renames are used (a reader may find the folder missing for that instant). Returns the
    pointer's target. Raises ``OSError``; the caller holds the folder's lock.
    """
    destination = Path(destination)
    target = link_target(destination, f"legacy-{version_id}")
    version = version_folder(destination, target)
    version.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(destination, version, copy_function=_link_or_copy, symlinks=True)
    temp = _temporary(destination, TEMP_SUFFIX)
    os.symlink(target, temp)
    try:
        exchange(temp, destination)  # the plain folder is now at `temp`
        parked = temp
    except ExchangeUnsupported:
        parked = _temporary(destination, PARKED_SUFFIX)
        os.rename(destination, parked)
        try:
            os.rename(temp, destination)
        except BaseException:
            os.rename(parked, destination)
            raise
    except BaseException:
        os.unlink(temp)
        raise
    shutil.rmtree(parked, ignore_errors=True)  # only links to the version's files
    return target


def restore_parked(destination: Path) -> bool:
    """Put back a plain folder that a conversion killed between its two fallback renames left parked; True if so."""
    destination = Path(destination)
    if os.path.lexists(destination):
        return False
    prefix = f".{destination.name}."
    try:
        parked = sorted(e.path for e in os.scandir(destination.parent / VERSIONS_DIR)
                        if e.name.startswith(prefix) and e.name.endswith(PARKED_SUFFIX))
    except FileNotFoundError:
        return False
    if not parked:
        return False
    os.rename(parked[-1], destination)
    return True


def _temporary(destination: Path, suffix: str) -> Path:
    """A fresh hidden name in the ``_versions`` folder beside ``destination`` (created if needed)."""
    folder = destination.parent / VERSIONS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f".{destination.name}.{uuid.uuid4().hex[:12]}{suffix}"


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# ---- retirement -------------------------------------------------------------------------------------------------
def retire(lake_root: Path, version: Path) -> Path:
    """Record that ``version`` was superseded now: ``{lake_root}/_retired/old-{ns}-{id}``, a relative symlink to it.

    ``empty_retired`` deletes the version once the record is older than its grace period. Returns the record.
    """
    folder = Path(lake_root) / RETIRED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / f"{RETIRED_PREFIX}{time.time_ns()}-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(version, folder), record)
    return record


def retired_versions(lake_root: Path) -> set[str]:
    """The version folders (absolute, normalised) that a retirement record names."""
    folder = Path(lake_root) / RETIRED_DIR
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return set()
    return {os.path.normpath(folder / os.readlink(e.path)) for e in entries if e.is_symlink()}


def empty_retired(lake_root: Path, grace_seconds: float, dry_run: bool = False) -> list[str]:
    """Delete the versions retired more than ``grace_seconds`` ago; returns their paths (with ``dry_run``: lists).

    A record whose version is current again (never expected: defence in depth) is dropped without deleting it.
    Folders moved to ``_retired`` whole by the earlier protocol are deleted by the same age rule.
    """
    folder = Path(lake_root) / RETIRED_DIR
    cutoff = time.time_ns() - int(grace_seconds * 1e9)
    gone: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return gone
    for entry in entries:
        if not entry.name.startswith(RETIRED_PREFIX):
            continue
        try:
            retired_at = int(entry.name[len(RETIRED_PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        if retired_at >= cutoff:
            continue
        if not entry.is_symlink():  # a whole folder (the earlier protocol)
            gone.append(entry.path)
            if not dry_run:
                shutil.rmtree(entry.path, ignore_errors=True)
            continue
        version = Path(os.path.normpath(folder / os.readlink(entry.path)))
        if is_current(version):
            if not dry_run:
                os.unlink(entry.path)
            continue
        gone.append(str(version))
        if not dry_run:
            shutil.rmtree(version, ignore_errors=True)
            os.unlink(entry.path)
    return gone


def is_current(version: Path) -> bool:
    """True when the version's lake folder points at it now."""
    try:
        return os.readlink(pointer_of(version)) == f"{VERSIONS_DIR}/{version.parent.name}/{version.name}"
    except OSError:
        return False


def versions_folders(lake_root: Path) -> Iterator[Path]:
    """Every ``_versions`` folder of the lake (one per folder holding pointers), skipping the lake's own ``_*``."""
    for folder, dirs, _ in os.walk(lake_root):  # pointers are symlinks: not followed
        if VERSIONS_DIR in dirs and Path(folder) != Path(lake_root):
            yield Path(folder) / VERSIONS_DIR
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]


def plain_folders(lake_root: Path) -> list[Path]:
    """Lake folders still written the earlier way: real folders (not pointers) that directly hold data files,
    outside the lake's own ``_*``/``.*`` folders. ``local_swap.vacuum`` converts them."""
    found = []
    for folder, dirs, files in os.walk(lake_root):  # pointers are symlinks: not followed
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        if Path(folder) != Path(lake_root) and any(is_data_file(f) for f in files):
            found.append(Path(folder))
            dirs[:] = []
    return found


def unrecorded_versions(lake_root: Path) -> list[Path]:
    """Version folders neither current nor recorded as retired: left by a run killed between its commit and its
    retirement records, or by a conversion killed midway. ``local_swap.vacuum`` records them (under the lock)."""
    recorded = retired_versions(lake_root)
    found = []
    for versions in versions_folders(lake_root):
        for named in sorted(versions.iterdir()):
            if named.name.startswith(".") or named.is_symlink() or not named.is_dir():
                continue  # a temporary (``stale_temporaries``)
            for version in sorted(named.iterdir()):
                if str(version) not in recorded and not is_current(version):
                    found.append(version)
    return found


def stale_temporaries(lake_root: Path, older_than: float) -> list[Path]:
    """Hidden temporary pointers and converted plain folders a killed write left in ``_versions`` folders."""
    cutoff = time.time() - older_than
    found = []
    for versions in versions_folders(lake_root):
        for entry in os.scandir(versions):
            if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                try:
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        found.append(Path(entry.path))
                except FileNotFoundError:
                    pass
    return found
