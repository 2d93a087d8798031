"""Recovery tells a live write from a dead one by its lock, not by its age (no Spark).

(A live commit of another process spared, then rolled back once SIGKILLed: ``io_managers/test_local_commits.py``.)
"""

import os
import time

from taxi_platform.io_managers import local_swap


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
