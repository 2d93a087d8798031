"""Google Cloud access for the lake (GCS), the reports (BigQuery) and Spark's GCS connector, from one place.

Credentials, in this order:
1. an emulator endpoint is configured (``gcs_endpoint`` / ``bigquery_endpoint``, tests and local runs): anonymous;
2. the env var named by ``keyfile_env_var`` (default ``GOOGLE_APPLICATION_CREDENTIALS``) is set: that service-account
   keyfile (a missing or unreadable file is a clear error before any work starts);
3. otherwise application default credentials (on GCP: the VM's or the workload's service account).

The keyfile path is read from the environment at use time; it never goes into config values shown in the UI, run
metadata, asset metadata, logs or error messages (it is registered with ``taxi_platform.redaction.register_secret``
as soon as it is read), nor onto any process command line: Spark's GCS connector gets it on the running session's
Hadoop configuration (``hadoop_gcs_secrets``), not as a ``--conf`` of the driver JVM.
"""

import os
from typing import Optional

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from taxi_platform.redaction import register_secret, safe_message

# The GCS connector's keyfile setting (a Hadoop key): set on the live session only, never in the Spark conf.
KEYFILE_HADOOP_KEY = "google.cloud.auth.service.account.json.keyfile"
SERVICE_ACCOUNT_FIELDS = ("type", "private_key", "client_email")


class GcpCredentialsError(RuntimeError):
    """The configured credentials cannot be used (the message never contains the keyfile path; it is redacted)."""

    def __init__(self, message: object = "") -> None:
        super().__init__(safe_message(message))


class GcpResource(ConfigurableResource):
    """Project, credentials and (for emulators) endpoints of the Google Cloud services the platform uses."""

    project: str = Field(description="GCP project id that owns the bucket and the BigQuery datasets.")
    location: str = Field(default="US", description="BigQuery location of datasets and jobs.")
    keyfile_env_var: str = Field(
        default="GOOGLE_APPLICATION_CREDENTIALS",
        description="Name of the env var holding the service-account keyfile path (the path itself is never configured here).",
    )
    gcs_endpoint: Optional[str] = Field(default=None, description="GCS emulator URL, e.g. http://127.0.0.1:4443 (tests).")
    bigquery_endpoint: Optional[str] = Field(default=None, description="BigQuery emulator URL (tests).")
    _storage = PrivateAttr(default=None)
    _bigquery = PrivateAttr(default=None)

    # ---- credentials ------------------------------------------------------------------------------------------
    def keyfile(self) -> Optional[str]:
        """The keyfile path from the environment, checked to be a readable service-account key (or None)."""
        path = os.environ.get(self.keyfile_env_var)
        if not path:
            return None
        register_secret(path)
        if not os.path.isfile(path):
            raise GcpCredentialsError(
                f"the service-account keyfile named by ${self.keyfile_env_var} does not exist or is not a file"
            )
        try:
            import json

            with open(path) as handle:
                key = json.load(handle)
        except OSError as e:
            raise GcpCredentialsError(
                f"the keyfile named by ${self.keyfile_env_var} cannot be read ({e.strerror or type(e).__name__})"
            ) from None
        except ValueError as e:
            where = f" (line {e.lineno}, column {e.colno})" if hasattr(e, "lineno") else ""
            raise GcpCredentialsError(
                f"the keyfile named by ${self.keyfile_env_var} is not readable JSON{where}"
            ) from None
        if not isinstance(key, dict):
            raise GcpCredentialsError(
                f"the keyfile named by ${self.keyfile_env_var} is not a service-account key: it holds a JSON "
                f"{_json_kind(key)}, not an object with {', '.join(SERVICE_ACCOUNT_FIELDS)}"
            )
        missing = [name for name in SERVICE_ACCOUNT_FIELDS if not isinstance(key.get(name), str) or not key[name]]
        if missing or key.get("type") != "service_account":
            kind = key.get("type")
            what = f"its type is {kind!r}" if isinstance(kind, str) and kind != "service_account" else \
                f"it lacks {', '.join(missing)}"
            raise GcpCredentialsError(
                f"the keyfile named by ${self.keyfile_env_var} is not a service-account key: {what}"
            )
        return path

    def credentials(self, emulated: bool):
        if emulated:
            from google.auth.credentials import AnonymousCredentials

            return AnonymousCredentials()
        keyfile = self.keyfile()
        if keyfile:
            from google.oauth2 import service_account

            try:
                return service_account.Credentials.from_service_account_file(
                    keyfile, scopes=["https://www.googleapis.com/auth/cloud-platform"]
                )
            except ValueError:
                raise GcpCredentialsError(f"the keyfile named by ${self.keyfile_env_var} is not a valid key") from None
        import google.auth

        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        return credentials

    # ---- clients ----------------------------------------------------------------------------------------------
    def storage_client(self):
        if self._storage is None:
            from google.cloud import storage

            options = {"api_endpoint": self.gcs_endpoint} if self.gcs_endpoint else None
            self._storage = storage.Client(
                project=self.project, credentials=self.credentials(bool(self.gcs_endpoint)), client_options=options
            )
        return self._storage

    def bigquery_client(self):
        if self._bigquery is None:
            from google.cloud import bigquery

            options = {"api_endpoint": self.bigquery_endpoint} if self.bigquery_endpoint else None
            self._bigquery = bigquery.Client(
                project=self.project,
                credentials=self.credentials(bool(self.bigquery_endpoint)),
                location=self.location,
                client_options=options,
            )
        return self._bigquery

    # ---- Spark's GCS connector --------------------------------------------------------------------------------
    def hadoop_gcs_config(self) -> dict[str, str]:
        """``spark.hadoop.fs.gs.*`` settings for the GCS Hadoop connector (connector 2.2.x, Hadoop 3.5 safe).

        No secret among them (they become ``--conf`` arguments of the driver JVM, visible to ``ps``): the keyfile
        path is in ``hadoop_gcs_secrets``, for the running session's Hadoop configuration. Raises
        ``GcpCredentialsError`` for a keyfile that cannot be used."""
        config = {
            "spark.hadoop.fs.gs.impl": "com.google.cloud.hadoop.fs.gcs.GoogleHadoopFileSystem",
            "spark.hadoop.fs.AbstractFileSystem.gs.impl": "com.google.cloud.hadoop.fs.gcs.GoogleHadoopFS",
            "spark.hadoop.fs.gs.project.id": self.project,
            # Hadoop 3.5 ships defaults like "64m" that connector 2.2.6 cannot parse: give plain numbers.
            "spark.hadoop.fs.gs.block.size": "67108864",
            "spark.hadoop.fs.gs.outputstream.buffer.size": "8388608",
            "spark.hadoop.fs.gs.inputstream.inplace.seek.limit": "8388608",
            "spark.hadoop.fs.gs.inputstream.min.range.request.size": "2097152",
        }
        if self.gcs_endpoint:
            config.update({
                "spark.hadoop.fs.gs.storage.root.url": self.gcs_endpoint.rstrip("/") + "/",
                "spark.hadoop.fs.gs.auth.service.account.enable": "false",
                "spark.hadoop.fs.gs.auth.null.enable": "true",
            })
            return config
        if self.keyfile():
            config["spark.hadoop.google.cloud.auth.service.account.enable"] = "true"
        return config

    def hadoop_gcs_secrets(self) -> dict[str, str]:
        """Hadoop settings that hold secrets (the keyfile path, when one is configured and no emulator is): to be set
        on the live session's Hadoop configuration (``sparkContext._jsc.hadoopConfiguration()``), before the first
        ``gs://`` access, never passed as Spark conf (which pyspark puts on the JVM's command line)."""
        if self.gcs_endpoint:
            return {}
        keyfile = self.keyfile()
        return {KEYFILE_HADOOP_KEY: keyfile} if keyfile else {}


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number" if isinstance(value, (int, float)) else type(value).__name__
