"""The Dataproc resource from ``TAXI_DATAPROC_*`` env vars, and ``python -m taxi_platform.resources.dataproc``: the
gcloud command equivalent to what the asset submits (sends nothing)."""

from __future__ import annotations

import os
from typing import Mapping, Sequence

from taxi_platform.resources.dataproc.naming import DataprocConfigError, job_args, report_paths, workload_id
from taxi_platform.resources.dataproc.resource import DataprocResource
from taxi_platform.resources.dataproc.job_requests import gcloud_command


def resource_from_env(env: Mapping[str, str]) -> DataprocResource:
    """The dataproc target configured from TAXI_DATAPROC_* env vars (see docs/dataproc.md); validated at once."""
    missing = [name for name in ("TAXI_DATAPROC_PROJECT", "TAXI_DATAPROC_REGION", "TAXI_DATAPROC_JOB_SCRIPT",
                                 "TAXI_DATAPROC_LAKE_ROOT") if not env.get(name)]
    mode = env.get("TAXI_DATAPROC_MODE") or "cluster"
    if mode == "cluster" and not env.get("TAXI_DATAPROC_CLUSTER"):
        missing.append("TAXI_DATAPROC_CLUSTER")
    if missing:
        raise DataprocConfigError("TAXI_SPARK_TARGET=dataproc needs " + ", ".join(missing)
                                  + " (see docs/dataproc.md)")

    def items(name: str) -> list[str]:
        return [x.strip() for x in (env.get(name) or "").split(",") if x.strip()]

    def pairs(name: str) -> dict[str, str]:
        out = {}
        for item in items(name):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise DataprocConfigError(f"{name} must be comma-separated key=value pairs, got item {item!r}")
            out[key.strip()] = value.strip()
        return out

    resource = DataprocResource(
        project_id=env["TAXI_DATAPROC_PROJECT"],
        region=env["TAXI_DATAPROC_REGION"],
        mode=mode,
        cluster_name=env.get("TAXI_DATAPROC_CLUSTER") or "",
        job_script_uri=env["TAXI_DATAPROC_JOB_SCRIPT"],
        lake_root=env["TAXI_DATAPROC_LAKE_ROOT"],
        py_files=items("TAXI_DATAPROC_PY_FILES"),
        jars=items("TAXI_DATAPROC_JARS"),
        properties=pairs("TAXI_DATAPROC_PROPERTIES"),
        service_account=env.get("TAXI_DATAPROC_SERVICE_ACCOUNT") or "",
        runtime_version=env.get("TAXI_DATAPROC_RUNTIME_VERSION") or "2.2",
        container_image=env.get("TAXI_DATAPROC_CONTAINER_IMAGE") or "",
        subnetwork_uri=env.get("TAXI_DATAPROC_SUBNETWORK") or "",
        staging_bucket=env.get("TAXI_DATAPROC_STAGING_BUCKET") or "",
        labels=pairs("TAXI_DATAPROC_LABELS"),
        credentials_env_var=env.get("TAXI_DATAPROC_CREDENTIALS_ENV_VAR") or "GOOGLE_APPLICATION_CREDENTIALS",
        poll_interval_seconds=float(env.get("TAXI_DATAPROC_POLL_SECONDS") or 10),
        timeout_seconds=float(env.get("TAXI_DATAPROC_TIMEOUT_SECONDS") or 6 * 3600),
    )
    resource.validate_config()
    return resource


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m taxi_platform.resources.dataproc --months 2021-01,2021-02``: print the gcloud command equivalent
    to what the asset submits for those months, from the same TAXI_DATAPROC_* env vars. Sends nothing."""
    import argparse
    import shlex

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--months", required=True, help="comma-separated months, e.g. 2021-01,2021-02")
    parser.add_argument("--id", default=None, help="job/batch id (default: taxi-revenue-<months>-manual-<random>)")
    ns = parser.parse_args(argv)
    env = {**os.environ, "TAXI_SPARK_TARGET": "dataproc"}
    config = resource_from_env(env)
    months = [m.strip() for m in ns.months.split(",") if m.strip()]
    paths = report_paths(config.lake_root)
    args = job_args(paths["input_green"], paths["input_yellow"], paths["output"], months)
    print(shlex.join(gcloud_command(config, args, ns.id or workload_id(months, "manual"))))
    return 0
