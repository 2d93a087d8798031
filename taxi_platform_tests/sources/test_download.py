"""The shared download helper against a real local HTTP server: bytes, retries, truncation, status handling."""

from __future__ import annotations

import logging
import socket

import pytest

from taxi_platform.sources import CorruptFileError, MonthNotFoundError, SourceError, TransientSourceError, download, redact_url

FAST = dict(backoff_seconds=0.01, timeout_seconds=5.0)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_download_writes_exact_bytes(http_server, tmp_path):
    body = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB chunk
    url = http_server.add("/dl/ok.bin", body)
    dest = tmp_path / "out" / "ok.bin"
    size = download(url, dest, max_attempts=2, describe="test ok", **FAST)
    assert size == len(body)
    assert dest.read_bytes() == body
    assert leftovers(dest.parent) == ["ok.bin"]
    assert http_server.requests("/dl/ok.bin") == 1


def test_truncated_body_is_retried_then_corrupt_and_leaves_nothing(http_server, tmp_path):
    body = b"x" * 100_000
    url = http_server.add("/dl/truncated.bin", body, truncate=True)
    dest = tmp_path / "truncated.bin"
    with pytest.raises(CorruptFileError) as info:
        download(url, dest, max_attempts=2, describe="test truncated", **FAST)
    message = str(info.value)
    assert "truncated: got 50000 of 100000 bytes" in message
    assert url in message and "2 attempts" in message
    assert http_server.requests("/dl/truncated.bin") == 2
    assert leftovers(tmp_path) == []


def test_404_is_not_retried(http_server, tmp_path):
    url = http_server.base_url + "/dl/missing-month.bin"
    with pytest.raises(MonthNotFoundError) as info:
        download(url, tmp_path / "m.bin", max_attempts=4, describe="yellow 2021-03", item="month", **FAST)
    assert str(info.value) == f"yellow 2021-03: the source has no such month (HTTP 404) at {url}"
    assert http_server.requests("/dl/missing-month.bin") == 1
    assert leftovers(tmp_path) == []


def test_503_twice_then_success_after_three_requests(http_server, tmp_path, caplog):
    url = http_server.add("/dl/flaky.bin", b"payload", fail_times=2, fail_status=503)
    with caplog.at_level(logging.WARNING, logger="taxi_platform.sources.download"):
        size = download(url, tmp_path / "f.bin", max_attempts=4, describe="test flaky", **FAST)
    assert size == 7 and (tmp_path / "f.bin").read_bytes() == b"payload"
    assert http_server.requests("/dl/flaky.bin") == 3
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2 and "HTTP 503" in retries[0]


def test_429_and_408_are_transient(http_server, tmp_path):
    url = http_server.add("/dl/slowdown.bin", b"ok", fail_times=1, fail_status=429)
    assert download(url, tmp_path / "a.bin", max_attempts=2, describe="t", **FAST) == 2
    url = http_server.add("/dl/timeout408.bin", b"ok", fail_times=1, fail_status=408)
    assert download(url, tmp_path / "b.bin", max_attempts=2, describe="t", **FAST) == 2


def test_503_forever_gives_up_after_max_attempts(http_server, tmp_path):
    url = http_server.add("/dl/down.bin", status=503)
    with pytest.raises(SourceError) as info:
        download(url, tmp_path / "d.bin", max_attempts=3, describe="green 2020-01", **FAST)
    assert type(info.value) is TransientSourceError  # the raw assets' Dagster retry policy re-runs only these
    message = str(info.value)
    assert message.startswith("green 2020-01: gave up after 3 attempts at ") and url in message and "HTTP 503" in message
    assert http_server.requests("/dl/down.bin") == 3
    assert leftovers(tmp_path) == []


def test_other_4xx_fails_at_once(http_server, tmp_path):
    url = http_server.add("/dl/unauthorized.bin", status=401)
    with pytest.raises(SourceError, match="HTTP 401") as info:
        download(url, tmp_path / "x.bin", max_attempts=4, describe="t", **FAST)
    assert not isinstance(info.value, MonthNotFoundError)
    assert http_server.requests("/dl/unauthorized.bin") == 1


def test_403_reads_as_not_published_like_404(http_server, tmp_path):
    """S3 and CloudFront (the TLC's CDN) answer 403 for a key that does not exist."""
    url = http_server.add("/dl/unpublished.bin", status=403)
    with pytest.raises(MonthNotFoundError) as info:
        download(url, tmp_path / "x.bin", max_attempts=4, describe="yellow 2031-01", item="month", **FAST)
    assert str(info.value).startswith(f"yellow 2031-01: the source has no such month (HTTP 403) at {url} (S3 and")
    assert http_server.requests("/dl/unpublished.bin") == 1
    assert leftovers(tmp_path) == []


def test_timeout_is_transient(http_server, tmp_path):
    url = http_server.add("/dl/stall.bin", b"late", delay_seconds=1.0)
    with pytest.raises(SourceError, match=r"gave up after 2 attempts.*(Timeout|timed out)"):
        download(url, tmp_path / "s.bin", max_attempts=2, backoff_seconds=0.01, timeout_seconds=0.2, describe="t")
    assert http_server.requests("/dl/stall.bin") == 2


def test_connection_refused_is_retried_then_fails(tmp_path):
    with socket.socket() as s:  # a free loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceError, match=r"gave up after 2 attempts at http://127\.0\.0\.1:\d+/x; last error: ConnectionError"):
        download(f"http://127.0.0.1:{port}/x", tmp_path / "x", max_attempts=2, describe="t", **FAST)
    assert leftovers(tmp_path) == []


def test_file_urls_are_copied(tmp_path):
    src = tmp_path / "src" / "a b.bin"
    src.parent.mkdir()
    src.write_bytes(b"local bytes")
    assert download(src.as_uri(), tmp_path / "dest.bin", max_attempts=1, describe="t", **FAST) == 11
    assert (tmp_path / "dest.bin").read_bytes() == b"local bytes"
    with pytest.raises(MonthNotFoundError, match="no such file"):
        download((tmp_path / "nope.bin").as_uri(), tmp_path / "n.bin", max_attempts=1, describe="t", **FAST)


def test_unsupported_scheme(tmp_path):
    with pytest.raises(SourceError, match="unsupported URL scheme 'ftp'"):
        download("ftp://example.invalid/x", tmp_path / "x", max_attempts=1, describe="t", **FAST)


def test_credentials_never_reach_messages(http_server, tmp_path, caplog):
    port = http_server.base_url.rsplit(":", 1)[1]
    url = f"http://alice:s3cret@127.0.0.1:{port}/dl/private.bin?token=t0k3n&x=1"
    with caplog.at_level(logging.DEBUG, logger="taxi_platform.sources"):
        with pytest.raises(MonthNotFoundError) as info:
            download(url, tmp_path / "p.bin", max_attempts=1, describe="t", **FAST)
    text = str(info.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert "s3cret" not in text and "alice" not in text and "t0k3n" not in text
    assert f"http://127.0.0.1:{port}/dl/private.bin?<redacted>" in str(info.value)


def test_redact_url():
    assert redact_url("https://u:p@host:8443/a/b.parquet?sig=1") == "https://host:8443/a/b.parquet?<redacted>"
    # every query string: a parameter's name does not tell a secret from a page number
    assert redact_url("https://host/a.csv.gz?page=2") == "https://host/a.csv.gz?<redacted>"
    assert redact_url("https://h/x?secret=S&password=P#frag") == "https://h/x?<redacted>"
    assert redact_url("data/raw/yellow") == "data/raw/yellow"


def test_wrapped_third_party_text_is_redacted(tmp_path, caplog):
    """requests/urllib3 repeat the URL's path and query in their own text (``Max retries exceeded with url:
    /x?X-Amz-Signature=...``): the error and the log lines carry none of it."""
    with socket.socket() as s:  # a free loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://bob:hunter2pw@127.0.0.1:{port}/green_2021-01.parquet?X-Amz-Signature=abcdef123456&token=tok999"
    with caplog.at_level(logging.DEBUG, logger="taxi_platform.sources"):
        with pytest.raises(TransientSourceError) as info:
            download(url, tmp_path / "g.bin", max_attempts=2, describe="green 2021-01", **FAST)
    message = str(info.value)
    assert "Max retries exceeded with url: /green_2021-01.parquet?<redacted>" in message
    text = message + "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("abcdef123456", "tok999", "hunter2pw", "bob"):
        assert secret not in text
