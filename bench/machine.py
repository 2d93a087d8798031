"""What the figures were measured on."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _java() -> str | None:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
        lines = (out.stderr or out.stdout).splitlines()
        return next(line.strip() for line in lines if " version " in line)
    except (OSError, subprocess.SubprocessError, StopIteration):
        return None


def _meminfo_gib() -> float | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def describe() -> dict:
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _meminfo_gib(),
        "load_average_at_start": os.getloadavg(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "java": _java(),
        "versions": {p: _version(p) for p in ("pyspark", "dagster", "dagster-pyspark", "duckdb", "pyarrow", "numpy")},
    }
