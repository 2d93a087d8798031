"""Write-then-rename: a file appears at its final path only once it is complete."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from taxi_platform.redaction import safe_message

TEMP_PREFIX = ".part-"


def temp_path_for(final: Path, suffix: str = "") -> Path:
    """A unique hidden temp path next to ``final`` (same folder, so ``os.replace`` is atomic)."""
    return final.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}-{final.name}{suffix}"


def remove_quietly(path: Path) -> None:
    """Delete ``path`` if it exists; never raises for a missing file."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


@contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temp path to write; on success it is renamed to ``final``, on any error it is removed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(final)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        remove_quietly(tmp)
        raise


@contextmanager
def os_errors_named(describe: str) -> Iterator[None]:
    """Re-raise an ``OSError`` of the block (disk full, cross-device rename, folder not empty, permissions...) as an
    ``OSError`` of the same errno whose message starts with ``describe`` (e.g. ``"yellow 2021-03"``) and names the
    file(s) involved. Errors whose message already starts with ``describe`` pass as they are; so do the HTTP
    client's exceptions (they are OSErrors too) and every non-OS error."""
    try:
        yield
    except OSError as e:
        if type(e).__module__.startswith(("requests", "urllib3")) or str(e).startswith(f"[Errno {e.errno}] {describe}:"):
            raise
        files = " -> ".join(str(f) for f in (e.filename, e.filename2) if f is not None)
        where = f" ({files})" if files else ""
        raise OSError(e.errno, safe_message(f"{describe}: {e.strerror or e}{where}")) from None
