"""Why dagster-gcp's GCSResource / BigQueryResource are not the platform's client factories (docs/gcp.md), pinned.

Each test states one reason as an observable fact of the installed dagster-gcp: when a new release removes a reason,
its test fails, and docs/gcp.md (and resources/gcp.py) should be revisited. No network: the errors come before any
request (a keyfile that does not exist), and NO_GCE_CHECK keeps google-auth off the metadata server.
"""

import pytest
from dagster_gcp import BigQueryResource, GCSResource
from google.auth.exceptions import DefaultCredentialsError

from taxi_platform.resources.gcp import GcpCredentialsError, GcpResource


def test_the_resources_take_no_endpoint_and_no_credentials_object():
    # GCSResource: only a project (storage.Client(project=...): ADC, or STORAGE_EMULATOR_HOST for the whole process)
    assert set(GCSResource.model_fields) == {"project"}
    # BigQueryResource: the only credential is the base64 KEY ITSELF as a config value (run config, the UI)
    assert set(BigQueryResource.model_fields) == {"project", "location", "gcp_credentials"}


def test_a_bad_keyfile_puts_its_path_in_gcs_resource_errors_but_not_in_the_platforms(tmp_path, monkeypatch):
    planted = str(tmp_path / "planted-secret-dir" / "key.json")  # does not exist
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", planted)
    with pytest.raises(DefaultCredentialsError) as theirs:
        GCSResource(project="p").get_client()
    assert planted in str(theirs.value)  # google-auth's message: "File <path> was not found."

    with pytest.raises(GcpCredentialsError) as ours:
        GcpResource(project="p").storage_client()
    assert planted not in str(ours.value) and "GOOGLE_APPLICATION_CREDENTIALS" in str(ours.value)

