"""One dict of resources per deployment, chosen by one env var (``TAXI_PLATFORM_DEPLOYMENT``, default ``local``).

The resource keys are the same everywhere, so assets never know where they run. Settings of the ``local`` deployment
(all optional, read when the definitions load):

| env var                    | default      | what                                                            |
|----------------------------|--------------|-----------------------------------------------------------------|
| TAXI_LAKE_ROOT             | data/lake    | the lake folder                                                 |
| TAXI_SOURCE                | sample       | sample, tlc, backup or local                                    |
| TAXI_SAMPLE_ROWS           | 50000        | YELLOW rows per month from the sample generator (the other      |
|                            |              | types: their real share of it, TAXI_SAMPLE_VOLUMES)             |
| TAXI_SAMPLE_VOLUMES        | realistic    | realistic (real monthly ratios per era) or equal (same rows)    |
| TAXI_SAMPLE_SEED           | 42           | the sample generator's seed                                     |
| TAXI_LOCAL_PATH_TEMPLATE   | data/raw/{taxi_type}/{year}/{month:02d} | the ``local`` source's files             |
| TAXI_TLC_URL_TEMPLATE, TAXI_BACKUP_URL_TEMPLATE | (the TLC's, the course's) | the ``tlc``/``backup`` URLs (a signed URL is fine: never shown) |
| TAXI_SOURCE_DEADLINE_SECONDS | 1800       | total time of one download (all attempts)                       |
| TAXI_SOURCE_MAX_BYTES      | 4294967296   | largest download, bytes after decoding                          |
| TAXI_SOURCE_REDIRECT_HOSTS | GitHub's asset hosts | comma-separated hosts redirects may lead to (``*.domain``)  |
| TAXI_SPARK_TARGET          | local        | local, standalone, connect (dataproc: below); standalone if     |
|                            |              | TAXI_SPARK_MASTER is spark://...                                |
| TAXI_SPARK_MASTER          | local[*]     | local[N] (local) or spark://HOST:PORT (standalone)              |
| TAXI_SPARK_REMOTE          |              | sc://HOST:PORT of the Spark Connect server (connect)            |
| TAXI_SPARK_DRIVER_MEMORY   | 2g           | driver heap (local, standalone)                                 |
| TAXI_SPARK_EXECUTOR_MEMORY |              | spark.executor.memory (standalone)                              |
| TAXI_SPARK_EXECUTOR_CORES  |              | spark.executor.cores (standalone)                               |
| TAXI_SPARK_JARS            |              | comma-separated jars added to spark.jars (local, standalone)    |

The ``gcp`` deployment (``TAXI_PLATFORM_DEPLOYMENT=gcp``) puts the lake on GCS and the reports in BigQuery; it reads
the settings above (TAXI_LAKE_ROOT must then be gs://bucket/prefix) and:

| env var                    | default      | what                                                            |
|----------------------------|--------------|-----------------------------------------------------------------|
| TAXI_GCP_PROJECT           | (required)   | the project of the bucket and the BigQuery dataset              |
| TAXI_BIGQUERY_DATASET      | taxi_reports | dataset of the report tables (must exist)                       |
| TAXI_BIGQUERY_LOCATION     | US           | BigQuery location                                               |
| TAXI_BIGQUERY_STAGING      | {lake}/_bigquery_staging | where Spark stages parquet for BigQuery load jobs   |
| TAXI_GCP_KEYFILE_ENV_VAR   | GOOGLE_APPLICATION_CREDENTIALS | NAME of the env var holding the keyfile path; unset: ADC |
| TAXI_GCS_ENDPOINT          |              | a GCS emulator URL (tests only)                                 |
| TAXI_BIGQUERY_ENDPOINT     |              | a BigQuery emulator URL (tests only)                            |

``TAXI_SPARK_TARGET=dataproc`` adds the ``dataproc`` resource (configured from ``TAXI_DATAPROC_*``, see docs/dataproc.md)
and makes the definitions compute ``reports/revenue_monthly_zone`` on Dataproc; every other resource stays as above.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from taxi_platform.io_managers.bigquery import BigQueryReportIOManager
from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform.resources.gcp import GcpResource
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.resources.spark import TARGETS, SparkResource

DEPLOYMENT_ENV_VAR = "TAXI_PLATFORM_DEPLOYMENT"
DEPLOYMENTS = ("local", "gcp")
SPARK_TARGET_ENV_VAR = "TAXI_SPARK_TARGET"
DATAPROC_TARGET = "dataproc"


def _env(name: str, default: str, env: Mapping[str, str]) -> str:
    return env.get(name) or default


def spark_resource_from_env(env: Mapping[str, str], gcp: GcpResource | None = None) -> SparkResource:
    """The Spark resource of the TAXI_SPARK_* settings; the target defaults to standalone for a spark:// master."""
    master = _env("TAXI_SPARK_MASTER", "local[*]", env)
    target = _env(SPARK_TARGET_ENV_VAR, "standalone" if master.startswith("spark://") else "local", env)
    if target not in TARGETS:
        raise ValueError(f"{SPARK_TARGET_ENV_VAR}={target!r} is not a Spark target; choose one of {list(TARGETS)}")
    cores = env.get("TAXI_SPARK_EXECUTOR_CORES")
    spark = SparkResource(
        target=target,
        master=master,
        remote=env.get("TAXI_SPARK_REMOTE") or None,
        driver_memory=_env("TAXI_SPARK_DRIVER_MEMORY", "2g", env),
        executor_memory=env.get("TAXI_SPARK_EXECUTOR_MEMORY") or None,
        executor_cores=int(cores) if cores else None,
        jars=[j.strip() for j in env.get("TAXI_SPARK_JARS", "").split(",") if j.strip()],
        gcp=gcp,
    )
    spark.validate_config()  # a wrong setting fails when the definitions load, with the reason, not mid-run
    return spark


def sources_from_env(env: Mapping[str, str]) -> TaxiSourceResource:
    optional = {
        field: env[name]
        for name, field in (
            ("TAXI_TLC_URL_TEMPLATE", "tlc_url_template"),
            ("TAXI_BACKUP_URL_TEMPLATE", "backup_url_template"),
            ("TAXI_SOURCE_DEADLINE_SECONDS", "deadline_seconds"),
            ("TAXI_SOURCE_MAX_BYTES", "max_bytes"),
        )
        if env.get(name)
    }
    if env.get("TAXI_SOURCE_REDIRECT_HOSTS") is not None:
        optional["redirect_hosts"] = [h.strip() for h in env["TAXI_SOURCE_REDIRECT_HOSTS"].split(",") if h.strip()]
    return TaxiSourceResource(
        kind=_env("TAXI_SOURCE", "sample", env),
        sample_rows_per_month=int(_env("TAXI_SAMPLE_ROWS", "50000", env)),
        sample_volumes=_env("TAXI_SAMPLE_VOLUMES", "realistic", env),
        sample_seed=int(_env("TAXI_SAMPLE_SEED", "42", env)),
        local_path_template=_env("TAXI_LOCAL_PATH_TEMPLATE", "data/raw/{taxi_type}/{year}/{month:02d}", env),
        **optional,
    )


def local_resources(env: Mapping[str, str]) -> dict[str, Any]:
    """Local Spark (or a cluster target), the lake in a local folder, reports as parquet in the lake."""
    spark = spark_resource_from_env(env)
    lake = LakeIOManager(lake_root=_env("TAXI_LAKE_ROOT", "data/lake", env), spark=spark)
    return {"spark": spark, "lake_io_manager": lake, "report_io_manager": lake, "sources": sources_from_env(env)}


def _required(env: Mapping[str, str], *names: str) -> None:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise ValueError(f"{DEPLOYMENT_ENV_VAR}=gcp needs {', '.join(missing)} (see the README's GCP section)")


def gcp_resources(env: Mapping[str, str]) -> dict[str, Any]:
    """The lake on gs://, the reports in BigQuery, Spark as TAXI_SPARK_* says (with the GCS connector added)."""
    _required(env, "TAXI_GCP_PROJECT", "TAXI_LAKE_ROOT")
    lake_root = env["TAXI_LAKE_ROOT"].rstrip("/")
    if not lake_root.startswith("gs://"):
        raise ValueError(f"{DEPLOYMENT_ENV_VAR}=gcp needs TAXI_LAKE_ROOT=gs://bucket/prefix; got {lake_root!r}")
    gcp = GcpResource(
        project=env["TAXI_GCP_PROJECT"],
        location=_env("TAXI_BIGQUERY_LOCATION", "US", env),
        keyfile_env_var=_env("TAXI_GCP_KEYFILE_ENV_VAR", "GOOGLE_APPLICATION_CREDENTIALS", env),
        gcs_endpoint=env.get("TAXI_GCS_ENDPOINT") or None,
        bigquery_endpoint=env.get("TAXI_BIGQUERY_ENDPOINT") or None,
    )
    spark = spark_resource_from_env(env, gcp=gcp)
    return {
        "spark": spark,
        "gcp": gcp,
        "lake_io_manager": LakeIOManager(lake_root=lake_root, spark=spark, gcp=gcp),
        "report_io_manager": BigQueryReportIOManager(
            gcp=gcp,
            spark=spark,
            dataset=_env("TAXI_BIGQUERY_DATASET", "taxi_reports", env),
            staging_uri=_env("TAXI_BIGQUERY_STAGING", f"{lake_root}/_bigquery_staging", env),
        ),
        "sources": sources_from_env(env),
    }


def resources_for(deployment: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The resources of ``deployment`` (default: the env var, else ``local``), configured from ``env``.

    ``TAXI_SPARK_TARGET=dataproc`` (either deployment) adds the ``dataproc`` resource; the in-process Spark resource
    then stays local for the steps that still run here.
    """
    env = os.environ if env is None else env
    deployment = deployment or env.get(DEPLOYMENT_ENV_VAR) or "local"
    if deployment not in DEPLOYMENTS:
        raise ValueError(f"{DEPLOYMENT_ENV_VAR}={deployment!r} is not a deployment; choose one of {list(DEPLOYMENTS)}")
    on_dataproc = env.get(SPARK_TARGET_ENV_VAR) == DATAPROC_TARGET
    base_env = {k: v for k, v in env.items() if k != SPARK_TARGET_ENV_VAR} if on_dataproc else env
    resources = local_resources(base_env) if deployment == "local" else gcp_resources(base_env)
    if on_dataproc:
        from taxi_platform.resources.dataproc import resource_from_env

        resources["dataproc"] = resource_from_env(env)
    return resources


def report_runs_on_dataproc(resources: Mapping[str, Any]) -> bool:
    return "dataproc" in resources
