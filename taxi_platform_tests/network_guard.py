"""Loopback only: any attempt of this test process to reach a non-loopback address fails the test.

Installed by ``taxi_platform_tests/conftest.py`` when pytest loads it (before any fixture or test runs), for the whole
suite. It wraps ``socket.socket.connect``/``connect_ex``/``sendto`` (TCP and UDP: HTTP clients, gRPC's Python side,
Google's metadata-server probe) and ``socket.getaddrinfo`` (a name lookup of another host is already a step off the
machine). A refused attempt raises ``NonLoopbackConnection`` BEFORE any packet leaves, and is recorded: the autouse
fixture fails the test even when the code under test swallowed the exception (google-auth does, for example).

Allowed: 127.0.0.0/8, ::1, ``localhost``, this machine's own host name (lookups only), Unix sockets.
Child processes (the Spark JVM, fake-gcs-server, local-bigquery, dagster CLIs) are not covered: they are configured
with loopback endpoints by the fixtures that start them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from typing import Iterator

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class NonLoopbackConnection(AssertionError, OSError):
    """A test tried to reach beyond 127.0.0.1. (An OSError too, so that client code handles it as a network error.)"""


_attempts: list[str] = []
_lock = threading.Lock()
_installed = False


def attempts() -> list[str]:
    """Every refused attempt so far (descriptions like ``connect to ('10.255.255.1', 80)``), oldest first."""
    with _lock:
        return list(_attempts)


@contextlib.contextmanager
def refusals_expected() -> Iterator[list[str]]:
    """For the guard's own tests: attempts refused inside the block are handed back in the yielded list instead of
    failing the test."""
    with _lock:
        start = len(_attempts)
    seen: list[str] = []
    try:
        yield seen
    finally:
        with _lock:
            seen.extend(_attempts[start:])
            del _attempts[start:]


def _is_loopback_host(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host is None:
        return True
    host = str(host).strip("[]").split("%", 1)[0]
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    with _lock:
        _attempts.append(what)
    raise NonLoopbackConnection(f"a test tried to {what}: only loopback (127.0.0.1, ::1) is allowed")


def _check_address(sock: socket.socket, address, verb: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # Unix sockets and the like stay on the machine
    if isinstance(address, tuple) and not _is_loopback_host(address[0]):
        _refuse(f"{verb} {address!r}")


def install() -> None:
    """Wrap the socket functions (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_sendto, real_getaddrinfo = socket.socket.sendto, socket.getaddrinfo
    own_names = {socket.gethostname().lower()}

    def connect(sock, address):
        _check_address(sock, address, "connect to")
        return real_connect(sock, address)

    def connect_ex(sock, address):
        _check_address(sock, address, "connect to")
        return real_connect_ex(sock, address)

    def sendto(sock, data, *args):
        address = args[-1] if args else None
        _check_address(sock, address, "send a datagram to")
        return real_sendto(sock, data, *args)

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode(errors="replace") if isinstance(host, bytes) else host
        if not _is_loopback_host(name) and str(name).lower() not in own_names:
            try:
                ipaddress.ip_address(str(name).strip("[]").split("%", 1)[0])
            except ValueError:
                _refuse(f"look up the host name {name!r}")
            # an IP literal needs no lookup: the connect that follows is checked
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.getaddrinfo = getaddrinfo
