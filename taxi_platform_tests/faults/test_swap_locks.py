"""Recovery tells a live write of another process from a dead one (no Spark: plain processes and folders, ~2 s).

A writer process stages a new version of a month and stops inside its swap (old version in ``_trash``, new one still
staged). While it lives, ``recover`` from another process must leave its swap and staging alone (rolling it back would
break the live run); once it is SIGKILLed, ``recover`` puts the old version back and removes the dead staging.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from taxi_platform.io_managers import local_swap
from taxi_platform_tests.conftest import REPO_ROOT

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from taxi_platform.io_managers import local_swap
    from taxi_platform_tests.faults.run_month import pause_inside_swap

    lake, paused = Path(sys.argv[1]), sys.argv[2]
    destination = lake / "clean/green_trips/month=2021-01"
    pause_inside_swap(str(destination), paused)
    staging = local_swap.new_staging_dir(lake, "run-x")
    (staging / "month=2021-01").mkdir(parents=True)
    (staging / "month=2021-01" / "part-new.parquet").write_text("new")
    local_swap.swap(lake, staging / "month=2021-01", destination)
""")


def tree(lake: Path) -> list[str]:
    return sorted(str(p.relative_to(lake)) for p in lake.rglob("*"))


def test_recover_spares_a_live_swap_and_undoes_it_once_its_process_is_killed(tmp_path):
    lake = tmp_path / "lake"
    month = lake / "clean/green_trips/month=2021-01"
    month.mkdir(parents=True)
    (month / "part-old.parquet").write_text("old")
    paused = tmp_path / "paused"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(lake), str(paused)], cwd=REPO_ROOT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not paused.exists():
            assert writer.poll() is None and time.monotonic() < deadline, "the writer did not reach its swap"
            time.sleep(0.02)
        during = tree(lake)
        assert not month.exists()  # the crash window: old version in _trash, the new one still staged
        assert any(p.endswith(".json") for p in during) and any(p.endswith(".lock") for p in during)

        # another process (this one) recovering while the writer lives: nothing is touched
        assert local_swap.recover(lake) == []
        assert tree(lake) == during

        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
    finally:
        if writer.poll() is None:
            os.killpg(writer.pid, signal.SIGKILL)
            writer.wait(timeout=10)

    # the writer is dead: its swap is rolled back and its staging removed
    assert local_swap.recover(lake) == [str(month)]
    assert [p.name for p in month.iterdir()] == ["part-old.parquet"]
    assert (month / "part-old.parquet").read_text() == "old"
    assert tree(lake) == ["_staging", "_trash", "clean", "clean/green_trips", "clean/green_trips/month=2021-01",
                          "clean/green_trips/month=2021-01/part-old.parquet"]


def test_staging_of_a_live_write_survives_recovery_and_goes_with_its_release(tmp_path):
    """In one process too: a staging folder in use is not "stale", whatever its age; released, it is gone."""
    lake = tmp_path / "lake"
    staging = local_swap.new_staging_dir(lake, "run-y")
    staging.mkdir()
    (staging / "part.parquet").write_text("x")
    old = time.time() - 2 * local_swap.STALE_STAGING_SECONDS
    os.utime(staging, (old, old))
    local_swap.recover(lake)
    assert (staging / "part.parquet").exists()
    local_swap.release_staging(staging)
    assert list((lake / local_swap.STAGING_DIR).iterdir()) == []
