"""The vacuum_lake job on a local lake: a dead run's commit, staging and superseded versions go; live ones stay."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dagster import Definitions

from taxi_platform.io_managers import local_swap
from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform.defs.lake.vacuum import vacuum_lake
from taxi_platform.resources.spark import SparkResource
from taxi_platform_tests.conftest import REPO_ROOT

KILLED_WRITER = """
import sys, time
from pathlib import Path
from taxi_platform.io_managers import local_swap
staging = local_swap.new_staging_dir(Path(sys.argv[1]), "dead-run")
(staging / "month=2021-01").mkdir(parents=True)
(staging / "month=2021-01" / "part-0.parquet").write_bytes(b"staged by a run that dies")
Path(sys.argv[2]).write_text("ready")
time.sleep(600)
"""


def run_vacuum(lake: Path, **config):
    manager = LakeIOManager(lake_root=str(lake), spark=SparkResource())
    defs = Definitions(jobs=[vacuum_lake], resources={"lake_io_manager": manager, "report_io_manager": manager})
    result = defs.resolve_job_def("vacuum_lake").execute_in_process(
        run_config={"ops": {"vacuum_stores": {"config": config}}})
    assert result.success
    return result.get_step_success_events()[0], result


def test_vacuum_removes_dead_leftovers_and_dry_run_only_lists_them(tmp_path):
    """#14.9: nothing called vacuum; a killed run's staging stayed (and a superseded version, here) until the next
    write of the lake. The job is in the code location's definitions (launchable from the UI)."""
    from taxi_platform.definitions import defs

    assert defs.resolve_job_def("vacuum_lake") is not None
    lake = tmp_path / "lake"
    lake.mkdir()
    ready = tmp_path / "ready"
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(lake), str(ready)], cwd=REPO_ROOT,
                              start_new_session=True)
    try:
        while not ready.exists():
            assert writer.poll() is None
            time.sleep(0.05)
    finally:
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
    retired = lake / local_swap.RETIRED_DIR / f"{local_swap.RETIRED_PREFIX}{time.time_ns() - 7200 * 10**9}-abc"
    retired.mkdir(parents=True)
    (retired / "part-old.parquet").write_bytes(b"a version superseded two hours ago")
    live = local_swap.new_staging_dir(lake, "live-run")  # this process writes: not to be touched
    live.mkdir()
    dead = [p for p in (lake / "_staging").iterdir() if p.name.startswith("dead-run") and p.is_dir()]
    assert len(dead) == 1

    _, result = run_vacuum(lake, grace_hours=1.0, dry_run=True)
    output = next(e for e in result.all_events if e.event_type_value == "STEP_OUTPUT")
    listed = output.event_specific_data.metadata["paths"].value["lake"]
    assert str(dead[0]) in listed and str(retired) in listed
    assert dead[0].exists() and retired.exists()  # a dry run deletes nothing

    run_vacuum(lake, grace_hours=1.0)
    assert not dead[0].exists() and not retired.exists()
    assert live.exists()
    assert sorted(p.name for p in (lake / "_staging").iterdir()) == sorted([live.name, live.name + ".lock"])
    local_swap.release_staging(live)
