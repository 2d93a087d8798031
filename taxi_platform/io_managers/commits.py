"""What a store publishes in one commit, and the checks every store makes before publishing (no Dagster, no Spark).

A write stages its new folders first (Spark's output, or a raw file), then hands the store a list of ``Publish``
items: each names the staged folder, the lake folder it replaces, and how many rows the writer produced for it.
The store publishes them together or not at all (see ``local_swap`` and ``gcs_store`` for how, per store), and only
after checking each staged folder against that count (parquet footers, no data read): a staged folder missing or
holding fewer rows than the writer wrote (e.g. removed or truncated under the write) fails the commit, naming the
dataset and month, before anything is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from taxi_platform.io_managers.errors import CommitError


@dataclass(frozen=True)
class Publish:
    """One folder of a commit.

    ``staged``: the staged folder (local path or gs:// URI); ``destination``: the lake folder it replaces;
    ``what``: "dataset month" for messages (e.g. "clean/green_trips 2021-01"); ``expected_rows``: the rows the
    writer produced for it (None when the writer could not count them: then only the folder's presence is checked);
    ``unit``: items with the same non-empty unit (e.g. the month, for a step's outputs clean + quarantine) are one
    commit unit on every store; the local store commits the whole list as one unit anyway (see ``gcs_store``).
    """

    staged: str
    destination: str
    what: str
    expected_rows: Optional[int] = None
    unit: str = ""


def is_data_file(name: str) -> bool:
    """A parquet data file as Spark, pyarrow and DuckDB see it: ``*.parquet`` not starting with ``_`` or ``.``."""
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return base.endswith(".parquet") and not base.startswith(("_", "."))


def parquet_file(source):
    """pyarrow's ``ParquetFile`` for a path or open file; pyarrow is imported here, on first use, not when the
    definitions load (pyarrow and numpy are ~0.4 s of every process that loads them: webserver, daemon, run workers)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(source)


def footer_rows(files: Iterable[str], open_file: Callable) -> int:
    """Sum of the row counts in the parquet footers of ``files`` (opened with ``open_file(uri)``)."""
    total = 0
    for uri in files:
        with open_file(uri) as handle:
            total += parquet_file(handle).metadata.num_rows
    return total


def verify_staged(item: Publish, files: Optional[list[str]], open_file: Callable) -> int:
    """Rows in the staged files of ``item``; raises ``CommitError`` when they are missing or fewer than expected."""
    if files is None:
        if item.expected_rows:
            raise CommitError(
                f"{item.what}: the staged folder {item.staged} is gone but the write produced {item.expected_rows} "
                "rows for it (removed under the write?); nothing was replaced"
            )
        raise CommitError(f"{item.what}: the staged folder {item.staged} is missing; nothing was replaced")
    try:
        rows = footer_rows(files, open_file)
    except FileNotFoundError as error:
        raise CommitError(f"{item.what}: a staged file vanished under the write ({error}); nothing was replaced") from None
    if item.expected_rows is not None and rows != item.expected_rows:
        raise CommitError(
            f"{item.what}: the staged folder {item.staged} holds {rows} rows but the write produced "
            f"{item.expected_rows}; nothing was replaced"
        )
    return rows
