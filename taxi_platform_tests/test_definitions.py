"""The code location loads (fast, no JVM), validates through the dagster CLI, and switches deployment by env var."""

import subprocess
from pathlib import Path
import sys
from datetime import datetime, timezone

import pytest

from taxi_platform.partitions import month_bounds, monthly_partitions, parse_month
from taxi_platform.reference import MAX_ZONE_ID, load_zone_lookup
from taxi_platform.resources.deployments import resources_for
from taxi_platform.schemas import REVENUE_MONTHLY_ZONE_SCHEMA, TRIPS_COLUMNS, TRIPS_SCHEMA

from .conftest import REPO_ROOT


# Libraries only assets, checks and IO managers use at run time: loading the definitions (every `dagster dev`, daemon
# and run process does) must not import them (pandas alone is ~0.6 s; see bench/probes.py for the load time).
RUN_TIME_ONLY_LIBRARIES = ("pandas", "numpy", "pyarrow", "matplotlib", "dagster_pyspark")


def test_definitions_load_without_starting_spark():
    code = (
        "import os, sys;"
        "import taxi_platform.definitions as d; d.defs.resolve_asset_graph();"
        f"loaded = [m for m in {RUN_TIME_ONLY_LIBRARIES!r} if m in sys.modules];"
        "from pyspark import SparkContext; import pyspark.sql as s;"
        "assert SparkContext._active_spark_context is None, 'a SparkContext started at import';"
        "kids = open(f'/proc/{os.getpid()}/task/{os.getpid()}/children').read().split();"
        "assert not kids, f'child processes at import: {kids}';"
        "print('loaded=' + ','.join(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "loaded=", f"imported while loading the definitions: {out.stdout}"


def test_dagster_cli_validates_the_workspace():
    dagster = REPO_ROOT / ".venv" / "bin" / "dagster"
    cmd = [str(dagster)] if dagster.exists() else [sys.executable, "-m", "dagster"]
    out = subprocess.run(cmd + ["definitions", "validate", "-w", "workspace.yaml"], capture_output=True, text=True,
                         cwd=REPO_ROOT, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Validation successful" in out.stdout + out.stderr


def test_dg_check_defs_passes():
    """`dg check defs` (dagster-dg-cli, [tool.dg] in pyproject.toml) loads the project's definitions."""
    dg = REPO_ROOT / ".venv" / "bin" / "dg"
    if not dg.exists():
        pytest.skip("dagster-dg-cli is not installed (it is in the dev extra: make install)")
    out = subprocess.run([str(dg), "check", "defs"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "All definitions loaded successfully" in out.stdout + out.stderr


def test_monthly_assets_run_a_backfill_as_one_run():
    """Keys, groups, checks and jobs are in the snapshot (test_definitions_snapshot.py); the run shape is here."""
    from taxi_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.materializable_asset_keys:
        node = graph.get(key)
        if key.to_user_string() != "ref/taxi_zones":
            assert node.partitions_def == monthly_partitions
            assert node.backfill_policy is not None and node.backfill_policy.max_partitions_per_run is None
    monthly = {k.to_user_string() for k in defs.resolve_job_def("monthly_revenue").asset_layer.executable_asset_keys}
    assert "reports/hourly_revenue_by_zone" not in monthly and "reports/revenue_monthly_zone" in monthly


def test_monthly_partitions_run_from_2019_01_to_the_current_month():
    keys = monthly_partitions.get_partition_keys()
    assert keys[0] == "2019-01"
    assert keys[-1] == datetime.now(timezone.utc).strftime("%Y-%m")
    assert month_bounds("2021-12") == (datetime(2021, 12, 1), datetime(2022, 1, 1))
    with pytest.raises(ValueError, match="not a month key: '2021-1-01'"):
        parse_month("2021-1-01")


def test_deployment_is_chosen_by_one_env_var_and_configured_from_env():
    resources = resources_for(env={"TAXI_LAKE_ROOT": "/tmp/somewhere", "TAXI_SOURCE": "tlc", "TAXI_SPARK_MASTER": "local[3]"})
    assert set(resources) == {"spark", "lake_io_manager", "report_io_manager", "sources"}
    assert resources["report_io_manager"] is resources["lake_io_manager"]  # local: reports are parquet in the lake
    assert resources["lake_io_manager"].lake_root == "/tmp/somewhere"
    assert resources["sources"].kind == "tlc"
    assert resources["spark"].master == "local[3]"
    defaults = resources_for(env={})
    assert (defaults["lake_io_manager"].lake_root, defaults["sources"].kind) == ("data/lake", "sample")
    with pytest.raises(ValueError, match="TAXI_PLATFORM_DEPLOYMENT='moon' is not a deployment"):
        resources_for(env={"TAXI_PLATFORM_DEPLOYMENT": "moon"})


def test_contracts_match_the_course():
    assert len(TRIPS_COLUMNS) == 18 and TRIPS_SCHEMA[-1] == ("service_type", "string")
    assert [n for n, _ in REVENUE_MONTHLY_ZONE_SCHEMA][:3] == ["revenue_zone", "revenue_month", "service_type"]
    assert not any("montly" in n for n, _ in REVENUE_MONTHLY_ZONE_SCHEMA)


def test_shipped_zone_lookup_is_the_public_table():
    zones = load_zone_lookup()
    ids = zones.column("LocationID").to_pylist()
    assert zones.num_rows == 265 and ids == list(range(1, 266)) and max(ids) == MAX_ZONE_ID
    from .conftest import SHARED_DATA, require_shared

    shared = require_shared(SHARED_DATA / "taxi_zone_lookup.csv")
    assert (REPO_ROOT / "taxi_platform" / "data" / "taxi_zone_lookup.csv").read_bytes() == shared.read_bytes()


def test_every_asset_has_owners_and_a_code_reference_to_its_function():
    from taxi_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners and all(o.startswith("team:") or "@" in o for o in node.owners), key
        references = node.metadata["dagster/code_references"].code_references
        for reference in references:
            if hasattr(reference, "file_path"):  # a local reference: the file and line exist
                lines = Path(reference.file_path).read_text().splitlines()
                assert reference.line_number <= len(lines), (key, reference)
            else:  # linked to the git host (a remote is configured)
                assert reference.url.startswith("https://") and "@" not in reference.url, (key, reference)


def test_code_references_link_to_the_git_host_when_a_remote_is_configured():
    from dagster import UrlCodeReference

    from taxi_platform.defs.metadata import _https, declared, source_control
    from taxi_platform.defs.revenue.core import trips
    from taxi_platform.defs.revenue.sources import build_source_asset

    linked = declared([trips, build_source_asset("green")], ["team:x"], git=("https://github.com/acme/taxi", "main"))
    urls = [r.url for a in linked for spec in a.specs for r in spec.metadata["dagster/code_references"].code_references
            if isinstance(r, UrlCodeReference)]
    assert any(u.startswith("https://github.com/acme/taxi/tree/main/taxi_platform/defs/revenue/core.py#L") for u in urls)
    assert any("/taxi_platform/defs/revenue/sources.py#L" in u for u in urls)
    assert _https("git@github.com:acme/taxi.git") == "https://github.com/acme/taxi"
    assert _https("https://user:s3cret@gitlab.example.com/acme/taxi.git") == "https://gitlab.example.com/acme/taxi"
    assert source_control({"TAXI_GIT_URL": "git@github.com:acme/taxi.git", "TAXI_GIT_BRANCH": "dev"}) == (
        "https://github.com/acme/taxi", "dev")


def test_every_contract_column_has_a_description_in_the_ui_column_table():
    from taxi_platform.definitions import defs
    from taxi_platform.schemas import COLUMN_DESCRIPTIONS, COURSE_SCHEMAS, column_description

    graph = defs.resolve_asset_graph()
    without_schema = set()
    for key in graph.get_all_asset_keys():
        schema = graph.get(key).metadata.get("dagster/column_schema")
        if schema is None:
            without_schema.add(key.to_user_string())
            continue
        missing = [c.name for c in schema.columns if not c.description]
        assert not missing, (key, missing)
    # every dataset has a contract but raw (as published) and the observed sources, for each of the four taxi types
    assert without_schema == {f"{layer}/{t}_trips" for layer in ("raw", "source")
                              for t in ("green", "yellow", "fhv", "fhvhv")}
    for contract in COURSE_SCHEMAS.values():  # the published columns too
        assert all(column_description(name) for name, _ in contract)
    with pytest.raises(KeyError, match="no description for column 'nope'"):
        column_description("nope")
    assert len(COLUMN_DESCRIPTIONS) > 80
