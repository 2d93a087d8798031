"""What a source hands back (``FetchedMonth``) and the errors it raises.

Every error message names the taxi type and month (or whatever the caller described), the URL or path involved
(with credentials stripped), and says what is wrong, so a failed Dagster run explains itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FetchedMonth:
    """One raw month, fetched to a local parquet file.

    - ``path``: ONE local parquet file holding the month as published (TLC parquet bytes as-is; CSV parsed with the
      course's explicit schema).
    - ``source_uri``: where it came from (URL with credentials stripped, local path, or ``sample://...``).
    - ``num_rows`` / ``num_bytes``: rows in, and size on disk of, the parquet file at ``path``.
    """

    taxi_type: str
    month: str
    path: Path
    source_uri: str
    num_rows: int
    num_bytes: int


class SourceError(Exception):
    """A month could not be fetched. The message names what was fetched, from where, and what is wrong."""


class TransientSourceError(SourceError):
    """Every attempt failed for reasons that may pass (connection errors, timeouts, HTTP 408/429/5xx): a later try
    may succeed. The raw assets' Dagster retry policy re-runs the step for this error only (see assets/raw.py)."""


class MonthNotFoundError(SourceError):
    """The source has no such month (HTTP 404/410, or a missing local file or folder)."""


class CorruptFileError(SourceError):
    """The file arrived but is unusable: truncated, not parquet, bad footer, unreadable CSV, wrong header."""


class PublishedTypeError(SourceError):
    """A column is published in a type with no canonical conversion to its contract type (``taxi_platform.
    conversions``), e.g. zoned timestamps where the TLC publishes New York wall clocks."""


class DuplicateFilesError(SourceError):
    """A month folder holds byte-identical files (the same month twice, e.g. ``x.parquet`` and ``x (1).parquet``)."""


class EmptyMonthError(SourceError):
    """The file is well-formed but holds 0 rows."""


class WrongTaxiTypeError(SourceError):
    """The file's columns are another taxi type's (e.g. a green file served for yellow)."""


class WrongMonthError(SourceError):
    """(Almost) none of the file's pickups are in the month it was fetched for: it is another month's file."""


class InconsistentFilesError(SourceError):
    """The files of one local month folder do not share a schema."""
