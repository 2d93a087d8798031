"""Where raw months come from: the TLC's parquet, the course's CSV backup, local files, or generated samples.

Pyarrow only (no Spark). The Dagster face of this package is ``taxi_platform.resources.sources.TaxiSourceResource``.
"""

from taxi_platform.sources.base import (
    CorruptFileError,
    DownloadDeadlineError,
    DownloadLimitError,
    DuplicateFilesError,
    EmptyMonthError,
    FetchedMonth,
    InconsistentFilesError,
    MonthNotFoundError,
    PublishedTypeError,
    RedirectRefusedError,
    SourceError,
    TransientSourceError,
    WrongMonthError,
    WrongTaxiTypeError,
)
from taxi_platform.redaction import redact_text, redact_url
from taxi_platform.sources.download import download, probe

__all__ = [
    "CorruptFileError",
    "DownloadDeadlineError",
    "DownloadLimitError",
    "DuplicateFilesError",
    "EmptyMonthError",
    "FetchedMonth",
    "InconsistentFilesError",
    "MonthNotFoundError",
    "PublishedTypeError",
    "RedirectRefusedError",
    "SourceError",
    "TransientSourceError",
    "WrongMonthError",
    "WrongTaxiTypeError",
    "download",
    "probe",
    "redact_text",
    "redact_url",
]
