"""Write-then-rename: a file appears at its final path only once it is complete."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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
