"""Fixtures for the sources tests: a real local HTTP server with scripted behaviours (``taxi_platform_tests/
http_server.py``), and served test files."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxi_platform_tests.http_server import scripted_http_server
from taxi_platform_tests.sources.helpers import parquet_bytes, trips_table


@pytest.fixture(scope="session")
def http_server():
    """A real HTTP server on 127.0.0.1 (free port) with scripted routes; yields the ``ScriptedServer``."""
    with scripted_http_server("sources-test-http") as state:
        yield state


@pytest.fixture(scope="session")
def files_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("served")


@pytest.fixture(scope="session")
def yellow_parquet(files_dir) -> bytes:
    """A real parquet file of 100 yellow trips (course schema)."""
    return parquet_bytes(trips_table("yellow", 100), files_dir, "yellow.parquet")


@pytest.fixture(scope="session")
def green_parquet(files_dir) -> bytes:
    """A real parquet file of 40 green trips (course schema)."""
    return parquet_bytes(trips_table("green", 40), files_dir, "green.parquet")
