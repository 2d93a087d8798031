"""The raw assets' output: one file per month exactly as published, to be stored in the lake unchanged."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass
class MonthFiles:
    """Parquet files by month key ("YYYY-MM"), on local disk; the lake IO manager moves them into place.

    ``workdir`` (if set) is a temporary folder holding the files; it is deleted once they are stored.
    """

    files: dict[str, Path]
    workdir: Path | None = None

    def cleanup(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
