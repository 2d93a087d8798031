"""Robust, bounded downloads: streamed to a temp file, length-checked, retried with backoff on transient errors.

``download`` is shared by everything that fetches a file over HTTP(S) (raw months, the CSV backup, the zone lookup).
It also accepts ``file://`` URLs (copied locally, no retries), which is handy for users with a local mirror and for tests.

Bounds (both enforced while streaming, both settings of the ``sources`` resource):
- ``deadline_seconds`` (default 1800 s): the whole download, every attempt and every wait between attempts. A watchdog
  aborts the connection at the deadline, so a server trickling bytes cannot hold a run longer (``timeout_seconds`` is
  only the limit of one connect or read). Past it: ``DownloadDeadlineError`` (a ``TransientSourceError``).
- ``max_bytes`` (default 4 GiB; the largest TLC files, fhvhv parquet, are about 0.5 GB): bytes written to disk,
  counted AFTER any Content-Encoding (gzip, deflate, br) is decoded, so a small compressed body cannot inflate past it.
  A Content-Length above it is refused before the body is read. Past it: ``DownloadLimitError``, not retried.

Redirects are followed by hand under ``http_session.RedirectPolicy``: to the source's own host or one of
``redirect_hosts`` only, never from HTTPS down to HTTP; anything else is a ``RedirectRefusedError`` naming both
hosts, raised before the target is contacted.

Transient (retried): connection errors, timeouts, a body cut short (truncated transfer), HTTP 408, 429 and 5xx.
Not retried: 404/410 and 403 (``MonthNotFoundError``: S3 and CloudFront answer 403 for a key that does not exist),
any other 4xx (``SourceError``), unsupported schemes, refused or too many redirects, the size cap.
An OS error while writing (disk full, ...) is re-raised as an ``OSError`` of the same errno naming what was fetched.

Proxies from the environment (HTTP(S)_PROXY, NO_PROXY) are honoured, as requests does by default.
Every message (errors raised or wrapped, log lines) goes through ``taxi_platform.redaction``.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence
from urllib.parse import urlsplit
from urllib.request import url2pathname

import requests

from taxi_platform.redaction import redact_url, redacting_logger, safe_message
from taxi_platform.sources.atomic import remove_quietly, temp_path_for
from taxi_platform.sources.base import (
    CorruptFileError,
    DownloadDeadlineError,
    DownloadLimitError,
    MonthNotFoundError,
    SourceError,
    TransientSourceError,
)
from taxi_platform.sources.http_session import Deadline, RedirectPolicy, open_following_redirects, session_under

logger = redacting_logger(__name__)  # every line through taxi_platform.redaction

CHUNK_SIZE = 1 << 20  # 1 MiB
MAX_RETRY_AFTER_SECONDS = 60.0
DEFAULT_DEADLINE_SECONDS = 1800.0
DEFAULT_MAX_BYTES = 4 << 30  # 4 GiB
NOT_FOUND_STATUSES = (403, 404, 410)
_FORBIDDEN_HINT = " (S3 and CloudFront answer 403 for a file that does not exist; or the URL's credentials are refused)"

__all__ = ["download", "probe", "redact_url", "local_path_of_file_url", "DEFAULT_DEADLINE_SECONDS", "DEFAULT_MAX_BYTES"]


@dataclass
class _Transient(Exception):
    """One failed attempt worth retrying."""

    reason: str
    retry_after: float | None = None
    truncated: bool = False

    def __post_init__(self) -> None:
        self.reason = safe_message(self.reason, 500)


class _DeadlineHit(Exception):
    """The deadline's watchdog ended the attempt."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


def download(
    url: str,
    dest: Path,
    *,
    max_attempts: int = 4,
    backoff_seconds: float = 1.0,
    timeout_seconds: float = 60.0,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    redirect_hosts: Sequence[str] = (),
    describe: str = "download",
    item: str = "file",
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Fetch ``url`` to ``dest`` and return the number of bytes written.

    ``dest`` is written atomically: it appears only complete (a hidden ``.part-*`` temp file next to it is used and
    always removed on failure). ``describe`` prefixes every message (e.g. ``"yellow 2021-03"``); ``item`` names what a
    404 means (``"month"`` -> "the source has no such month (HTTP 404) at URL").

    Retries transient errors ``max_attempts`` times in all, sleeping ``backoff_seconds * 2**attempt`` (+ up to 10 %
    jitter; at least the server's Retry-After, capped at 60 s) between attempts, all within ``deadline_seconds``.
    ``timeout_seconds`` bounds each connect and each read; ``max_bytes`` the bytes written (decoded);
    ``redirect_hosts`` are the hosts besides the URL's own that redirects may lead to (``*.domain`` allowed).

    Raises ``MonthNotFoundError`` (403/404/410 or missing file), ``CorruptFileError`` (still truncated after the last
    attempt), ``DownloadDeadlineError`` (the deadline passed), ``TransientSourceError`` (still failing transiently
    after the last attempt, naming the attempts, the URL and the last error), ``DownloadLimitError`` (over
    ``max_bytes``), ``RedirectRefusedError``, ``SourceError`` (anything else), ``OSError`` (writing ``dest``; the
    message names ``describe``).
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
    dest = Path(dest)
    _os_step(lambda: dest.parent.mkdir(parents=True, exist_ok=True), describe, f"create the folder {dest.parent}")
    safe = redact_url(url)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return _copy_file_url(url, dest, describe=describe, item=item, max_bytes=max_bytes)
    if scheme not in ("http", "https"):
        raise SourceError(f"{describe}: unsupported URL scheme {scheme or '(none)'!r} in {safe} (expected http, https or file)")

    deadline = Deadline(deadline_seconds)
    policy = RedirectPolicy.for_source(url, redirect_hosts)
    last: _Transient | None = None
    try:
        with session_under(deadline) as session:
            for attempt in range(max_attempts):
                logger.info("%s: GET %s (attempt %d of %d)", describe, safe, attempt + 1, max_attempts)
                tmp = temp_path_for(dest)
                started = time.monotonic()
                try:
                    size = _attempt(session, url, tmp, safe=safe, describe=describe, item=item,
                                    timeout=timeout_seconds, deadline=deadline, policy=policy, max_bytes=max_bytes)
                    _os_step(lambda: os.replace(tmp, dest), describe, f"move the download into place at {dest}")
                except _Transient as error:
                    remove_quietly(tmp)
                    last = error
                    if attempt + 1 < max_attempts:
                        delay = backoff_seconds * 2**attempt
                        delay += random.uniform(0, 0.1 * delay)
                        if error.retry_after is not None:
                            delay = max(delay, min(error.retry_after, MAX_RETRY_AFTER_SECONDS))
                        if delay >= deadline.remaining():
                            raise _deadline_error(describe, safe, deadline, 0, f"; last error: {error.reason}") from None
                        logger.warning(
                            "%s: attempt %d of %d at %s failed (%s); retrying in %.2f s",
                            describe, attempt + 1, max_attempts, safe, error.reason, delay,
                        )
                        sleep(delay)
                    continue
                except _DeadlineHit as hit:
                    remove_quietly(tmp)
                    raise _deadline_error(describe, safe, deadline, hit.received, "") from None
                except BaseException:
                    remove_quietly(tmp)
                    raise
                logger.info("%s: got %d bytes from %s in %.1f s", describe, size, safe, time.monotonic() - started)
                return size
    finally:
        deadline.cancel()

    assert last is not None
    attempts = f"{max_attempts} attempt{'s' if max_attempts != 1 else ''}"
    if last.truncated:
        raise CorruptFileError(f"{describe}: {last.reason} from {safe} (gave up after {attempts})")
    raise TransientSourceError(f"{describe}: gave up after {attempts} at {safe}; last error: {last.reason}")


def _deadline_error(describe: str, safe: str, deadline: Deadline, received: int, detail: str) -> DownloadDeadlineError:
    got = f" (the attempt in progress had received {received} bytes)" if received else ""
    return DownloadDeadlineError(
        f"{describe}: the download from {safe} did not finish within its deadline of {deadline.seconds:g} s"
        f"{got}{detail}; raise the source's deadline_seconds for a slow link"
    )


def _os_step(step: Callable[[], object], describe: str, what: str):
    """Run a filesystem step; an OSError becomes one of the same errno whose message names ``describe``."""
    try:
        return step()
    except OSError as e:
        if isinstance(e, requests.exceptions.RequestException):
            raise
        raise OSError(e.errno, safe_message(f"{describe}: cannot {what}: {e.strerror or e}")) from None


def _attempt(
    session: requests.Session,
    url: str,
    tmp: Path,
    *,
    safe: str,
    describe: str,
    item: str,
    timeout: float,
    deadline: Deadline,
    policy: RedirectPolicy,
    max_bytes: int,
) -> int:
    """One GET streamed to ``tmp``; returns the bytes received, raises ``_Transient``, ``_DeadlineHit`` or a final
    ``SourceError``."""
    if deadline.expired:
        raise _DeadlineHit(0)
    try:
        response = open_following_redirects(session, "GET", url, policy=policy, deadline=deadline,
                                            timeout_seconds=timeout, describe=describe)
    except (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as e:
        raise SourceError(f"{describe}: cannot fetch {safe}: {e}") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
        if deadline.expired:
            raise _DeadlineHit(0) from None
        raise _Transient(f"{type(e).__name__}: {e}") from None
    except requests.exceptions.RequestException as e:
        if deadline.expired:
            raise _DeadlineHit(0) from None
        raise SourceError(f"{describe}: cannot fetch {safe}: {type(e).__name__}: {e}") from None

    with response:
        status = response.status_code
        if status in NOT_FOUND_STATUSES:
            hint = _FORBIDDEN_HINT if status == 403 else ""
            raise MonthNotFoundError(f"{describe}: the source has no such {item} (HTTP {status}) at {safe}{hint}")
        if status in (408, 429) or 500 <= status <= 599:
            raise _Transient(f"HTTP {status} {response.reason or ''}".rstrip(), retry_after=_retry_after(response))
        if not 200 <= status <= 299:
            reason = f" {response.reason}" if response.reason else ""
            raise SourceError(f"{describe}: HTTP {status}{reason} at {safe} (not retried)")

        # Content-Length counts the bytes on the wire; it only matches what iter_content yields without a Content-Encoding.
        expected: int | None = None
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding in ("", "identity") and response.headers.get("Content-Length", "").strip().isdigit():
            expected = int(response.headers["Content-Length"])
            if expected > max_bytes:
                raise DownloadLimitError(
                    f"{describe}: {safe} is {expected} bytes (Content-Length), more than the download limit of "
                    f"{max_bytes} bytes (max_bytes); nothing was written"
                )

        received = 0
        out = _os_step(lambda: open(tmp, "wb"), describe, f"write the download to {tmp.parent}")
        try:
            with out:
                for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                    if received + len(chunk) > max_bytes:
                        what = f"with Content-Encoding {encoding}, " if encoding not in ("", "identity") else ""
                        raise DownloadLimitError(
                            f"{describe}: {safe} is larger than the download limit of {max_bytes} bytes "
                            f"({what}stopped at {received} bytes written); raise max_bytes if the file is right"
                        )
                    _os_step(lambda: out.write(chunk), describe, f"write the download to {tmp.parent}")
                    received += len(chunk)
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
        ) as e:
            if deadline.expired:
                raise _DeadlineHit(received) from None
            received = _bytes_read_before(e, received)
            if expected is not None:
                raise _Transient(f"truncated: got {received} of {expected} bytes", truncated=True) from None
            raise _Transient(f"connection broken after {received} bytes: {e}", truncated=True) from None
        if deadline.expired:  # the watchdog may have cut a body that has no length: its end cannot be trusted
            raise _DeadlineHit(received)
        if expected is not None and received != expected:
            raise _Transient(f"truncated: got {received} of {expected} bytes", truncated=True)
        return received


def _bytes_read_before(error: BaseException, default: int) -> int:
    """Bytes the connection delivered before it broke.

    A chunk cut short is not yielded by iter_content, so the count written so far can be low; urllib3's
    ``IncompleteRead`` (wrapped in the requests error) knows the total read from the socket.
    """
    pending: list[object] = [error]
    for _ in range(20):
        if not pending:
            break
        item = pending.pop()
        partial = getattr(item, "partial", None)
        if isinstance(partial, int) and not isinstance(partial, bool):
            return max(default, partial)
        if isinstance(item, BaseException):
            pending.extend(item.args)
            if item.__cause__ is not None:
                pending.append(item.__cause__)
            if item.__context__ is not None:
                pending.append(item.__context__)
    return default


def _retry_after(response: requests.Response) -> float | None:
    """Retry-After in seconds when the server sent a number (HTTP-date values are ignored)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def local_path_of_file_url(url: str) -> Path:
    """The local path of a ``file://`` URL (``file:///data/x.parquet`` -> ``/data/x.parquet``)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"file URL with a remote host is not supported: {redact_url(url)}")
    return Path(url2pathname(parts.path))


def _copy_file_url(url: str, dest: Path, *, describe: str, item: str, max_bytes: int) -> int:
    """``file://`` download: a plain local copy, atomically placed at ``dest``."""
    try:
        src = local_path_of_file_url(url)
    except ValueError as e:
        raise SourceError(f"{describe}: {e}") from None
    if not src.exists():
        raise MonthNotFoundError(f"{describe}: the source has no such {item} (no file) at {redact_url(url)}")
    if not src.is_file():
        raise SourceError(f"{describe}: {redact_url(url)} is not a regular file")
    size = src.stat().st_size
    if size > max_bytes:
        raise DownloadLimitError(
            f"{describe}: {redact_url(url)} is {size} bytes, more than the download limit of {max_bytes} bytes (max_bytes)"
        )
    tmp = temp_path_for(dest)
    try:
        def copy() -> None:
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout, CHUNK_SIZE)
            os.replace(tmp, dest)

        _os_step(copy, describe, f"copy {redact_url(url)} to {dest}")
    except BaseException:
        remove_quietly(tmp)
        raise
    size = dest.stat().st_size
    logger.info("%s: copied %d bytes from %s", describe, size, redact_url(url))
    return size


# Hosts that refuse HEAD (or sign their redirect targets for GET only) answer these: ask again with a GET, body unread.
_HEAD_REFUSED = (403, 405, 501)


def probe(
    url: str,
    *,
    timeout_seconds: float = 60.0,
    deadline_seconds: float | None = None,
    redirect_hosts: Sequence[str] = (),
    describe: str = "probe",
    item: str = "file",
) -> bool:
    """Whether ``url`` is there, without downloading it (``probe_headers`` is not None); ``file://`` URLs are a path
    check. No retries: a caller that polls (the observation sensor) simply asks again later."""
    if urlsplit(url).scheme.lower() == "file":
        try:
            return local_path_of_file_url(url).is_file()
        except ValueError as e:
            raise SourceError(f"{describe}: {e}") from None
    return probe_headers(url, timeout_seconds=timeout_seconds, deadline_seconds=deadline_seconds,
                         redirect_hosts=redirect_hosts, describe=describe, item=item) is not None


def probe_headers(
    url: str,
    *,
    timeout_seconds: float = 60.0,
    deadline_seconds: float | None = None,
    redirect_hosts: Sequence[str] = (),
    describe: str = "probe",
    item: str = "file",
) -> Mapping[str, str] | None:
    """The response headers of ``url`` (http/https), without downloading it: one HTTP HEAD, or, when the host refuses
    HEAD (403/405/501), one GET whose body is never read; redirects followed under the same policy as ``download``.
    The whole probe has a deadline (default ``2 * timeout_seconds``).

    The headers for 2xx; None for 404/410, and for 403 (S3 and CloudFront answer 403 for a file that does not exist:
    not published yet). Raises ``TransientSourceError`` for a connection error, a timeout, the deadline, 408, 429 or
    5xx; ``RedirectRefusedError`` for a redirect off the allowed hosts; ``SourceError`` for any other answer or an
    unsupported scheme.
    """
    safe = redact_url(url)
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise SourceError(f"{describe}: unsupported URL scheme {scheme or '(none)'!r} in {safe} (expected http or https)")
    deadline = Deadline(deadline_seconds if deadline_seconds is not None else 2 * timeout_seconds)
    policy = RedirectPolicy.for_source(url, redirect_hosts)
    try:
        with session_under(deadline) as session:
            for method in ("HEAD", "GET"):
                try:
                    with open_following_redirects(session, method, url, policy=policy, deadline=deadline,
                                                  timeout_seconds=timeout_seconds, describe=describe) as response:
                        status, reason, headers = response.status_code, response.reason or "", response.headers
                except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
                    why = f"no answer within the probe's deadline of {deadline.seconds:g} s" if deadline.expired \
                        else f"{type(e).__name__}: {e}"
                    raise TransientSourceError(
                        f"{describe}: cannot tell whether the source has the {item} at {safe}: {why}"
                    ) from None
                except requests.exceptions.RequestException as e:
                    raise SourceError(f"{describe}: cannot probe {safe}: {type(e).__name__}: {e}") from None
                if method == "HEAD" and status in _HEAD_REFUSED:
                    continue
                break
    finally:
        deadline.cancel()
    logger.info("%s: %s %s answered HTTP %d", describe, method, safe, status)
    if 200 <= status <= 299:
        return headers
    if status in NOT_FOUND_STATUSES:
        return None
    if status in (408, 429) or 500 <= status <= 599:
        raise TransientSourceError(
            f"{describe}: cannot tell whether the source has the {item} at {safe}: HTTP {status} {reason}".rstrip()
        )
    raise SourceError(f"{describe}: HTTP {status} {reason}".rstrip() + f" at {safe} when probing for the {item}")
