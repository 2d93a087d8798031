"""One dict of resources per deployment, chosen by one env var (``TAXI_PLATFORM_DEPLOYMENT``, default ``local``).

The resource keys are the same everywhere, so assets never know where they run. Settings of the ``local`` deployment
(all optional, read when the definitions load):

| env var                    | default      | what                                                            |
|----------------------------|--------------|-----------------------------------------------------------------|
| TAXI_LAKE_ROOT             | data/lake    | the lake folder                                                 |
| TAXI_SOURCE                | sample       | sample, tlc, backup or local                                    |
| TAXI_SAMPLE_ROWS           | 50000        | rows per month of each taxi type from the sample generator      |
| TAXI_SAMPLE_SEED           | 42           | the sample generator's seed                                     |
| TAXI_LOCAL_PATH_TEMPLATE   | data/raw/{taxi_type}/{year}/{month:02d} | the ``local`` source's files             |
| TAXI_SPARK_MASTER          | local[*]     | master of the local Spark target                                |
| TAXI_SPARK_DRIVER_MEMORY   | 2g           | driver heap                                                     |
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.resources.spark import SparkResource

DEPLOYMENT_ENV_VAR = "TAXI_PLATFORM_DEPLOYMENT"
DEPLOYMENTS = ("local",)


def _env(name: str, default: str, env: Mapping[str, str]) -> str:
    return env.get(name) or default


def local_resources(env: Mapping[str, str]) -> dict[str, Any]:
    spark = SparkResource(
        target="local",
        master=_env("TAXI_SPARK_MASTER", "local[*]", env),
        driver_memory=_env("TAXI_SPARK_DRIVER_MEMORY", "2g", env),
    )
    return {
        "spark": spark,
        "lake_io_manager": LakeIOManager(lake_root=_env("TAXI_LAKE_ROOT", "data/lake", env), spark=spark),
        "sources": TaxiSourceResource(
            kind=_env("TAXI_SOURCE", "sample", env),
            sample_rows_per_month=int(_env("TAXI_SAMPLE_ROWS", "50000", env)),
            sample_seed=int(_env("TAXI_SAMPLE_SEED", "42", env)),
            local_path_template=_env("TAXI_LOCAL_PATH_TEMPLATE", "data/raw/{taxi_type}/{year}/{month:02d}", env),
        ),
    }


def resources_for(deployment: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The resources of ``deployment`` (default: the env var, else ``local``), configured from ``env``."""
    env = os.environ if env is None else env
    deployment = deployment or env.get(DEPLOYMENT_ENV_VAR) or "local"
    if deployment == "local":
        return local_resources(env)
    raise ValueError(f"{DEPLOYMENT_ENV_VAR}={deployment!r} is not a deployment; choose one of {list(DEPLOYMENTS)}")
