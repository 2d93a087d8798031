"""A real `dagster dev` (webserver + daemon + code server) on a free loopback port, for the UI tests.

`dagster dev` rather than `dagster-webserver` alone: runs launched from the UI are queued (the daemon dequeues them)
and asset backfills are turned into runs by the daemon's backfill loop, so a webserver without a daemon would leave
both waiting forever. `make dev` starts the same command.

Everything runs against a throw-away instance (DAGSTER_HOME with its own dagster.yaml: one run at a time, no
telemetry, no first-visit dialog), a temporary lake, the sample source at a small volume, and a light local Spark.
Every process of the tree (webserver, daemon, code server, run workers, their Spark JVMs) inherits a marker
environment variable, so the test can find them all, even a JVM whose run worker already exited, and prove that
none is left after the server stops.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from taxi_platform_tests.conftest import REPO_ROOT

LOCATION = "taxi_platform"
REPOSITORY = "__repository__"
MARKER_VAR = "TAXI_PLATFORM_UI_TEST_MARKER"

INSTANCE_YAML = """\
# written by taxi_platform_tests/ui: a throw-away instance for one test module
telemetry:
  enabled: false
nux:
  enabled: false
concurrency:
  runs:
    # one Spark run at a time (one Spark JVM on a 2-core machine); the test's light runs (observing the sources,
    # the freshness check: no Spark) go beside it instead of queueing behind it
    max_concurrent_runs: 2
    tag_concurrency_limits:
      - key: "{spark_tag}"
        limit: 1
"""
SPARK_RUN_TAG = "taxi_platform_tests/spark"  # the test tags its Spark runs (and its backfill) with it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Process:
    pid: int
    state: str
    cmdline: str

    def __str__(self) -> str:
        return f"{self.pid} [{self.state}] {self.cmdline[:160]}"


def processes_with_marker(marker: str) -> list[Process]:
    """Live processes (zombies excluded: they have exited) whose environment carries ``MARKER_VAR=marker``."""
    needle = f"{MARKER_VAR}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        if state != "Z":
            found.append(Process(int(entry.name), state, cmdline))
    return found


class DagsterDev:
    """Start with ``start()``, talk GraphQL with ``gql()``, stop with ``stop()`` (returns what was left behind)."""

    def __init__(self, workdir: Path, *, sample_rows: int = 2000, extra_env: dict[str, str] | None = None):
        self.workdir = workdir
        self.home = workdir / "dagster_home"
        self.lake = workdir / "lake"
        self.log_path = workdir / "dagster-dev.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.marker = uuid.uuid4().hex
        self.process: subprocess.Popen | None = None
        self.http = requests.Session()
        self.http.trust_env = False  # never through a proxy: the server is on 127.0.0.1
        self.sample_rows = sample_rows
        self.extra_env = dict(extra_env or {})  # TAXI_* settings a test needs on top of the defaults below

    # ---- lifecycle ------------------------------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TAXI_", "DAGSTER_", "PYSPARK_", "SPARK_"))}
        env.update(
            DAGSTER_HOME=str(self.home),
            TAXI_PLATFORM_DEPLOYMENT="local",
            TAXI_LAKE_ROOT=str(self.lake),
            TAXI_SOURCE="sample",
            TAXI_SAMPLE_ROWS=str(self.sample_rows),
            TAXI_SAMPLE_SEED="7",
            TAXI_SPARK_MASTER="local[2]",
            TAXI_SPARK_DRIVER_MEMORY="1g",
            SPARK_LOCAL_IP="127.0.0.1",
            # a lighter session for tiny months: no Spark UI (no web server, no port)
            PYSPARK_SUBMIT_ARGS="--conf spark.ui.enabled=false pyspark-shell",
            NO_GCE_CHECK="True",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            **{MARKER_VAR: self.marker},
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 180.0) -> None:
        self.home.mkdir(parents=True)
        (self.home / "dagster.yaml").write_text(INSTANCE_YAML.replace("{spark_tag}", SPARK_RUN_TAG))
        self.lake.mkdir(parents=True)
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=REPO_ROOT,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a last-resort kill cannot reach anything else
            # dagster dev maps SIGTERM to the SIGINT handler: a SIGINT ignored by a parent shell would make it deaf
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        log.close()
        self._wait_until_loaded(timeout)

    def _wait_until_loaded(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                data = self.gql(
                    "{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus "
                    "locationOrLoadError { __typename ... on PythonError { message } } } } } }",
                    timeout=5,
                )
                entries = data["workspaceOrError"].get("locationEntries") or []
                entry = next((e for e in entries if e["name"] == LOCATION), None)
                if entry and entry["loadStatus"] == "LOADED":
                    error = entry["locationOrLoadError"]
                    if error["__typename"] == "PythonError":
                        raise RuntimeError(f"the code location failed to load: {error['message']}")
                    return
                last = f"location: {entry}"
            except (requests.RequestException, KeyError, ValueError) as e:
                last = f"{type(e).__name__}: {e}"
            time.sleep(0.5)
        raise TimeoutError(f"dagster dev at {self.url} not ready after {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def stop(self, term_timeout: float = 60.0, leftover_timeout: float = 20.0) -> list[Process]:
        """SIGTERM the `dagster dev` process (it shuts its webserver, daemon and code server down), SIGKILL its
        process group after ``term_timeout``; then wait for every marked process to be gone. Returns the processes
        still alive after that (killed by PID before returning, so nothing outlives the test)."""
        if self.process is None:
            return []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=term_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        deadline = time.monotonic() + leftover_timeout
        while (left := processes_with_marker(self.marker)) and time.monotonic() < deadline:
            time.sleep(0.5)
        for process in left:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.http.close()
        return left

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # ---- GraphQL --------------------------------------------------------------------------------------------
    def gql(self, query: str, timeout: float = 60.0, **variables):
        response = self.http.post(f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=timeout)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]
