"""The Spark session target, chosen by configuration only; the session is built lazily, never at import.

Builds on dagster-pyspark's ``LazyPySparkResource``: the session starts the first time an asset, check or IO manager
asks for it (raw assets never do), once per run process. ``spark_config`` passes any extra Spark setting through.
"""

from __future__ import annotations

import os
from typing import Any

from dagster_pyspark import LazyPySparkResource
from pydantic import Field

# Settings every target gets unless spark_config overrides them.
BASE_CONFIG: dict[str, str] = {
    # TLC timestamps are naive New York times: a UTC session keeps their wall-clock values unchanged end to end.
    "spark.sql.session.timeZone": "UTC",
    # Older TLC parquet files store TIMESTAMP(NANOS), which Spark refuses to read; read them as longs and let
    # transforms/conform.py turn them into timestamps.
    "spark.sql.legacy.parquet.nanosAsLong": "true",
    "spark.ui.showConsoleProgress": "false",
    # Lake folders are month=YYYY-MM: never let partition discovery turn them into dates.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.adaptive.enabled": "true",
}

LOCAL_CONFIG: dict[str, str] = {
    # No .crc sidecar files: the lake is shared with other parquet tools (pyarrow, DuckDB), and a file they rewrite
    # would no longer match its checksum sidecar, which makes Spark refuse to read it.
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "8",
}


class SparkResource(LazyPySparkResource):
    """Where Spark runs. ``target="local"`` runs ``local[N]`` in the run's process.

    Attributes:
        target: "local" (the only target of this release; cluster targets come with their own settings).
        master: the master URL for the local target, e.g. ``local[*]`` or ``local[2]``.
        app_name: the Spark application name shown in the Spark UI.
        driver_memory: JVM heap of the driver (local mode runs everything in the driver).
        spark_config: any further Spark settings, passed through as they are.
    """

    target: str = Field(default="local", description="Where sessions run: 'local'.")
    master: str = Field(default="local[*]", description="Master URL for the local target, e.g. local[2].")
    app_name: str = Field(default="taxi_platform")
    driver_memory: str = Field(default="2g", description="spark.driver.memory")
    spark_config: dict[str, Any] = Field(default_factory=dict, description="Extra Spark settings, passed through.")

    def effective_config(self) -> dict[str, str]:
        """The Spark settings this resource starts a session with (defaults, then target, then spark_config)."""
        if self.target != "local":
            raise ValueError(f"Spark target {self.target!r} is not supported; use target='local' (master local[N])")
        config = {**BASE_CONFIG, **LOCAL_CONFIG, "spark.driver.memory": self.driver_memory}
        config.update({key: str(value) for key, value in self.spark_config.items()})
        return config

    def _init_session(self) -> None:
        if self._spark_session is not None:
            return
        from pyspark.sql import SparkSession

        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        active = SparkSession.getActiveSession()
        if active is not None and active.sparkContext.master != self.master:
            # Another target's session is alive in this process: the requested master must win.
            active.stop()
        builder = SparkSession.builder.master(self.master).appName(self.app_name)
        for key, value in self.effective_config().items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        for key, value in self.effective_config().items():
            if key.startswith("spark.sql."):
                session.conf.set(key, value)  # a reused session still gets this resource's SQL settings
        self._spark_session = session

    def get_session(self):
        """The SparkSession for this run, started on first use."""
        return self.spark_session

    def describe(self) -> dict[str, str]:
        """What to show in run and asset metadata: the target, the master and the Spark UI address if any."""
        session = self.spark_session
        info = {"spark_target": self.target, "spark_master": self.master, "spark_version": session.version}
        ui = session.sparkContext.uiWebUrl
        if ui:
            info["spark_ui"] = ui
        return info
