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


class PublishedMonths(dict):
    """What the lake hands a step reading raw months: ``{month: DataFrame of that month as published}``.

    ``groups``: ``[(months, DataFrame)]``, months that share one published parquet schema, read in ONE Spark read;
    the DataFrame holds those months' rows with a ``month`` column (from the folder names), and each month's entry in
    the mapping is its slice. A consumer that treats such months alike (``transforms.conform.conform_months``) can
    transform the group's one scan instead of a union of per-month slices: the same rows, one generated projection
    instead of one per month. Months not in a group were read on their own.
    """

    def __init__(self, frames: dict, groups: list | None = None):
        super().__init__(frames)
        self.groups: list = list(groups or [])
