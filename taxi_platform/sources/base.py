"""What a source hands back (``FetchedMonth``) and the errors it raises.

Every error message names the taxi type and month (or whatever the caller described), the URL or path involved
(with credentials stripped), and says what is wrong, so a failed Dagster run explains itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from taxi_platform.redaction import safe_message


@dataclass(frozen=True)
class FetchedMonth:
    """One raw month, fetched to a local parquet file.

    - ``path``: ONE local parquet file holding the month as published (TLC parquet bytes as-is; a CSV month as the
      text it holds, in the course's column names: ``sources/csv_backup.py``).
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
    """A month could not be fetched. The message names what was fetched, from where, and what is wrong.

    Every message goes through ``taxi_platform.redaction.safe_message`` here, whoever builds it: URLs lose userinfo
    and query strings, secret parameters and registered secrets are removed (also inside a wrapped third-party
    exception's text), and it is capped at ``MAX_MESSAGE_CHARS`` (the head, then how many more characters there were).
    """

    def __init__(self, message: object = "") -> None:
        super().__init__(safe_message(message))


class TransientSourceError(SourceError):
    """Every attempt failed for reasons that may pass (connection errors, timeouts, HTTP 408/429/5xx): a later try
    may succeed. The raw assets' Dagster retry policy re-runs the step for this error only (see defs/revenue/raw.py)."""


class MonthNotFoundError(SourceError):
    """The source has no such month (HTTP 404/410, 403 as S3 and CloudFront answer for a missing key, or a missing
    local file or folder)."""


class DownloadLimitError(SourceError):
    """A download went past its size cap (``max_bytes``, counted after any Content-Encoding is decoded). Not retried."""


class DownloadDeadlineError(TransientSourceError):
    """A download (all its attempts and waits) did not finish within its total deadline (``deadline_seconds``)."""


class RedirectRefusedError(SourceError):
    """The source redirected to a host that is neither its own nor in the allow-list, or off HTTP(S)/TLS."""


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
