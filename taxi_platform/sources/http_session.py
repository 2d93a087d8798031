"""The HTTP plumbing of downloads and probes: a total deadline enforced on the sockets, and the redirect policy.

- ``Deadline``: a wall-clock budget for a whole download (every attempt, every wait). A watchdog thread shuts down
  the sockets of the download's session when it runs out, so a server trickling bytes (in the headers or the body)
  cannot hold a run longer than the budget, whatever the per-read timeout. Every blocking step also gets at most the
  remaining time as its timeout.
- ``RedirectPolicy``: which redirect targets may be followed: the source's own host, or a host of the allow-list
  (exact names, or ``*.example.com`` for its sub-domains); HTTP(S) only, never from HTTPS down to HTTP. Anything else
  is refused BEFORE any connection to the target, with an error naming both hosts. Private, link-local and other
  loopback hosts are therefore refused unless they are the source's host or listed.
- ``open_following_redirects``: one request, following allowed redirects by hand (requests' own following would
  go anywhere).
"""

from __future__ import annotations

import socket
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from taxi_platform.sources.base import RedirectRefusedError, SourceError

USER_AGENT = "taxi-platform/0.1 (python-requests)"
MAX_REDIRECTS = 10
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class Deadline:
    """A total time budget (seconds, monotonic clock) with a watchdog that aborts the watched sockets at its end."""

    def __init__(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"a deadline must be > 0 seconds, got {seconds}")
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._expired = False
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def expired(self) -> bool:
        return self._expired or time.monotonic() >= self.end

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def timeout(self, per_operation: float) -> float:
        """The timeout of one blocking step: ``per_operation``, or less when the budget is nearly spent."""
        return max(0.001, min(per_operation, self.remaining()))

    def watch(self, sock: socket.socket) -> None:
        """Abort ``sock`` when the budget runs out (at once when it already has)."""
        with self._lock:
            if not self._expired:
                self._sockets.add(sock)
                return
        _abort(sock)

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _abort(sock)


def _abort(sock: socket.socket) -> None:
    """Make any read or write blocked on ``sock`` (in another thread) return at once."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _pool_classes(deadline: Deadline) -> dict[str, type]:
    """urllib3 pool classes whose connections put their sockets under ``deadline`` as soon as they exist."""

    class Connection(HTTPConnection):
        def _new_conn(self):
            sock = super()._new_conn()
            deadline.watch(sock)
            return sock

    class TLSConnection(HTTPSConnection):
        def _new_conn(self):
            sock = super()._new_conn()
            deadline.watch(sock)
            return sock

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TLSConnection

    return {"http": Pool, "https": TLSPool}


class _DeadlineAdapter(HTTPAdapter):
    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self._deadline)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _pool_classes(self._deadline)
        return manager


def session_under(deadline: Deadline) -> requests.Session:
    """A requests session whose every socket is aborted when ``deadline`` runs out. Proxies from the environment
    (HTTP(S)_PROXY, NO_PROXY) are honoured as requests does."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = _DeadlineAdapter(deadline)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@dataclass(frozen=True)
class RedirectPolicy:
    """Redirect targets a download may follow (module docstring). ``allowed_hosts``: exact host names or IPs, or
    ``*.domain`` for any sub-domain of ``domain``."""

    source_url: str
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def for_source(cls, url: str, allowed_hosts: Sequence[str] = ()) -> "RedirectPolicy":
        return cls(url, tuple(h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()))

    @property
    def source_host(self) -> str:
        return (urlsplit(self.source_url).hostname or "").lower().rstrip(".")

    def allows_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if host == self.source_host:
            return True
        for pattern in self.allowed_hosts:
            if pattern.startswith("*.") and host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
            if host == pattern:
                return True
        return False

    def check(self, current: str, target: str, *, describe: str) -> None:
        """Raise ``RedirectRefusedError`` unless a redirect from ``current`` to ``target`` may be followed."""
        here, there = urlsplit(current), urlsplit(target)
        from_host, to_host = here.hostname or "?", there.hostname or ""
        if there.scheme.lower() not in ("http", "https"):
            raise RedirectRefusedError(
                f"{describe}: redirect from {from_host} to a {there.scheme or 'relative'!s} URL refused "
                "(only http and https are followed)"
            )
        if here.scheme.lower() == "https" and there.scheme.lower() == "http":
            raise RedirectRefusedError(
                f"{describe}: redirect from https://{from_host} to http://{to_host} refused (it would leave TLS)"
            )
        if not to_host or not self.allows_host(to_host):
            allowed = ", ".join(self.allowed_hosts) if self.allowed_hosts else "none"
            raise RedirectRefusedError(
                f"{describe}: redirect from {from_host} to {to_host or '(no host)'} refused: {to_host or 'it'} is "
                f"neither the source's host ({self.source_host}) nor in the allowed redirect hosts ({allowed})"
            )


def open_following_redirects(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: RedirectPolicy,
    deadline: Deadline,
    timeout_seconds: float,
    describe: str,
) -> requests.Response:
    """``method url`` (streamed), following redirects the policy allows, at most ``MAX_REDIRECTS``. Returns the
    final response (not a redirect), to be closed by the caller. requests' exceptions pass through."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        timeout = deadline.timeout(timeout_seconds)
        response = session.request(method, current, stream=True, timeout=(timeout, timeout), allow_redirects=False)
        location = session.get_redirect_target(response) if response.status_code in REDIRECT_STATUSES else None
        if location is None:
            return response
        response.close()
        target = urljoin(response.url, location)
        policy.check(current, target, describe=describe)
        if response.status_code == 303 and method != "HEAD":
            method = "GET"
        current = target
    raise SourceError(f"{describe}: more than {MAX_REDIRECTS} redirects fetching {url}")
