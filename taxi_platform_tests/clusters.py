"""Real Spark clusters for tests, started from the installed pyspark wheel (no mocks, nothing beyond 127.0.0.1).

- :class:`StandaloneCluster`: a standalone master + one worker (``--cores 1 --memory 1g``), started with
  ``sbin/spark-daemon.sh`` on free ports; ready when the master's ``/json/`` shows one alive worker.
- :class:`ConnectServer`: a Spark Connect server (``sbin/start-connect-server.sh --master local[2]``) on a free port;
  ready when its gRPC port accepts connections.

Every daemon runs with ``SPARK_LOCAL_IP=127.0.0.1``, its logs, PID files and work dirs under one temp dir, an empty
``SPARK_CONF_DIR`` (no user settings leak in) and a marker env var (``TAXI_TEST_SPARK_DAEMONS=<id>``) that every
process it spawns inherits (executors, Python workers). ``stop()`` stops each daemon by PID (``spark-daemon.sh stop``
with the same ``SPARK_PID_DIR``, then ``kill -9`` of any survivor by PID) and ``leftover_processes()`` finds any
process still carrying the marker, so a test session can prove nothing was left behind. An ``atexit`` hook stops
whatever a crashed session did not. If startup fails, the error carries the tail of every log.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pyspark

SPARK_HOME = Path(pyspark.__file__).resolve().parent
MARKER_ENV_VAR = "TAXI_TEST_SPARK_DAEMONS"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
CONNECT_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
IDENT = "taxitest"  # SPARK_IDENT_STRING: names the PID files

_live: list["SparkDaemons"] = []


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (bind to port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def processes_with_env(name: str, value: str) -> list[int]:
    """PIDs of live processes whose environment holds ``name=value``."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(url: str, timeout: float = 2.0):
    with _NO_PROXY.open(url, timeout=timeout) as response:
        return json.loads(response.read().decode())


class ClusterStartError(RuntimeError):
    pass


class SparkDaemons:
    """Spark daemons (by main class) under one base dir; stopped by PID."""

    def __init__(self, base: Path, java_heap: str = "512m"):
        self.base = Path(base)
        self.id = uuid.uuid4().hex[:12]
        self.logs, self.pids, self.work, self.conf = (self.base / n for n in ("logs", "pids", "work", "conf"))
        for folder in (self.logs, self.pids, self.work, self.conf):
            folder.mkdir(parents=True, exist_ok=True)
        self.java_heap = java_heap
        self.started: dict[str, int] = {}  # main class -> PID
        self.stopped = False

    # ---- environment -----------------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
        env.update(
            SPARK_HOME=str(SPARK_HOME),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOG_DIR=str(self.logs),
            SPARK_PID_DIR=str(self.pids),
            SPARK_WORKER_DIR=str(self.work),
            SPARK_CONF_DIR=str(self.conf),
            SPARK_IDENT_STRING=IDENT,
            SPARK_DAEMON_MEMORY=self.java_heap,
            PYSPARK_PYTHON=sys.executable,  # executors' Python workers: the test venv
            NO_GCE_CHECK="True",
            **{MARKER_ENV_VAR: self.id},
        )
        return env

    def pid_file(self, main_class: str) -> Path:
        return self.pids / f"spark-{IDENT}-{main_class}-1.pid"

    # ---- start -----------------------------------------------------------------------------------------------
    def launch(self, mode: str, main_class: str, *args: str) -> subprocess.Popen:
        """Run ``spark-daemon.sh <mode> <class> 1 args...`` (it returns once the JVM is up, ~2.5 s)."""
        if self not in _live:
            _live.append(self)
        script = SPARK_HOME / "sbin" / "spark-daemon.sh"
        return subprocess.Popen(
            ["bash", str(script), mode, main_class, "1", *args],
            env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    def record(self, main_class: str, launcher: subprocess.Popen) -> int:
        out, _ = launcher.communicate(timeout=120)
        pid_file = self.pid_file(main_class)
        if not pid_file.exists():
            raise ClusterStartError(f"{main_class} did not start:\n{out}\n{self.log_tails()}")
        pid = int(pid_file.read_text().strip())
        self.started[main_class] = pid
        if not pid_alive(pid):
            raise ClusterStartError(f"{main_class} (pid {pid}) died at start:\n{out}\n{self.log_tails()}")
        return pid

    def wait_until(self, ready, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [f"{c} (pid {p})" for c, p in self.started.items() if not pid_alive(p)]
            if dead:
                raise ClusterStartError(f"{', '.join(dead)} died while waiting for {what}\n{self.log_tails()}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise ClusterStartError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.log_tails()}")

    def log_tails(self, lines: int = 30) -> str:
        parts = []
        for log in sorted(self.logs.glob("*")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log} (last {len(tail)} lines) ---\n" + "\n".join(tail))
        return "\n".join(parts) or f"(no logs in {self.logs})"

    # ---- stop ------------------------------------------------------------------------------------------------
    def stop(self, timeout: float = 20.0) -> None:
        """Stop every daemon by PID: ``spark-daemon.sh stop`` (SIGTERM), wait, then SIGKILL survivors by PID."""
        if self.stopped:
            return
        self.stopped = True
        script = SPARK_HOME / "sbin" / "spark-daemon.sh"
        for main_class in reversed(list(self.started)):
            subprocess.run(["bash", str(script), "stop", main_class, "1"], env=self.env(), capture_output=True,
                           timeout=60)
        # children of the daemons (executors, Python workers) carry the marker too
        pids = set(self.started.values()) | set(processes_with_env(MARKER_ENV_VAR, self.id))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
            time.sleep(0.2)
        for pid in pids:
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
            time.sleep(0.1)
        if self in _live:
            _live.remove(self)

    def leftover_processes(self) -> list[int]:
        """PIDs of this fixture's processes still alive (the daemons and anything that inherited the marker)."""
        alive = {p for p in self.started.values() if pid_alive(p)}
        return sorted(alive | set(processes_with_env(MARKER_ENV_VAR, self.id)))


class StandaloneCluster(SparkDaemons):
    """A real standalone master + one worker on free loopback ports."""

    def __init__(self, base: Path, worker_cores: int = 1, worker_memory: str = "1g"):
        super().__init__(base)
        self.worker_cores, self.worker_memory = worker_cores, worker_memory
        self.master_port, self.master_ui_port = free_port(), free_port()
        self.worker_port, self.worker_ui_port = free_port(), free_port()

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.master_ui_port}"

    def state(self) -> dict:
        """The master's /json/ (workers, alive workers, applications)."""
        return http_json(f"{self.ui_url}/json/")

    def env(self) -> dict[str, str]:
        env = super().env()
        env["SPARK_MASTER_OPTS"] = "-Dspark.master.rest.enabled=false"  # no fixed REST port 6066
        return env

    def start(self, timeout: float = 90.0) -> "StandaloneCluster":
        started = time.monotonic()
        master = self.launch("start", MASTER_CLASS, "--host", "127.0.0.1", "--port", str(self.master_port),
                             "--webui-port", str(self.master_ui_port))
        # the worker retries registering until the master is up: launch both at once (spark-daemon.sh waits ~2.5 s)
        worker = self.launch("start", WORKER_CLASS, "--host", "127.0.0.1", "--port", str(self.worker_port),
                             "--webui-port", str(self.worker_ui_port), "--cores", str(self.worker_cores),
                             "--memory", self.worker_memory, "--work-dir", str(self.work), self.master_url)
        self.record(MASTER_CLASS, master)
        self.record(WORKER_CLASS, worker)
        self.wait_until(lambda: self.state().get("aliveworkers") == 1, f"a worker to register at {self.ui_url}",
                        timeout)
        self.startup_seconds = round(time.monotonic() - started, 1)
        return self


class ConnectServer(SparkDaemons):
    """A real Spark Connect server (``--master local[2]``) on a free loopback port."""

    def __init__(self, base: Path, master: str = "local[2]", driver_memory: str = "1g"):
        # spark-submit sizes the Connect server's JVM (its driver) with SPARK_DAEMON_MEMORY, as for other daemons
        super().__init__(base, java_heap=driver_memory)
        self.master, self.driver_memory = master, driver_memory
        self.port = free_port()

    @property
    def remote(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> "ConnectServer":
        started = time.monotonic()
        conf = {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            # the server writes the lake: same no-.crc file system as the classic targets (resources/spark.py)
            "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
            "spark.default.parallelism": "2",
            "spark.ui.showConsoleProgress": "false",
        }
        args = ["--name", "Spark Connect server", "--master", self.master, "--driver-memory", self.driver_memory]
        for key, value in conf.items():
            args += ["--conf", f"{key}={value}"]
        # what sbin/start-connect-server.sh runs (it execs spark-daemon.sh submit <class> 1 --name ... "$@")
        self.record(CONNECT_CLASS, self.launch("submit", CONNECT_CLASS, *args))
        self.wait_until(lambda: port_open(self.port), f"Spark Connect at {self.remote}", timeout)
        self.startup_seconds = round(time.monotonic() - started, 1)
        return self


def _stop_all_at_exit() -> None:
    for daemons in list(_live):
        try:
            daemons.stop()
        except Exception:
            pass


atexit.register(_stop_all_at_exit)


def spark_submit_env() -> dict[str, str]:
    """The environment for ``bin/spark-submit`` of a job script against a fixture cluster."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
    env.update(SPARK_HOME=str(SPARK_HOME), SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable,
               PYSPARK_DRIVER_PYTHON=sys.executable, NO_GCE_CHECK="True")
    return env


def spark_submit_path() -> str:
    return str(SPARK_HOME / "bin" / "spark-submit")


__all__ = [
    "ClusterStartError", "ConnectServer", "SparkDaemons", "StandaloneCluster", "free_port", "port_open",
    "processes_with_env", "spark_submit_env", "spark_submit_path",
]
