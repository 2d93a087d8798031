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
