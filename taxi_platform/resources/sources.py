"""The ``sources`` resource: one method, ``fetch_month``, whatever the configured source is."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from taxi_platform.partitions import check_month_in_range
from taxi_platform.sources.base import FetchedMonth, MonthNotFoundError, SourceError
from taxi_platform.redaction import redact_url
from taxi_platform.sources.download import DEFAULT_DEADLINE_SECONDS, DEFAULT_MAX_BYTES, local_path_of_file_url, probe
from taxi_platform.sources.fetch import (
    check_taxi_type_name,
    fetch_csv_url,
    fetch_local,
    fetch_parquet_url,
    fetch_sample,
    format_template,
)
from taxi_platform.sources.local_files import list_month_folder
from taxi_platform.sources.versions import file_version, http_version, sample_version

SourceKind = Literal["sample", "tlc", "backup", "local"]

# Where the default templates' hosts redirect to: GitHub release downloads go to its asset hosts.
DEFAULT_REDIRECT_HOSTS = ["objects.githubusercontent.com", "release-assets.githubusercontent.com"]


class TaxiSourceResource(ConfigurableResource):
    """Fetches one raw month of one taxi type to a local parquet file.

    - ``sample``: generated trips (``taxi_platform.sample.generator``), no network.
    - ``tlc``: the TLC's monthly parquet over HTTP(S) (``file://`` accepted), bytes kept as published.
    - ``backup``: the course's gzip CSV backup, its header matched to the course schema, its text kept (clean parses it).
    - ``local``: a local file, or a folder of ``*.parquet`` parts or ``*.csv``/``*.csv.gz`` files.

    Templates use ``{taxi_type}``, ``{year}``, ``{month:02d}``. Every fetched file is checked (parquet footer,
    taxi type, rows > 0) before it appears at its final path. Errors are ``taxi_platform.sources.SourceError`` subclasses.
    """

    kind: SourceKind = Field(default="sample", description="Where months come from: sample, tlc, backup or local.")
    tlc_url_template: str = Field(
        default="https://d37ci6vzurychx.cloudfront.net/trip-data/{taxi_type}_tripdata_{year}-{month:02d}.parquet",
        description="kind=tlc: URL of a month's parquet (http, https or file).",
    )
    backup_url_template: str = Field(
        default="https://github.com/DataTalksClub/nyc-tlc-data/releases/download/{taxi_type}/{taxi_type}_tripdata_{year}-{month:02d}.csv.gz",
        description="kind=backup: URL of a month's gzip CSV (http, https or file).",
    )
    local_path_template: str = Field(
        default="data/raw/{taxi_type}/{year}/{month:02d}",
        description="kind=local: a month folder (parquet parts or CSV files) or a file; relative to the working directory.",
    )
    sample_rows_per_month: int = Field(
        default=50_000,
        description="kind=sample: YELLOW rows generated per month; with sample_volumes=realistic the other types get "
        "their real share of it (e.g. 2021-01: green 5.6 %, fhv 84 %, fhvhv 8.7x; taxi_platform/sample/volumes.py).",
    )
    sample_volumes: Literal["realistic", "equal"] = Field(
        default="realistic",
        description="kind=sample: realistic (each type scaled to yellow by the real monthly ratio of its era) or "
        "equal (sample_rows_per_month rows for every type).",
    )
    sample_seed: int = Field(default=42, description="kind=sample: random seed (same seed, same data).")
    max_attempts: int = Field(default=4, description="Attempts per download (transient errors: connection, timeout, 408, 429, 5xx).")
    backoff_seconds: float = Field(default=1.0, description="Backoff before retry n (from 0): backoff_seconds * 2**n, plus jitter.")
    timeout_seconds: float = Field(default=60.0, description="Connect and read timeout of each HTTP request.")
    deadline_seconds: float = Field(
        default=DEFAULT_DEADLINE_SECONDS,
        description="Total time of one download, all attempts and waits included (a slow server is cut off then).",
    )
    max_bytes: int = Field(
        default=DEFAULT_MAX_BYTES,
        description="Largest file a download may write, in bytes after any Content-Encoding is decoded (4 GiB).",
    )
    redirect_hosts: list[str] = Field(
        default_factory=lambda: list(DEFAULT_REDIRECT_HOSTS),
        description="Hosts besides the template's own that redirects may lead to (exact names, or *.domain); any "
        "other redirect is refused before it is followed.",
    )

    def source_uri(self, taxi_type: str, month: str) -> str:
        """Where ``fetch_month`` would read this month from (URL with credentials stripped, path, or sample URI)."""
        check_taxi_type_name(taxi_type)
        if self.kind == "sample":
            format_template("{taxi_type}", taxi_type, month)  # validates the month key
            return f"sample://{taxi_type}/{month}?rows={self.sample_rows(taxi_type, month)}&seed={self.sample_seed}"
        if self.kind == "tlc":
            return redact_url(format_template(self.tlc_url_template, taxi_type, month, setting="tlc_url_template"))
        if self.kind == "backup":
            return redact_url(format_template(self.backup_url_template, taxi_type, month, setting="backup_url_template"))
        return str(self._local_path(taxi_type, month))

    def sample_rows(self, taxi_type: str, month: str) -> int:
        """kind=sample: the rows the sample publishes for ``taxi_type`` in ``month`` (``sample_volumes``)."""
        if self.sample_volumes == "equal":
            return self.sample_rows_per_month
        from taxi_platform.sample.volumes import sample_rows  # the sample package imports pyarrow: not at load

        return sample_rows(taxi_type, month, self.sample_rows_per_month)

    def fetch_month(self, taxi_type: str, month: str, workdir: Path) -> FetchedMonth:
        """Fetch ``taxi_type`` for ``month`` ("YYYY-MM") to ONE validated parquet file under ``workdir``.

        Raises ``ValueError`` for a bad taxi type, month key (or a month outside the partitions: the message names the
        valid range) or template, and a ``SourceError`` subclass
        (``MonthNotFoundError``, ``CorruptFileError``, ``EmptyMonthError``, ``WrongTaxiTypeError``) when the source fails.
        """
        check_taxi_type_name(taxi_type)
        check_month_in_range(month)  # a month outside the partitions: the error names the valid range
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        if self.max_bytes < 1 or not self.deadline_seconds > 0:
            raise ValueError(f"max_bytes and deadline_seconds must be > 0, got {self.max_bytes}, {self.deadline_seconds}")
        retry = dict(
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            timeout_seconds=self.timeout_seconds,
            deadline_seconds=self.deadline_seconds,
            max_bytes=self.max_bytes,
            redirect_hosts=tuple(self.redirect_hosts),
        )
        if self.kind == "sample":
            rows = self.sample_rows(taxi_type, month)
            return fetch_sample(taxi_type, month, workdir, rows=rows, seed=self.sample_seed)
        if self.kind == "tlc":
            url = format_template(self.tlc_url_template, taxi_type, month, setting="tlc_url_template")
            return fetch_parquet_url(taxi_type, month, workdir, url=url, **retry)
        if self.kind == "backup":
            url = format_template(self.backup_url_template, taxi_type, month, setting="backup_url_template")
            return fetch_csv_url(taxi_type, month, workdir, url=url, **retry)
        if self.kind == "local":
            return fetch_local(taxi_type, month, workdir, path=self._local_path(taxi_type, month))
        raise ValueError(f"unknown source kind {self.kind!r}")  # unreachable: pydantic validates kind

    def exists(self, taxi_type: str, month: str) -> bool:
        """Whether the source has published ``taxi_type`` for ``month`` yet, without fetching it (the newest-month
        sensor asks this on every tick).

        - ``sample``: always True (the generator makes any month).
        - ``local``: the file exists, or the month folder holds parquet/CSV files.
        - ``tlc``/``backup``: one HTTP HEAD (a GET with the body unread when the host refuses HEAD) with
          ``timeout_seconds`` (at most twice that in all), no retries, redirects as for downloads; 404, 410 and
          403 (what S3 and CloudFront answer for a file not there) mean "not published yet"; ``file://``
          templates are a path check.

        Raises ``TransientSourceError`` when a remote source cannot tell right now (connection error, timeout,
        408, 429, 5xx), ``RedirectRefusedError`` for a redirect off the allowed hosts, and ``SourceError`` for any
        other unexpected answer. Messages are redacted (no credentials, query strings or secrets).
        """
        check_taxi_type_name(taxi_type)
        if self.kind == "sample":
            format_template("{taxi_type}", taxi_type, month)  # validates the month key
            return True
        if self.kind == "local":
            path = self._local_path(taxi_type, month)
            if not path.is_dir():
                return path.is_file()
            try:
                list_month_folder(path, describe=f"{taxi_type} {month}")
            except MonthNotFoundError:
                return False
            except SourceError:
                return True  # there, but unusable: the run says why
            return True
        template = self.tlc_url_template if self.kind == "tlc" else self.backup_url_template
        url = format_template(template, taxi_type, month, setting=f"{self.kind}_url_template")
        return probe(url, timeout_seconds=self.timeout_seconds, redirect_hosts=tuple(self.redirect_hosts),
                     describe=f"{taxi_type} {month}", item="month")

    def version(self, taxi_type: str, month: str) -> str | None:
        """The published month's version (``None``: not published), without fetching it: ETag, else Last-Modified +
        Content-Length for ``tlc``/``backup``; size, mtime and an edge hash of the files for ``local``; rows and seed
        for ``sample`` (``taxi_platform/sources/versions.py``). It changes when the source re-publishes the month.

        Raises ``TransientSourceError`` when a remote source cannot tell right now, ``SourceError`` otherwise.
        """
        check_taxi_type_name(taxi_type)
        if self.kind == "sample":
            format_template("{taxi_type}", taxi_type, month)  # validates the month key
            return sample_version(self.sample_rows(taxi_type, month), self.sample_seed)
        if self.kind == "local":
            return file_version(self._local_path(taxi_type, month))
        template = self.tlc_url_template if self.kind == "tlc" else self.backup_url_template
        url = format_template(template, taxi_type, month, setting=f"{self.kind}_url_template")
        return http_version(url, timeout_seconds=self.timeout_seconds, redirect_hosts=tuple(self.redirect_hosts),
                            describe=f"{taxi_type} {month}")

    def describe(self) -> dict:
        """A safe-to-log summary of the configuration (templates with credentials stripped)."""
        summary: dict = {"kind": self.kind}
        if self.kind == "sample":
            summary.update(rows_per_month=self.sample_rows_per_month, volumes=self.sample_volumes, seed=self.sample_seed)
        elif self.kind in ("tlc", "backup"):
            template = self.tlc_url_template if self.kind == "tlc" else self.backup_url_template
            summary.update(
                template=redact_url(template),
                max_attempts=self.max_attempts,
                backoff_seconds=self.backoff_seconds,
                timeout_seconds=self.timeout_seconds,
                deadline_seconds=self.deadline_seconds,
                max_bytes=self.max_bytes,
                redirect_hosts=list(self.redirect_hosts),
            )
        else:
            summary.update(template=self.local_path_template)
        return summary

    def _local_path(self, taxi_type: str, month: str) -> Path:
        text = format_template(self.local_path_template, taxi_type, month, setting="local_path_template")
        path = local_path_of_file_url(text) if text.lower().startswith("file://") else Path(text)
        return path.expanduser().absolute()
