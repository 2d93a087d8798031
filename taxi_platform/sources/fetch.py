"""Fetch one raw month from each kind of source into ONE validated parquet file (no Dagster here).

The final file is ``{workdir}/{taxi_type}_tripdata_{YYYY-MM}.parquet``; it appears only once complete and valid.
``taxi_platform.resources.sources.TaxiSourceResource`` picks one of these from its configuration.
"""

from __future__ import annotations

from pathlib import Path

from taxi_platform.partitions import parse_month
from taxi_platform.schemas import COURSE_SCHEMAS
from taxi_platform.sources.atomic import atomic_output, os_errors_named, remove_quietly, temp_path_for
from taxi_platform.sources.base import FetchedMonth
from taxi_platform.sources.csv_backup import csv_to_parquet
from taxi_platform.redaction import redact_text, redact_url, redacting_logger
from taxi_platform.sources.download import DEFAULT_DEADLINE_SECONDS, DEFAULT_MAX_BYTES, download
from taxi_platform.sources.local_files import fetch_local_path
from taxi_platform.sources.validate import check_month, check_parquet

logger = redacting_logger(__name__)  # every line through taxi_platform.redaction

TEMPLATE_PLACEHOLDERS = "{taxi_type}, {year}, {month:02d}"


def check_taxi_type_name(taxi_type: str) -> None:
    """Raise ``ValueError`` for a taxi type the platform does not know."""
    if taxi_type not in COURSE_SCHEMAS:
        raise ValueError(f"unknown taxi type {taxi_type!r}; expected one of {sorted(COURSE_SCHEMAS)}")


def format_template(template: str, taxi_type: str, month: str, *, setting: str = "template") -> str:
    """Fill ``{taxi_type}``, ``{year}``, ``{month:02d}`` of a URL/path template for one month ("YYYY-MM")."""
    year, month_number = parse_month(month)
    try:
        return template.format(taxi_type=taxi_type, year=year, month=month_number)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(
            f"{setting} {redact_url(template)!r} cannot be filled ({type(e).__name__}: {redact_text(e)}); "
            f"it may only use the placeholders {TEMPLATE_PLACEHOLDERS}"
        ) from None


def month_file(workdir: Path, taxi_type: str, month: str) -> Path:
    """Where a fetched month lands: ``{workdir}/{taxi_type}_tripdata_{YYYY-MM}.parquet``."""
    return Path(workdir) / f"{taxi_type}_tripdata_{month}.parquet"


def _describe(taxi_type: str, month: str) -> str:
    check_taxi_type_name(taxi_type)
    parse_month(month)
    return f"{taxi_type} {month}"


def _fetched(taxi_type: str, month: str, path: Path, source_uri: str, rows: int) -> FetchedMonth:
    """The fetched month, once its pickups are checked to be of ``month`` (the file is removed when they are not)."""
    try:
        check_month(path, taxi_type, month, describe=f"{taxi_type} {month}", where=source_uri)
    except BaseException:
        remove_quietly(path)
        raise
    fetched = FetchedMonth(
        taxi_type=taxi_type,
        month=month,
        path=path,
        source_uri=source_uri,
        num_rows=rows,
        num_bytes=path.stat().st_size,
    )
    logger.info("%s %s: %d rows, %d bytes from %s at %s", taxi_type, month, rows, fetched.num_bytes, source_uri, path)
    return fetched


def _naming_os_errors(fetch):
    """Decorator: an OS error of a fetch (writing the month's file) names the taxi type and month (``os_errors_named``)."""
    import functools

    @functools.wraps(fetch)
    def wrapper(taxi_type: str, month: str, *args, **kwargs):
        with os_errors_named(f"{taxi_type} {month}"):
            return fetch(taxi_type, month, *args, **kwargs)

    return wrapper


@_naming_os_errors
def fetch_parquet_url(
    taxi_type: str,
    month: str,
    workdir: Path,
    *,
    url: str,
    max_attempts: int,
    backoff_seconds: float,
    timeout_seconds: float,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    redirect_hosts: tuple[str, ...] = (),
) -> FetchedMonth:
    """The TLC's monthly parquet (or any parquet URL, ``file://`` too): downloaded, validated, bytes kept as-is."""
    describe = _describe(taxi_type, month)
    final = month_file(workdir, taxi_type, month)
    safe = redact_url(url)
    with atomic_output(final) as tmp:
        download(
            url,
            tmp,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
            timeout_seconds=timeout_seconds,
            deadline_seconds=deadline_seconds,
            max_bytes=max_bytes,
            redirect_hosts=redirect_hosts,
            describe=describe,
            item="month",
        )
        rows = check_parquet(tmp, taxi_type, describe=describe, where=safe)
    return _fetched(taxi_type, month, final, safe, rows)


@_naming_os_errors
def fetch_csv_url(
    taxi_type: str,
    month: str,
    workdir: Path,
    *,
    url: str,
    max_attempts: int,
    backoff_seconds: float,
    timeout_seconds: float,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    redirect_hosts: tuple[str, ...] = (),
) -> FetchedMonth:
    """The course's (gzip) CSV backup: downloaded, its header matched to the course schema, its text written as parquet
    (``csv_backup.csv_to_parquet``; clean converts the text)."""
    describe = _describe(taxi_type, month)
    final = month_file(workdir, taxi_type, month)
    final.parent.mkdir(parents=True, exist_ok=True)
    safe = redact_url(url)
    downloaded = temp_path_for(final, ".csv.gz")
    try:
        download(
            url,
            downloaded,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
            timeout_seconds=timeout_seconds,
            deadline_seconds=deadline_seconds,
            max_bytes=max_bytes,
            redirect_hosts=redirect_hosts,
            describe=describe,
            item="month",
        )
        rows = csv_to_parquet([downloaded], final, taxi_type, describe=describe, wheres=[safe])
    finally:
        remove_quietly(downloaded)
    return _fetched(taxi_type, month, final, safe, rows)


@_naming_os_errors
def fetch_local(taxi_type: str, month: str, workdir: Path, *, path: Path) -> FetchedMonth:
    """A local file, or a folder of parquet parts / CSV files, made into one validated parquet file in ``workdir``."""
    describe = _describe(taxi_type, month)
    final = month_file(workdir, taxi_type, month)
    source = Path(path).expanduser().absolute()
    rows = fetch_local_path(source, final, taxi_type, describe=describe)
    return _fetched(taxi_type, month, final, str(source), rows)


@_naming_os_errors
def fetch_sample(taxi_type: str, month: str, workdir: Path, *, rows: int, seed: int) -> FetchedMonth:
    """A generated month (``taxi_platform.sample.generator.write_month``), validated like a downloaded one."""
    from taxi_platform.sample.generator import write_month

    describe = _describe(taxi_type, month)
    final = month_file(workdir, taxi_type, month)
    uri = f"sample://{taxi_type}/{month}?rows={rows}&seed={seed}"
    with atomic_output(final) as tmp:
        write_month(tmp, taxi_type, month, rows, seed)
        num_rows = check_parquet(tmp, taxi_type, describe=describe, where=uri)
    return _fetched(taxi_type, month, final, uri, num_rows)
