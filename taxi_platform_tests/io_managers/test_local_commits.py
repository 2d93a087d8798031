"""The local store's commits with real files, processes and filesystems (no Spark; seconds).

Each test reproduces one way the store used to lose or hide a month (issue #14: 2, 3, 4, 5, 6, 7, 11) and asserts
the month whole afterwards, read the way a plain parquet reader reads it (a listing of ``*.parquet``).
"""

import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.io_managers import local_swap
from taxi_platform.io_managers.commits import Publish
from taxi_platform.io_managers.errors import CommitError, LakeError
from taxi_platform.io_managers.local_swap import LocalStore
from taxi_platform_tests.conftest import REPO_ROOT
from taxi_platform_tests.io_managers.test_store_promises import plain_read, write_version

MONTH = "clean/green_trips/month=2021-01"
QUARANTINE = "quarantine/green_trips/month=2021-01"


def stage(store: LocalStore, tag: str, rows: int, name: str = "month=2021-01") -> tuple[Path, Path]:
    staging = Path(store.new_staging(tag))
    write_version(staging / name, tag, rows)
    return staging, staging / name


def publish(store, staged: Path, dest: str, rows=None, what="clean/green_trips 2021-01"):
    store.publish_all([Publish(str(staged), str(store.root / dest), what, rows)], "test")


@pytest.fixture
def store(tmp_path):
    return LocalStore(str(tmp_path / "lake"))


def test_a_staged_month_removed_under_the_write_is_refused_not_published_empty(store):
    """#14.2: the writer produced 10 rows; the staged month is gone (another host's recovery): error, old month kept."""
    staging, staged = stage(store, "old", 10)
    publish(store, staged, MONTH, 10)
    staging, staged = stage(store, "new", 10)
    shutil.rmtree(staged)
    with pytest.raises(CommitError, match=r"clean/green_trips 2021-01: .* gone but the write produced 10 rows"):
        publish(store, staged, MONTH, 10)
    shutil.rmtree(staging)
    staging, staged = stage(store, "short", 10)
    (staged / "part-short-1.parquet").unlink()  # a file lost: 5 rows left of 10
    with pytest.raises(CommitError, match=r"holds 5 rows but the write produced 10"):
        publish(store, staged, MONTH, 10)
    assert plain_read(store.root / MONTH) == ["old"] * 10


def test_a_failed_swap_is_rolled_back_at_once_for_every_output(store, tmp_path):
    """#14.6 and #14.7: clean + quarantine in one commit; the second swap fails for real (EXDEV: staged on another
    filesystem). Both folders keep their old version, immediately (no later recovery needed), and the error names
    the dataset, the month and the OS error."""
    other_device = Path("/dev/shm")
    if not other_device.is_dir() or os.stat(other_device).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's temporary folder")
    for dest, tag in ((MONTH, "old-clean"), (QUARANTINE, "old-q")):
        staging, staged = stage(store, tag, 4)
        publish(store, staged, dest, 4)
    staging, clean = stage(store, "new-clean", 6)
    elsewhere = Path(f"/dev/shm/lake-test-{uuid.uuid4().hex[:8]}")
    try:
        write_version(elsewhere / "month=2021-01", "new-q", 2)
        items = [Publish(str(clean), str(store.root / MONTH), "clean/green_trips 2021-01", 6),
                 Publish(str(elsewhere / "month=2021-01"), str(store.root / QUARANTINE), "quarantine/green_trips 2021-01", 2)]
        with pytest.raises(CommitError, match=r"quarantine/green_trips 2021-01: could not replace .* \(EXDEV: "):
            store.publish_all(items, "test")
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)
    assert plain_read(store.root / MONTH) == ["old-clean"] * 4
    assert plain_read(store.root / QUARANTINE) == ["old-q"] * 4
    assert plain_read(clean) == ["new-clean"] * 6  # the new version is back in staging, dropped with it


def test_hidden_and_underscore_files_are_not_data(store):
    """#14.11: the platform lists a folder's data files as Spark, pyarrow and DuckDB do."""
    staging, staged = stage(store, "v", 4)
    pq.write_table(pa.table({"tag": ["junk"]}), staged / "_x.parquet")
    pq.write_table(pa.table({"tag": ["junk"]}), staged / ".x.parquet")
    publish(store, staged, MONTH, 4)
    assert [Path(f).name for f in store.files(str(store.root / MONTH))] == ["part-v-0.parquet", "part-v-1.parquet"]


def test_a_lake_root_with_glob_characters_is_refused_clearly(tmp_path):
    """#14.11: Spark takes []{} in a path as a glob (PATH_NOT_FOUND); refused when the store is built."""
    from taxi_platform.io_managers.lake import LakeIOManager

    for name in ("lake[1]", "lake{a}"):
        with pytest.raises(LakeError, match=r"contains one of \[\]\{\}\*\?\\: Spark reads such a path as a glob"):
            LocalStore(str(tmp_path / name))
        with pytest.raises(Exception, match=r"contains one of .*: Spark reads such a path as a glob"):
            LakeIOManager(lake_root=str(tmp_path / name), spark=None)  # the definitions do not load


# ---- real processes -------------------------------------------------------------------------------------------
WRITER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from taxi_platform.io_managers import local_swap
from taxi_platform.io_managers.commits import Publish
from taxi_platform.io_managers.local_swap import LocalStore
from test_local_commits import stage, write_version

store = LocalStore(sys.argv[1])
mode = sys.argv[2]
if mode == "pause":  # commit clean + quarantine, stop after the first swap and wait for SIGKILL
    real = local_swap._swap_in
    calls = []
    def swap_in(item):
        if calls:
            Path(sys.argv[3]).write_text("paused")
            time.sleep(600)
        calls.append(item)
        return real(item)
    local_swap._swap_in = swap_in
    s1, clean = stage(store, "new-clean", 6)
    s2, q = stage(store, "new-q", 2)
    store.publish_all([Publish(str(clean), str(store.root / {month!r}), "clean", 6),
                       Publish(str(q), str(store.root / {quarantine!r}), "quarantine", 2)], "w")
else:  # rewrite the month N times, alternating two versions
    for n in range(int(sys.argv[3])):
        tag = f"v{{n}}"
        staging, staged = stage(store, tag, 8, )
        store.publish_all([Publish(str(staged), str(store.root / {month!r}), "clean", 8)], "w")
        store.discard(str(staging))
    Path(sys.argv[4]).write_text("done")
""".format(tests=str(Path(__file__).parent), month=MONTH, quarantine=QUARANTINE)


def start_writer(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, *map(str, args)], cwd=REPO_ROOT, start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the writer did not get there"
        time.sleep(0.01)


def test_readers_never_see_the_month_missing_or_mixed_during_rewrites(store, tmp_path):
    """#14.4: a writer process rewrites the month 100 times; a reader lists and reads it as fast as it can."""
    staging, staged = stage(store, "first", 8)
    publish(store, staged, MONTH, 8)
    done = tmp_path / "done"
    writer = start_writer(store.root, "rewrite", 100, done)
    reads = missing = mixed = 0
    try:
        while not done.exists() and writer.poll() is None:
            listed = store.files(str(store.root / MONTH))
            if not listed:
                missing += 1
                continue
            if len({Path(f).name.split("-")[1] for f in listed}) != 1:
                mixed += 1
            try:
                rows = sum(pq.ParquetFile(f).metadata.num_rows for f in listed)
                assert rows == 8
            except FileNotFoundError:
                pass  # the listing was replaced whole by the next version before the footers were read
            reads += 1
        writer.wait(timeout=60)
    finally:
        kill(writer)
    assert writer.returncode == 0 and done.exists()
    assert reads > 50 and missing == 0 and mixed == 0, (reads, missing, mixed)


def nfs_flock(real_flock):
    """flock as the Linux NFS client does it: emulated by a POSIX lock, which needs a descriptor open for writing."""

    def flock(fd, operation):
        if operation & fcntl.LOCK_EX and (fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE) == os.O_RDONLY:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        return real_flock(fd, operation)

    return flock


def test_a_commit_killed_between_its_outputs_is_rolled_back_by_the_next_writer_on_nfs(store, tmp_path, monkeypatch):
    """#14.7 and #14.3: a writer SIGKILLed after swapping clean, before quarantine. While it lives recovery leaves it
    alone; once dead, recovery (with NFS's lock rule: EBADF for a lock on a read-only descriptor) puts the old clean
    back at once, not after the 6-hour age rule, so the step's outputs are both old."""
    for dest, tag in ((MONTH, "old-clean"), (QUARANTINE, "old-q")):
        staging, staged = stage(store, tag, 4)
        publish(store, staged, dest, 4)
    paused = tmp_path / "paused"
    writer = start_writer(store.root, "pause", paused)
    try:
        wait_for(paused, writer)
        assert plain_read(store.root / MONTH) == ["new-clean"] * 6  # mid-commit: clean swapped, quarantine not yet
        monkeypatch.setattr(local_swap.fcntl, "flock", nfs_flock(fcntl.flock))
        assert store.recover() == []  # a live commit is not touched
        assert plain_read(store.root / MONTH) == ["new-clean"] * 6
    finally:
        kill(writer)
    assert store.recover() == [str(store.root / MONTH)]
    assert plain_read(store.root / MONTH) == ["old-clean"] * 4
    assert plain_read(store.root / QUARANTINE) == ["old-q"] * 4
    # the dead writer's staging and journal are gone (the "old-*" staging is this live test process's own)
    assert not [p for p in (store.root / "_staging").iterdir() if p.name.startswith("new-")]
    assert not list((store.root / "_trash").glob("*.json"))


def test_reads_need_no_write_access_on_a_read_only_mount(store, tmp_path):
    """#14.5: a killed run left staging and a journal; a reader on a read-only mount of the lake reads the month."""
    for dest, tag in ((MONTH, "old-clean"), (QUARANTINE, "old-q")):
        staging, staged = stage(store, tag, 4)
        publish(store, staged, dest, 4)
    paused = tmp_path / "paused"
    writer = start_writer(store.root, "pause", paused)
    try:
        wait_for(paused, writer)
    finally:
        kill(writer)
    assert list((store.root / "_trash").glob("*.json"))  # the dead commit's journal is there
    reader = (
        "import sys; from dagster import AssetKey, build_input_context, build_output_context\n"
        "from taxi_platform.io_managers.lake import LakeIOManager\n"
        "lake = LakeIOManager(lake_root=sys.argv[1], spark=None)\n"
        "store = lake.store()\n"
        "files = lake.month_files(store, AssetKey(['clean', 'green_trips']), ['2021-01'])['2021-01']\n"
        "import pyarrow.parquet as pq; print(sum(pq.ParquetFile(f).metadata.num_rows for f in files))\n"
    )
    script = (f"mount --bind {store.root} {store.root} && mount -o remount,bind,ro {store.root} && "
              f"touch {store.root}/x 2>/dev/null && exit 3; exec {sys.executable} -c \"$0\" {store.root}")
    result = subprocess.run(["unshare", "-m", "sh", "-c", script, reader.replace('"', '\\"')], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0 and "mount" in result.stderr and "permission denied" in result.stderr.lower():
        pytest.skip("cannot make a read-only bind mount here (needs CAP_SYS_ADMIN)")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "6"  # the dead commit's clean month, whole, read-only
