"""Real local Google Cloud stand-ins for the tests of this folder: fake-gcs-server and local-bigquery, on loopback."""

import pytest

from taxi_platform_tests.conftest import GCP_PROJECT as PROJECT
from taxi_platform_tests.emulators import start_local_bigquery, stop


@pytest.fixture(scope="session")
def local_bigquery(tmp_path_factory, fake_gcs):
    server = start_local_bigquery(tmp_path_factory.mktemp("local-bigquery"), fake_gcs, project=PROJECT)
    yield server
    stop(server.process)


@pytest.fixture
def gcp(fake_gcs, local_bigquery, monkeypatch):
    """The platform's GcpResource pointed at the emulators (anonymous credentials; nothing leaves 127.0.0.1)."""
    from taxi_platform.resources.gcp import GcpResource

    monkeypatch.setenv("NO_GCE_CHECK", "True")
    return GcpResource(project=PROJECT, gcs_endpoint=fake_gcs.endpoint, bigquery_endpoint=local_bigquery.endpoint)


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch):
    """Fail any Python connection beyond 127.0.0.1 (e.g. Google's metadata server at 169.254.169.254)."""
    import ipaddress
    import socket

    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None:
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise AssertionError(f"a test tried to reach {address}: only 127.0.0.1 is allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
