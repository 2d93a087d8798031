"""Robust downloads: streamed to a temp file, length-checked, retried with backoff on transient errors.

``download`` is shared by everything that fetches a file over HTTP(S) (raw months, the CSV backup, the zone lookup).
It also accepts ``file://`` URLs (copied locally, no retries), which is handy for users with a local mirror and for tests.

Transient (retried): connection errors, timeouts, a body cut short (truncated transfer), HTTP 408, 429 and 5xx.
Not retried: 404/410 (``MonthNotFoundError``), any other 4xx (``SourceError``), unsupported schemes, redirects to a
non-HTTP scheme (requests refuses those), too many redirects.

Proxies from the environment (HTTP(S)_PROXY, NO_PROXY) are honoured, as requests does by default.
URLs in log lines and error messages go through ``redact_url`` (no userinfo, no query string carrying a token/key/sig).
"""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit, urlunsplit
from urllib.request import url2pathname

import requests

from taxi_platform.sources.atomic import remove_quietly, temp_path_for
from taxi_platform.sources.base import CorruptFileError, MonthNotFoundError, SourceError, TransientSourceError

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20  # 1 MiB
MAX_RETRY_AFTER_SECONDS = 60.0
USER_AGENT = "taxi-platform/0.1 (python-requests)"

_SECRET_QUERY = re.compile(r"token|key|sig", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` safe to log: userinfo removed; a query string mentioning token/key/sig replaced by ``<redacted>``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme or not parts.netloc and parts.scheme != "file":
        return url
    netloc = parts.netloc.rpartition("@")[2]
    query = "<redacted>" if parts.query and _SECRET_QUERY.search(parts.query) else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


@dataclass
class _Transient(Exception):
    """One failed attempt worth retrying."""

    reason: str
    retry_after: float | None = None
    truncated: bool = False


def download(
    url: str,
    dest: Path,
    *,
    max_attempts: int = 4,
    backoff_seconds: float = 1.0,
    timeout_seconds: float = 60.0,
    describe: str = "download",
    item: str = "file",
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Fetch ``url`` to ``dest`` and return the number of bytes written.

    ``dest`` is written atomically: it appears only complete (a hidden ``.part-*`` temp file next to it is used and
    always removed on failure). ``describe`` prefixes every message (e.g. ``"yellow 2021-03"``); ``item`` names what a
    404 means (``"month"`` -> "the source has no such month (HTTP 404) at URL").

    Retries transient errors ``max_attempts`` times in all, sleeping ``backoff_seconds * 2**attempt`` (+ up to 10 %
    jitter; at least the server's Retry-After, capped at 60 s) between attempts.

    Raises ``MonthNotFoundError`` (404/410 or missing file), ``CorruptFileError`` (still truncated after the last
    attempt), ``TransientSourceError`` (still failing transiently after the last attempt, naming the attempts, the URL
    and the last error), ``SourceError`` (anything else).
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    safe = redact_url(url)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return _copy_file_url(url, dest, describe=describe, item=item)
    if scheme not in ("http", "https"):
        raise SourceError(f"{describe}: unsupported URL scheme {scheme or '(none)'!r} in {safe} (expected http, https or file)")

    last: _Transient | None = None
    with requests.Session() as session:
        session.headers["User-Agent"] = USER_AGENT
        for attempt in range(max_attempts):
            logger.info("%s: GET %s (attempt %d of %d)", describe, safe, attempt + 1, max_attempts)
            tmp = temp_path_for(dest)
            started = time.monotonic()
            try:
                size = _attempt(session, url, tmp, safe=safe, describe=describe, item=item, timeout=timeout_seconds)
                os.replace(tmp, dest)
            except _Transient as error:
                remove_quietly(tmp)
                last = error
                if attempt + 1 < max_attempts:
                    delay = backoff_seconds * 2**attempt
                    delay += random.uniform(0, 0.1 * delay)
                    if error.retry_after is not None:
                        delay = max(delay, min(error.retry_after, MAX_RETRY_AFTER_SECONDS))
                    logger.warning(
                        "%s: attempt %d of %d at %s failed (%s); retrying in %.2f s",
                        describe, attempt + 1, max_attempts, safe, error.reason, delay,
                    )
                    sleep(delay)
                continue
            except BaseException:
                remove_quietly(tmp)
                raise
            logger.info("%s: got %d bytes from %s in %.1f s", describe, size, safe, time.monotonic() - started)
            return size

    assert last is not None
    attempts = f"{max_attempts} attempt{'s' if max_attempts != 1 else ''}"
    if last.truncated:
        raise CorruptFileError(f"{describe}: {last.reason} from {safe} (gave up after {attempts})")
    raise TransientSourceError(f"{describe}: gave up after {attempts} at {safe}; last error: {last.reason}")


def _attempt(
    session: requests.Session, url: str, tmp: Path, *, safe: str, describe: str, item: str, timeout: float
) -> int:
    """One GET streamed to ``tmp``; returns the bytes received, raises ``_Transient`` or a final ``SourceError``."""
    try:
        response = session.get(url, stream=True, timeout=(timeout, timeout), allow_redirects=True)
    except (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as e:
        raise SourceError(f"{describe}: cannot fetch {safe}: {_safe_error(e, url)}") from None
    except requests.exceptions.TooManyRedirects:
        raise SourceError(f"{describe}: too many redirects fetching {safe}") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
        raise _Transient(f"{type(e).__name__}: {_safe_error(e, url)}") from None
    except requests.exceptions.RequestException as e:
        raise SourceError(f"{describe}: cannot fetch {safe}: {type(e).__name__}: {_safe_error(e, url)}") from None

    with response:
        status = response.status_code
        if status in (404, 410):
            raise MonthNotFoundError(f"{describe}: the source has no such {item} (HTTP {status}) at {safe}")
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

        received = 0
        try:
            with open(tmp, "wb") as out:
                for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                    out.write(chunk)
                    received += len(chunk)
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
        ) as e:
            received = _bytes_read_before(e, received)
            if expected is not None:
                raise _Transient(f"truncated: got {received} of {expected} bytes", truncated=True) from None
            raise _Transient(
                f"connection broken after {received} bytes: {_safe_error(e, url)}", truncated=True
            ) from None
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


def _safe_error(error: BaseException, url: str) -> str:
    """An exception's text with the raw URL (which may carry credentials) replaced by its redacted form."""
    text = str(error)
    if url in text:
        text = text.replace(url, redact_url(url))
    parts = urlsplit(url)
    if "@" in parts.netloc:
        text = text.replace(parts.netloc.rpartition("@")[0] + "@", "")
    return text


def local_path_of_file_url(url: str) -> Path:
    """The local path of a ``file://`` URL (``file:///data/x.parquet`` -> ``/data/x.parquet``)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"file URL with a remote host is not supported: {redact_url(url)}")
    return Path(url2pathname(parts.path))


def _copy_file_url(url: str, dest: Path, *, describe: str, item: str) -> int:
    """``file://`` download: a plain local copy, atomically placed at ``dest``."""
    try:
        src = local_path_of_file_url(url)
    except ValueError as e:
        raise SourceError(f"{describe}: {e}") from None
    if not src.exists():
        raise MonthNotFoundError(f"{describe}: the source has no such {item} (no file) at {redact_url(url)}")
    if not src.is_file():
        raise SourceError(f"{describe}: {redact_url(url)} is not a regular file")
    tmp = temp_path_for(dest)
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, CHUNK_SIZE)
        os.replace(tmp, dest)
    except BaseException:
        remove_quietly(tmp)
        raise
    size = dest.stat().st_size
    logger.info("%s: copied %d bytes from %s", describe, size, redact_url(url))
    return size


# Hosts that refuse HEAD (or sign their redirect targets for GET only) answer these: ask again with a GET, body unread.
_HEAD_REFUSED = (403, 405, 501)


def probe(url: str, *, timeout_seconds: float = 60.0, describe: str = "probe", item: str = "file") -> bool:
    """Whether ``url`` is there, without downloading it: one HTTP HEAD (redirects followed), or, when the host refuses
    HEAD (403/405/501), one GET whose body is never read. ``file://`` URLs are a path check. No retries: a caller that
    polls (the newest-month sensor) simply asks again later.

    True for 2xx, False for 404/410 (or no file); raises ``TransientSourceError`` for a connection error, a timeout,
    408, 429 or 5xx, and ``SourceError`` for any other answer or an unsupported scheme.
    """
    safe = redact_url(url)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        try:
            return local_path_of_file_url(url).is_file()
        except ValueError as e:
            raise SourceError(f"{describe}: {e}") from None
    if scheme not in ("http", "https"):
        raise SourceError(f"{describe}: unsupported URL scheme {scheme or '(none)'!r} in {safe} (expected http, https or file)")
    with requests.Session() as session:
        session.headers["User-Agent"] = USER_AGENT
        for method in ("HEAD", "GET"):
            try:
                with session.request(
                    method, url, stream=True, timeout=(timeout_seconds, timeout_seconds), allow_redirects=True
                ) as response:
                    status, reason = response.status_code, response.reason or ""
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
                raise TransientSourceError(
                    f"{describe}: cannot tell whether the source has the {item} at {safe}: "
                    f"{type(e).__name__}: {_safe_error(e, url)}"
                ) from None
            except requests.exceptions.RequestException as e:
                raise SourceError(f"{describe}: cannot probe {safe}: {type(e).__name__}: {_safe_error(e, url)}") from None
            if method == "HEAD" and status in _HEAD_REFUSED:
                continue
            break
    logger.info("%s: %s %s answered HTTP %d", describe, method, safe, status)
    if 200 <= status <= 299:
        return True
    if status in (404, 410):
        return False
    if status in (408, 429) or 500 <= status <= 599:
        raise TransientSourceError(
            f"{describe}: cannot tell whether the source has the {item} at {safe}: HTTP {status} {reason}".rstrip()
        )
    raise SourceError(f"{describe}: HTTP {status} {reason}".rstrip() + f" at {safe} when probing for the {item}")
