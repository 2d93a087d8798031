"""The Spark session target, chosen by configuration only; the session is built lazily, never at import.

A lazy session (the idea of dagster-pyspark's ``LazyPySparkResource``, without importing it: that module imports
pyspark.sql at load, which every process loading the definitions would pay for): the session starts the first time an
asset, check or IO manager asks for it (raw assets never do), once per run process. The same assets run on every target:

| target       | where Spark runs                                   | settings                                          |
|--------------|----------------------------------------------------|---------------------------------------------------|
| `local`      | ``local[N]`` inside the run's process              | ``master`` (local, local[N], local[*]), ``driver_memory`` |
| `standalone` | a Spark standalone cluster (``spark://host:port``), the driver in the run's process (client mode) | ``master``, ``executor_memory``, ``executor_cores``, ``driver_memory`` |
| `connect`    | a Spark Connect server (Spark 4, ``sc://host:port``); the run's process is a thin gRPC client | ``remote`` |

``spark_config`` passes any extra Spark setting through; ``jars`` are added by the resource (``spark.jars``), never by
assets. Under Connect the server owns the JVM: jars, memory, cores and every non-SQL setting belong on the server
(``start-connect-server.sh --jars ... --conf ...``), and only runtime SQL settings (``spark.sql.*``) pass through.

Spark Connect has no SparkContext and no RDD API: DataFrame/SQL code runs everywhere; code that needs RDDs asks for
them through :meth:`SparkResource.require_spark_context`, which says clearly which target lacks them.

A Python process holds one kind of Spark session at a time: one classic SparkContext (local or standalone), or a
Spark Connect client (pyspark switches its whole ``functions`` module to Connect while one is open). When a run asks
for a different target than the one alive in the process (tests switch local -> standalone -> connect -> local), the
resource stops the other session first.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any, Literal, Optional
from urllib.parse import urlsplit

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

# BASE_CONFIG: the settings every target gets unless spark_config overrides them; it lives in a Dagster-free module
# because the spark-submit job script uses it too.
from taxi_platform.resources.gcp import GcpResource
from taxi_platform.spark_settings import BASE_CONFIG

# (Dataproc is not a target of this resource: the job script runs there, submitted by resources/dataproc/.)
SparkTarget = Literal["local", "standalone", "connect"]
TARGETS: tuple[str, ...] = ("local", "standalone", "connect")
DEFAULT_CONNECT_PORT = 15002  # Spark Connect's default port when sc://host has none
CONNECT_PROBE_TIMEOUT_SECONDS = 3.0

# Classic targets (local and standalone): the driver JVM is ours.
CLASSIC_CONFIG: dict[str, str] = {
    # No .crc sidecar files: the lake is shared with other parquet tools (pyarrow, DuckDB), and a file they rewrite
    # would no longer match its checksum sidecar, which makes Spark refuse to read it. (A Spark Connect server needs
    # the same setting at its start: --conf spark.hadoop.fs.file.impl=org.apache.hadoop.fs.RawLocalFileSystem.)
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
}

LOCAL_CONFIG: dict[str, str] = {
    **CLASSIC_CONFIG,
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "8",
}


# Spark's default redaction plus the GCS connector's keyfile setting: should one be configured through spark_config,
# it is never shown in the Spark UI or event logs (the resource itself never puts it in the Spark conf).
REDACTION_REGEX = r"(?i)secret|password|token|access[.]key|keyfile"


def gcs_connector_jar() -> str:
    """The shaded GCS Hadoop connector jar that the PyPI package ``pyspark-gcs`` ships (used in place)."""
    from importlib import resources

    jars = sorted((resources.files("pyspark_gcs") / "jars").iterdir(), key=lambda p: p.name)
    found = [str(j) for j in jars if j.name.startswith("gcs-connector") and j.name.endswith(".jar")]
    if not found:
        raise SparkTargetError("no GCS connector jar in the pyspark-gcs package: reinstall it (pip install pyspark-gcs)")
    return found[-1]


class SparkTargetError(ValueError):
    """The Spark target's configuration cannot work, or the target cannot do what was asked; the message says why."""


class SparkConnectUnreachableError(SparkTargetError):
    """Nothing answers at the Spark Connect address (checked with a short TCP probe, not pyspark's ~60 s retries)."""


class SparkResource(ConfigurableResource):
    """Where Spark runs, chosen by ``target``; the session starts on first use.

    Attributes:
        target: ``local`` (``local[N]`` in the run's process), ``standalone`` (a ``spark://host:port`` cluster, the
            driver in the run's process), ``connect`` (a Spark 4 Spark Connect server at ``sc://host:port``).
        master: ``local[N]``/``local[*]`` for ``local``, ``spark://host:port`` for ``standalone``.
        remote: ``sc://host:port`` of the Spark Connect server, for ``connect``. Parameters after ``/;`` (such as a
            token) are passed to pyspark but never shown in metadata.
        app_name: the Spark application name shown in the Spark UI.
        driver_memory: JVM heap of the driver (local mode runs everything in the driver). Classic targets only.
        executor_memory: ``spark.executor.memory`` on a standalone cluster (e.g. ``1g``).
        executor_cores: ``spark.executor.cores`` on a standalone cluster.
        jars: jar files (or URLs) the target needs, e.g. a filesystem connector; added to ``spark.jars`` for the
            classic targets (effective when the driver JVM starts). Under ``connect`` jars must be on the server
            (``start-connect-server.sh --jars ...``): configuring them here is an error.
        spark_config: any further Spark settings, passed through as they are (under ``connect`` only runtime SQL
            settings, ``spark.sql.*``; the rest belongs on the server).
    """

    target: SparkTarget = Field(default="local", description="Where sessions run: local, standalone, connect.")
    master: str = Field(
        default="local[*]", description="local[N] for target local; spark://host:port for target standalone."
    )
    remote: Optional[str] = Field(default=None, description="sc://host:port of the Spark Connect server (connect).")
    app_name: str = Field(default="taxi_platform")
    driver_memory: str = Field(default="2g", description="spark.driver.memory (local and standalone)")
    executor_memory: Optional[str] = Field(default=None, description="spark.executor.memory (standalone)")
    executor_cores: Optional[int] = Field(default=None, description="spark.executor.cores (standalone)")
    jars: list[str] = Field(
        default_factory=list, description="Jars the target needs, added to spark.jars (classic targets only)."
    )
    spark_config: dict[str, Any] = Field(default_factory=dict, description="Extra Spark settings, passed through.")
    gcp: Optional[GcpResource] = Field(
        default=None,
        description="Set for a lake on gs://: the resource adds the GCS connector jar and its settings (credentials "
        "from the GCP resource; the keyfile path is set on the running session, never on the JVM's command line).",
    )
    _spark_session: Any = PrivateAttr(default=None)

    # ---- configuration ---------------------------------------------------------------------------------------
    def validate_config(self) -> None:
        """Raise :class:`SparkTargetError` with a clear message when the settings cannot work for the target."""
        t = self.target
        if t == "local":
            if not (self.master == "local" or self.master.startswith("local[")):
                hint = " (use target='standalone' for a spark:// master)" if self.master.startswith("spark://") else ""
                raise SparkTargetError(
                    f"Spark target 'local' needs master local, local[N] or local[*]; got {self.master!r}{hint}"
                )
            self._refuse_settings(executor_memory=self.executor_memory, executor_cores=self.executor_cores)
        elif t == "standalone":
            if not self.master.startswith("spark://") or not urlsplit(self.master).hostname:
                raise SparkTargetError(
                    f"Spark target 'standalone' needs master spark://HOST:PORT (e.g. spark://127.0.0.1:7077); "
                    f"got {self.master!r}"
                )
            if self.executor_cores is not None and self.executor_cores < 1:
                raise SparkTargetError(f"executor_cores must be >= 1; got {self.executor_cores}")
        elif t == "connect":
            if not self.remote:
                raise SparkTargetError("Spark target 'connect' needs remote='sc://HOST:PORT' (a Spark Connect server)")
            self.connect_address()  # validates the URL
            self._refuse_settings(executor_memory=self.executor_memory, executor_cores=self.executor_cores)
            if self.jars:
                raise SparkTargetError(
                    f"Spark target 'connect': jars {self.jars} must be on the Spark Connect server "
                    "(start-connect-server.sh --jars ...), not configured on the client"
                )
            if self.gcp is not None:
                raise SparkTargetError(
                    "Spark target 'connect': the GCS connector must be on the Spark Connect server (start it with "
                    "--jars <gcs-connector jar> and the fs.gs.* settings, see GcpResource.hadoop_gcs_config; a keyfile "
                    "path belongs in a 0600 --properties-file, not in a --conf on the server's command line)"
                )
            server_side = sorted(k for k in self.spark_config if not k.startswith("spark.sql."))
            if server_side:
                raise SparkTargetError(
                    f"Spark target 'connect': spark_config {server_side} are not runtime SQL settings; set them on "
                    "the Spark Connect server (start-connect-server.sh --conf KEY=VALUE)"
                )

    def _refuse_settings(self, **settings: Any) -> None:
        given = sorted(name for name, value in settings.items() if value is not None)
        if given:
            raise SparkTargetError(
                f"{', '.join(given)} apply to target 'standalone' only; Spark target {self.target!r} "
                + ("runs everything in the driver" if self.target == "local" else "sizes executors on the server")
            )

    def connect_address(self) -> tuple[str, int]:
        """(host, port) of ``remote``; raises :class:`SparkTargetError` if it is not an ``sc://`` URL."""
        remote = self.remote or ""
        parts = urlsplit(remote.split(";", 1)[0])
        try:
            port = parts.port or DEFAULT_CONNECT_PORT
        except ValueError:
            port = -1
        if parts.scheme != "sc" or not parts.hostname or port <= 0:
            raise SparkTargetError(f"Spark target 'connect' needs remote sc://HOST:PORT; got {remote_without_params(remote)!r}")
        return parts.hostname, port

    def effective_config(self) -> dict[str, str]:
        """The Spark settings this resource starts a session with (defaults, then target, then jars, spark_config).

        Under ``connect`` these are the runtime SQL settings sent to the server's session.
        """
        self.validate_config()
        extra = {key: str(value) for key, value in self.spark_config.items()}
        if self.target == "connect":
            return {**{k: v for k, v in BASE_CONFIG.items() if k.startswith("spark.sql.")}, **extra}
        config = {**BASE_CONFIG, **(LOCAL_CONFIG if self.target == "local" else CLASSIC_CONFIG)}
        config["spark.driver.memory"] = self.driver_memory
        if self.executor_memory is not None:
            config["spark.executor.memory"] = self.executor_memory
        if self.executor_cores is not None:
            config["spark.executor.cores"] = str(self.executor_cores)
        jars = [*self.jars, *[j for j in extra.pop("spark.jars", "").split(",") if j]]
        if self.gcp is not None:
            jars.append(gcs_connector_jar())
            config.update(self.gcp.hadoop_gcs_config())
            config["spark.redaction.regex"] = REDACTION_REGEX
        if jars:
            config["spark.jars"] = ",".join(dict.fromkeys(jars))
        config.update(extra)
        if self.target == "local":
            # the driver JVM maps its classes from the class-data archive when there is one (resources/class_data.py)
            from taxi_platform.resources.class_data import driver_java_options

            options = " ".join(o for o in (driver_java_options(), config.get("spark.driver.extraJavaOptions", "")) if o)
            if options:
                config["spark.driver.extraJavaOptions"] = options
        return config

    # ---- sessions --------------------------------------------------------------------------------------------
    def _init_session(self) -> None:
        if self._spark_session is not None and _is_alive(self._spark_session):
            return
        self._spark_session = None
        self.validate_config()
        session = self._connect_session() if self.target == "connect" else self._classic_session()
        self._spark_session = session
        try:
            from dagster import get_dagster_logger

            get_dagster_logger().info(f"Spark session: {self.describe()}")
        except Exception:  # never let logging break a run
            pass

    def _classic_session(self):
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        if "SPARK_REMOTE" in os.environ:
            raise SparkTargetError(
                f"SPARK_REMOTE={remote_without_params(os.environ['SPARK_REMOTE'])!r} is set in the environment: pyspark "
                f"would open a Spark Connect session instead of target {self.target!r}; unset it or use target='connect'"
            )
        _leave_connect_mode()
        if self.target == "local":
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            # Python workers (UDFs, mapInPandas, RDDs) run on this machine: this interpreter and its packages
            # (pandas, numpy, the platform), not whichever `python3` is first on PATH. Read when the context starts.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        active = SparkContext._active_spark_context
        if active is not None and active.master != self.master:
            # Another target's session is alive in this process (one SparkContext per process): the requested
            # master must win.
            _stop_classic()
        builder = SparkSession.builder.master(self.master).appName(self.app_name)
        config = self.effective_config()
        for key, value in config.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        for key, value in config.items():
            if key.startswith("spark.sql."):
                session.conf.set(key, value)  # a reused session still gets this resource's SQL settings
        self._set_hadoop_secrets(session)
        return session

    def _set_hadoop_secrets(self, session) -> None:
        """Credentials (the GCS keyfile path) go on the live session's Hadoop configuration, through the Py4J socket:
        pyspark passes every builder setting to spark-submit as ``--conf k=v``, on the driver JVM's command line,
        which any local user can read with ``ps``. Set before the first ``gs://`` access; DataFrame reads and writes
        ship this configuration to executors."""
        if self.gcp is None:
            return
        secrets = self.gcp.hadoop_gcs_secrets()
        if secrets:
            hadoop = session.sparkContext._jsc.hadoopConfiguration()
            for key, value in secrets.items():
                hadoop.set(key, value)

    def _connect_session(self):
        host, port = self.connect_address()
        address = f"sc://{host}:{port}"
        try:
            with socket.create_connection((host, port), timeout=CONNECT_PROBE_TIMEOUT_SECONDS):
                pass
        except OSError as error:
            raise SparkConnectUnreachableError(
                f"Spark Connect server at {address} is not reachable ({error}); start it "
                "(sbin/start-connect-server.sh) or fix the resource's remote"
            ) from None
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        if SparkContext._active_spark_context is not None:
            _stop_classic()  # pyspark refuses a Connect session while a classic SparkContext lives in the process
        for existing in _connect_sessions(ConnectSession):
            if _connect_session_address(existing) != (host, port):
                existing.stop()  # another Connect server's session: getOrCreate would hand it back otherwise
        builder = SparkSession.builder.remote(self.remote).appName(self.app_name)
        config = self.effective_config()
        for key, value in config.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        for key, value in config.items():
            session.conf.set(key, value)  # a reused session still gets this resource's SQL settings
        return session

    def get_session(self):
        """The SparkSession for this run, started on first use (a Spark Connect session under ``connect``)."""
        return self.spark_session

    @property
    def spark_session(self) -> Any:
        self._init_session()
        return self._spark_session

    @property
    def spark_context(self) -> Any:
        return self.require_spark_context("spark_context")

    def require_spark_context(self, what: str = "this step"):
        """The SparkContext, for code that needs the RDD API; a clear error under targets that have none."""
        if self.target == "connect":
            raise SparkTargetError(
                f"{what} needs the SparkContext/RDD API, which Spark target 'connect' "
                f"({remote_without_params(self.remote or '')}) does not have: Spark Connect runs DataFrame and SQL code "
                "only. Run it with target 'local' or 'standalone'."
            )
        return self.get_session().sparkContext

    def describe(self) -> dict[str, str]:
        """What to show in run and asset metadata: target, master or Connect address, Spark version, UI address.

        Classic targets: ``spark_ui`` is the driver's Spark UI URL (absent when the UI is disabled). Connect: the
        ``sc://host:port`` address (without parameters such as tokens). Never contains secrets.
        """
        session = self.spark_session
        info = {"spark_target": self.target, "spark_version": str(session.version)}
        if self.target == "connect":
            host, port = self.connect_address()
            info["spark_remote"] = info["spark_ui"] = f"sc://{host}:{port}"
            return info
        sc = session.sparkContext
        info["spark_master"] = str(sc.master)
        info["spark_app_id"] = str(sc.applicationId)
        ui = sc.uiWebUrl
        if ui:
            info["spark_ui"] = str(ui)
        return info


# ---- process-wide session state (one kind of Spark session per process) ---------------------------------------
def remote_without_params(url: str) -> str:
    """An sc:// URL without its ``/;key=value`` parameters (they may hold a token)."""
    return url.split(";", 1)[0].rstrip("/")


def _is_alive(session) -> bool:
    if type(session).__module__.startswith("pyspark.sql.connect"):
        return not session.is_stopped and "SPARK_CONNECT_MODE_ENABLED" in os.environ
    return session._sc._jsc is not None and "SPARK_CONNECT_MODE_ENABLED" not in os.environ


def _stop_classic() -> None:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    session = SparkSession._instantiatedSession
    if session is not None:
        session.stop()
    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()


def _connect_sessions(connect_session_class) -> list:
    sessions = [connect_session_class.getActiveSession(), connect_session_class._get_default_session()]
    unique = {id(s): s for s in sessions if s is not None and not s.is_stopped}
    return list(unique.values())


def _connect_session_address(session) -> Optional[tuple[str, int]]:
    try:
        builder = session.client._builder
        return builder._host, int(builder._port)
    except Exception:  # a private attribute moved in another pyspark: treat as a different server
        return None


def stop_connect_sessions() -> None:
    """Stop every Spark Connect session of this process (before its server goes away, so that pyspark does not
    retry releasing them for minutes at interpreter exit)."""
    if "pyspark.sql.connect.session" in sys.modules:
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        for session in _connect_sessions(ConnectSession):
            session.stop()


def _leave_connect_mode() -> None:
    """Stop any Spark Connect session of this process and switch pyspark back to classic mode.

    pyspark marks a process as Connect with the SPARK_CONNECT_MODE_ENABLED env var, which makes ``functions`` build
    Connect columns and keeps the builder from making classic sessions; stopping a remote session does not unset it.
    """
    stop_connect_sessions()
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
