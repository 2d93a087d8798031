"""Where raw months come from: the TLC's parquet, the course's CSV backup, local files, or generated samples.

Pyarrow only (no Spark). The Dagster face of this package is ``taxi_platform.resources.sources.TaxiSourceResource``.
"""

from taxi_platform.sources.base import (
    CorruptFileError,
    DuplicateFilesError,
    EmptyMonthError,
    FetchedMonth,
    InconsistentFilesError,
    MonthNotFoundError,
    PublishedTypeError,
    SourceError,
    TransientSourceError,
    WrongMonthError,
    WrongTaxiTypeError,
)
from taxi_platform.sources.download import download, redact_url

__all__ = [
    "CorruptFileError",
    "DuplicateFilesError",
    "EmptyMonthError",
    "FetchedMonth",
    "InconsistentFilesError",
    "MonthNotFoundError",
    "PublishedTypeError",
    "SourceError",
    "TransientSourceError",
    "WrongMonthError",
    "WrongTaxiTypeError",
    "download",
    "redact_url",
]
