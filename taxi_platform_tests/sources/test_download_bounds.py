"""Downloads are bounded (a total deadline, a size cap after decoding) and follow redirects only where allowed,
against scripted servers on loopback addresses (a second one on 127.0.0.2 plays "another host")."""

from __future__ import annotations

import gzip
import time
import tracemalloc

import pytest

from taxi_platform.sources import (
    DownloadDeadlineError,
    DownloadLimitError,
    RedirectRefusedError,
    TransientSourceError,
    download,
    probe,
)
from taxi_platform_tests.http_server import scripted_http_server

FAST = dict(backoff_seconds=0.01, timeout_seconds=5.0)


@pytest.fixture(scope="module")
def other_host():
    """A second scripted server on another loopback address: "a different host" without leaving the machine."""
    with scripted_http_server("sources-other-host", host="127.0.0.2") as state:
        yield state


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


# ---- the total deadline ------------------------------------------------------------------------------------------
def test_a_trickling_body_is_cut_at_the_total_deadline(http_server, tmp_path):
    """One byte every 0.2 s never trips a 1 s read timeout; the 1.5 s deadline ends the download all the same."""
    url = http_server.add("/bounds/trickle.bin", b"y" * 1000, trickle_seconds=0.2)
    started = time.monotonic()
    with pytest.raises(DownloadDeadlineError) as info:
        download(url, tmp_path / "t.bin", max_attempts=3, backoff_seconds=0.01, timeout_seconds=1.0,
                 deadline_seconds=1.5, describe="yellow 2021-01")
    elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 6.0, elapsed  # the body alone would take 200 s
    message = str(info.value)
    assert message.startswith(f"yellow 2021-01: the download from {url} did not finish within its deadline of 1.5 s")
    assert isinstance(info.value, TransientSourceError)  # a later run may be luckier
    assert leftovers(tmp_path) == []


def test_a_body_without_length_cut_by_the_deadline_is_not_taken_for_complete(http_server, tmp_path):
    url = http_server.add("/bounds/trickle-nolength.bin", b"z" * 1000, trickle_seconds=0.2, no_length=True)
    with pytest.raises(DownloadDeadlineError):
        download(url, tmp_path / "n.bin", max_attempts=1, timeout_seconds=1.0, deadline_seconds=1.0, describe="t")
    assert leftovers(tmp_path) == []


def test_trickling_headers_are_cut_at_the_deadline_too(http_server, tmp_path):
    url = http_server.add("/bounds/trickle-headers.bin", trickle_seconds=0.1, trickle_headers=True)
    started = time.monotonic()
    with pytest.raises(DownloadDeadlineError):
        download(url, tmp_path / "h.bin", max_attempts=2, timeout_seconds=1.0, deadline_seconds=1.0, describe="t")
    assert time.monotonic() - started < 6.0
    assert leftovers(tmp_path) == []


def test_the_deadline_covers_the_waits_between_attempts(http_server, tmp_path):
    """A backoff that would end after the deadline is not slept: the download gives up at once, saying why."""
    url = http_server.add("/bounds/down.bin", status=503)
    slept = []
    with pytest.raises(DownloadDeadlineError, match=r"deadline of 2 s; last error: HTTP 503"):
        download(url, tmp_path / "d.bin", max_attempts=5, backoff_seconds=10, timeout_seconds=1,
                 deadline_seconds=2, describe="t", sleep=slept.append)
    assert slept == [] and http_server.requests("/bounds/down.bin") == 1


def test_the_probe_has_a_deadline(http_server):
    url = http_server.add("/bounds/trickle-probe.bin", trickle_seconds=0.1, trickle_headers=True)
    started = time.monotonic()
    with pytest.raises(TransientSourceError, match="no answer within the probe's deadline of 1 s"):
        probe(url, timeout_seconds=5.0, deadline_seconds=1.0, describe="t")
    assert time.monotonic() - started < 6.0


# ---- the size cap ------------------------------------------------------------------------------------------------
def test_a_content_length_over_the_cap_is_refused_before_reading(http_server, tmp_path):
    url = http_server.add("/bounds/big.bin", b"b" * 50_000)
    with pytest.raises(DownloadLimitError) as info:
        download(url, tmp_path / "b.bin", max_attempts=3, max_bytes=10_000, describe="fhvhv 2022-01", **FAST)
    assert str(info.value) == (f"fhvhv 2022-01: {url} is 50000 bytes (Content-Length), more than the download limit "
                               "of 10000 bytes (max_bytes); nothing was written")
    assert http_server.requests("/bounds/big.bin") == 1  # not retried
    assert leftovers(tmp_path) == []


def test_a_body_without_length_stops_at_the_cap(http_server, tmp_path):
    url = http_server.add("/bounds/big-nolength.bin", b"b" * (3 << 20), no_length=True)
    with pytest.raises(DownloadLimitError, match=r"larger than the download limit of 2097152 bytes"):
        download(url, tmp_path / "b.bin", max_attempts=1, max_bytes=2 << 20, describe="t", **FAST)
    assert leftovers(tmp_path) == []


def test_a_gzip_bomb_is_stopped_at_the_cap_without_inflating(http_server, tmp_path):
    """200 MiB of zeros sent as about 200 kB with Content-Encoding: gzip: the cap counts decoded bytes, the download
    stops at 1 MiB written, and the process never holds the inflated body."""
    bomb = gzip.compress(b"\0" * (200 << 20), compresslevel=9, mtime=0)
    assert len(bomb) < 300_000
    url = http_server.add("/bounds/bomb.bin", bomb, headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(DownloadLimitError) as info:
            download(url, tmp_path / "bomb.bin", max_attempts=2, max_bytes=1 << 20, describe="green 2021-02", **FAST)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "with Content-Encoding gzip, stopped at 1048576 bytes written" in str(info.value)
    assert peak < 32 << 20, peak  # far below the 200 MiB the body inflates to
    assert http_server.requests("/bounds/bomb.bin") == 1
    assert leftovers(tmp_path) == []


def test_a_gzip_body_under_the_cap_is_decoded(http_server, tmp_path):
    url = http_server.add("/bounds/small.gz.bin", gzip.compress(b"abc" * 1000), headers={"Content-Encoding": "gzip"})
    assert download(url, tmp_path / "s.bin", max_attempts=1, max_bytes=3000, describe="t", **FAST) == 3000
    assert (tmp_path / "s.bin").read_bytes() == b"abc" * 1000


def test_file_urls_have_the_cap_too(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"f" * 5000)
    with pytest.raises(DownloadLimitError, match="is 5000 bytes, more than the download limit of 4000 bytes"):
        download(src.as_uri(), tmp_path / "out" / "f.bin", max_bytes=4000, describe="t")
    assert not (tmp_path / "out" / "f.bin").exists()


# ---- redirects ---------------------------------------------------------------------------------------------------
def test_a_redirect_on_the_same_host_is_followed(http_server, tmp_path):
    target = http_server.add("/bounds/moved/here.bin", b"moved body")
    url = http_server.add("/bounds/old.bin", status=302, headers={"Location": "/bounds/moved/here.bin"})
    assert download(url, tmp_path / "m.bin", max_attempts=1, describe="t", **FAST) == 10
    assert (tmp_path / "m.bin").read_bytes() == b"moved body"
    assert http_server.requests("/bounds/moved/here.bin") == 1 and target.endswith("/here.bin")


def test_a_redirect_to_another_host_is_refused_before_contacting_it(http_server, other_host, tmp_path):
    other = other_host.add("/bounds/elsewhere.bin", b"elsewhere")
    url = http_server.add("/bounds/to-other.bin", status=302, headers={"Location": other + "?X-Amz-Signature=s1g"})
    with pytest.raises(RedirectRefusedError) as info:
        download(url, tmp_path / "o.bin", max_attempts=3, describe="yellow 2021-01", **FAST)
    assert str(info.value) == (
        "yellow 2021-01: redirect from 127.0.0.1 to 127.0.0.2 refused: 127.0.0.2 is neither the source's host "
        "(127.0.0.1) nor in the allowed redirect hosts (none)")
    assert other_host.requests("/bounds/elsewhere.bin") == 0  # never contacted
    assert http_server.requests("/bounds/to-other.bin") == 1  # not retried
    assert leftovers(tmp_path) == []


def test_a_redirect_to_an_allowed_host_is_followed(http_server, other_host, tmp_path):
    other = other_host.add("/bounds/cdn.bin", b"from the cdn")
    url = http_server.add("/bounds/to-cdn.bin", status=301, headers={"Location": other})
    assert download(url, tmp_path / "c.bin", max_attempts=1, redirect_hosts=["127.0.0.2"], describe="t", **FAST) == 12
    assert other_host.requests("/bounds/cdn.bin") == 1


@pytest.mark.parametrize("location", [
    "http://10.255.255.1/trip-data/x.parquet",  # private
    "http://169.254.169.254/computeMetadata/v1/",  # link-local (the metadata server)
    "http://internal.example/x",  # any other name: not even looked up
])
def test_redirects_to_private_or_other_hosts_make_no_connection(http_server, tmp_path, only_loopback, location):
    url = http_server.add(f"/bounds/to-private-{abs(hash(location))}.bin", status=307, headers={"Location": location})
    with pytest.raises(RedirectRefusedError, match=r"redirect from 127\.0\.0\.1 to .* refused"):
        download(url, tmp_path / "p.bin", max_attempts=2, redirect_hosts=["*.cloudfront.net"], describe="t", **FAST)
    assert only_loopback() == []  # the loopback guard saw no attempt: the policy refused before connecting
    with pytest.raises(RedirectRefusedError):
        probe(url, timeout_seconds=5, describe="t")


def test_a_wildcard_allows_sub_domains_only():
    from taxi_platform.sources.http_session import RedirectPolicy

    policy = RedirectPolicy.for_source("https://d37ci6vzurychx.cloudfront.net/x", ["*.githubusercontent.com"])
    assert policy.allows_host("d37ci6vzurychx.cloudfront.net")
    assert policy.allows_host("objects.githubusercontent.com")
    assert not policy.allows_host("githubusercontent.com.evil.example")
    assert not policy.allows_host("evilgithubusercontent.com")
    assert not policy.allows_host("other.cloudfront.net")


def test_https_to_http_and_other_schemes_are_refused():
    from taxi_platform.sources.http_session import RedirectPolicy

    policy = RedirectPolicy.for_source("https://h.example/x")
    with pytest.raises(RedirectRefusedError, match=r"from https://h.example to http://h.example refused \(it would leave TLS\)"):
        policy.check("https://h.example/x", "http://h.example/y", describe="t")
    with pytest.raises(RedirectRefusedError, match="to a file URL refused"):
        policy.check("https://h.example/x", "file:///etc/passwd", describe="t")


def test_a_redirect_loop_ends(http_server, tmp_path):
    url = http_server.add("/bounds/loop.bin", status=302, headers={"Location": "/bounds/loop.bin"})
    with pytest.raises(Exception, match="more than 10 redirects"):
        download(url, tmp_path / "l.bin", max_attempts=1, describe="t", **FAST)
    assert http_server.requests("/bounds/loop.bin") == 11


# ---- OS errors while writing name what was being fetched ------------------------------------------------------------
WRITE_LIMITED = """
import resource, signal, sys
from taxi_platform.sources import download
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
try:
    download(sys.argv[1], sys.argv[2], max_attempts=1, describe="yellow 2021-01")
except OSError as e:
    print(f"{type(e).__name__} errno={e.errno} {e}")
"""


@pytest.mark.parametrize("kind", ["http", "file"])
def test_a_write_error_names_the_dataset_and_month(http_server, tmp_path, kind):
    """A real OS error while writing the download (a file-size limit: EFBIG, as ENOSPC would be) keeps its errno and
    says what was being fetched; nothing is left behind."""
    import errno
    import subprocess
    import sys

    body = b"q" * 300_000
    if kind == "http":
        url = http_server.add("/bounds/for-a-full-disk.bin", body)
    else:
        (tmp_path / "src.bin").write_bytes(body)
        url = (tmp_path / "src.bin").as_uri()
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-c", WRITE_LIMITED, url, str(out / "y.bin")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    line = result.stdout.strip()
    assert line.startswith(f"OSError errno={errno.EFBIG} [Errno {errno.EFBIG}] yellow 2021-01: cannot "), line
    assert line.endswith("File too large"), line
    assert leftovers(out) == []


def test_an_os_error_of_a_fetch_names_the_taxi_type_and_month(tmp_path):
    import errno

    from taxi_platform.sources.fetch import fetch_sample

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the work folder should be")
    with pytest.raises(OSError) as info:
        fetch_sample("green", "2021-03", blocker / "work", rows=10, seed=1)
    assert info.value.errno in (errno.ENOTDIR, errno.EEXIST)
    message = str(info.value)
    assert message.startswith(f"[Errno {info.value.errno}] green 2021-03: ") and str(blocker) in message, message
