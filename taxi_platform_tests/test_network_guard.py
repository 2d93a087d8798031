"""The suite-wide loopback guard (network_guard.py): other addresses are refused before any packet leaves."""

import socket
import time
import urllib.request

import pytest

from taxi_platform_tests import network_guard
from taxi_platform_tests.http_server import scripted_http_server


@pytest.fixture(autouse=True)
def guard_is_installed():
    """The tests below aim at non-loopback addresses on purpose: only ever with the guard in front of the sockets."""
    assert network_guard._installed and socket.socket.connect.__module__ == network_guard.__name__, (
        "the loopback guard is not installed: refusing to try non-loopback addresses"
    )


def test_loopback_is_allowed():
    with scripted_http_server() as server:
        url = server.add("/ok", b"fine")
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == b"fine"
    assert socket.getaddrinfo("localhost", 80)


@pytest.mark.parametrize("address", [("10.255.255.1", 80), ("169.254.169.254", 80), ("192.0.2.1", 443)])
def test_other_addresses_are_refused_before_connecting(address):
    with network_guard.refusals_expected() as refused:
        with socket.socket() as sock:
            sock.settimeout(30)  # a real attempt would hang here; the refusal is immediate
            started = time.monotonic()
            with pytest.raises(network_guard.NonLoopbackConnection, match=r"only loopback"):
                sock.connect(address)
            assert time.monotonic() - started < 1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            with pytest.raises(network_guard.NonLoopbackConnection):
                udp.sendto(b"x", address)
    assert refused == [f"connect to {address!r}", f"send a datagram to {address!r}"]


def test_name_lookups_of_other_hosts_are_refused():
    with network_guard.refusals_expected() as refused:
        with pytest.raises(OSError):
            socket.getaddrinfo("metadata.google.internal", 80)
    assert refused == ["look up the host name 'metadata.google.internal'"]


def test_a_swallowed_refusal_is_still_recorded():
    """Client code that catches network errors (google-auth's metadata probe does) cannot hide an attempt."""
    with network_guard.refusals_expected() as refused:
        try:
            no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            no_proxy.open("http://10.255.255.1/computeMetadata/v1/", timeout=30)
        except OSError:
            pass
    assert refused == ["connect to ('10.255.255.1', 80)"]
