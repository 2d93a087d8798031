"""The install is the lock: pyproject.toml and uv.lock agree, the environment holds exactly the locked versions, and
dagster's integration libraries are of dagster's own release line (1.13.N <-> 0.29.N).

No network: `uv lock --check --offline` and `uv export --frozen` read only pyproject.toml and uv.lock.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _uv() -> str:
    uv = shutil.which("uv", path=os.path.dirname(sys.executable)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed in this environment (make install puts it in .venv/bin)")
    return uv


def _run_uv(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_uv(), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "UV_OFFLINE": "1"}
    )


def locked_versions() -> dict[str, str]:
    """{canonical name: version} of every locked package that applies to this interpreter and platform (runtime + dev)."""
    done = _run_uv("export", "--frozen", "--extra", "dev", "--no-hashes", "--no-emit-project", "--format",
                   "requirements-txt", "--no-header", "--no-annotate")
    assert done.returncode == 0, done.stderr
    versions = {}
    for line in done.stdout.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate():
            (spec,) = req.specifier
            versions[canonicalize_name(req.name)] = spec.version
    return versions


def test_lock_is_current_with_pyproject():
    done = _run_uv("lock", "--check", "--offline")
    assert done.returncode == 0, (
        "uv.lock does not satisfy pyproject.toml: run `make lock` and commit both files\n" + done.stderr
    )


def test_lock_check_fails_on_a_stale_lock(tmp_path):
    # The check above must be able to fail: the same project passes, then a requirement the lock lacks fails it.
    for name in ("uv.lock", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)

    def check() -> subprocess.CompletedProcess:
        return subprocess.run([_uv(), "lock", "--check", "--offline"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, env={**os.environ, "UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "c")})

    assert check().returncode == 0
    text = (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(text.replace('"requests>=2.31",', '"requests>=2.31",\n    "tabulate>=0.9",'))
    assert check().returncode != 0


def test_environment_holds_exactly_the_locked_versions():
    locked = locked_versions()
    assert {"dagster", "pyspark", "dagster-pyspark", "dagster-gcp", "pytest"} <= set(locked)
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    wrong = {name: (version, installed.get(name)) for name, version in locked.items() if installed.get(name) != version}
    assert not wrong, f"installed versions differ from uv.lock (locked, installed): {wrong}; run `make install`"


def release_line_mismatches(versions: dict[str, str]) -> list[str]:
    """The dagster* distributions whose version is not of dagster's release line.

    Dagster releases core packages as 1.M.N and integration libraries as 0.(M+16).N on the same day, each integration
    pinning dagster==1.M.N (so dagster 1.13.27 goes with dagster-pyspark 0.29.27).
    """
    major, minor, patch = versions["dagster"].split(".")[:3]
    core, integration = f"{major}.{minor}.{patch}", f"0.{int(minor) + 16}.{patch}"
    wrong = []
    for name, version in sorted(versions.items()):
        if not name.startswith("dagster") or name == "dagster":
            continue
        release = ".".join(re.findall(r"\d+", version)[:3])
        if release not in (core, integration):
            wrong.append(f"{name}=={version} (dagster=={versions['dagster']} needs {core} or {integration})")
    return wrong


def test_dagster_integrations_are_of_dagster_release_line():
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    dagsters = {name: v for name, v in installed.items() if name.startswith("dagster")}
    assert {"dagster", "dagster-pyspark", "dagster-gcp", "dagster-webserver"} <= set(dagsters)
    assert release_line_mismatches(dagsters) == []


def test_release_line_rule_catches_the_reported_backtrack():
    # What an unpinned pip produced (issue 12): dagster 1.13.28 beside dagster-pyspark 0.11.14.
    assert release_line_mismatches({"dagster": "1.13.28", "dagster-pyspark": "0.11.14", "dagster-pipes": "1.13.28"}) == [
        "dagster-pyspark==0.11.14 (dagster==1.13.28 needs 1.13.28 or 0.29.28)"
    ]
    assert release_line_mismatches({"dagster": "1.13.27", "dagster-gcp": "0.29.27", "dagster-webserver": "1.13.27"}) == []
