"""#14's local-store promises tested through the store interface that existed before #14 (``LocalStore``'s
``new_staging``, ``publish(staged, destination, label)``, ``files``), so each test also runs on the code of the time the
issue was filed and fails there for the behaviour, not for a missing name (docs/store-integrity.md).
"""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.io_managers.local_swap import LocalStore
from taxi_platform_tests.conftest import REPO_ROOT

MONTH = "clean/green_trips/month=2021-01"


def write_version(folder: Path, tag: str, rows: int, files: int = 2) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        share = rows // files + (1 if n < rows % files else 0)
        pq.write_table(pa.table({"tag": [tag] * share}), folder / f"part-{tag}-{n}.parquet")


def plain_read(folder: Path) -> list[str]:
    """The tags of every row a plain reader (Spark, pyarrow, DuckDB: ``_``/``.`` names skipped) reads."""
    return [tag for path in sorted(folder.glob("*.parquet")) if not path.name.startswith(("_", "."))
            for tag in pq.read_table(path).column("tag").to_pylist()]


def publish_version(store: LocalStore, tag: str, rows: int) -> None:
    staged = Path(store.new_staging(tag)) / "month=2021-01"
    write_version(staged, tag, rows)
    store.publish(str(staged), str(store.root / MONTH), tag)


@pytest.fixture
def store(tmp_path):
    return LocalStore(str(tmp_path / "lake"))


def test_a_failed_swap_leaves_the_old_month_in_place_at_once(store, tmp_path):
    """#14.6: the swap fails for real (EXDEV: staged on another filesystem). Before, the month was left in ``_trash/``
    and its folder missing until the next access; now the old month is there when the error is raised."""
    if not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's temporary folder")
    publish_version(store, "old", 4)
    elsewhere = Path(f"/dev/shm/lake-test-{uuid.uuid4().hex[:8]}")
    try:
        write_version(elsewhere / "month=2021-01", "new", 6)
        with pytest.raises(Exception, match="EXDEV|Invalid cross-device"):
            store.publish(str(elsewhere / "month=2021-01"), str(store.root / MONTH), "new")
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)
    assert plain_read(store.root / MONTH) == ["old"] * 4


def test_the_platform_lists_no_underscore_or_hidden_file_as_data(store):
    """#14.11: before, ``_x.parquet`` and ``.x.parquet`` in a month folder were listed by the platform although
    Spark, pyarrow and DuckDB skip them."""
    staged = Path(store.new_staging("v")) / "month=2021-01"
    write_version(staged, "v", 4)
    pq.write_table(pa.table({"tag": ["junk"]}), staged / "_x.parquet")
    pq.write_table(pa.table({"tag": ["junk"]}), staged / ".x.parquet")
    store.publish(str(staged), str(store.root / MONTH), "v")
    assert sorted(Path(f).name for f in store.files(str(store.root / MONTH))) == ["part-v-0.parquet", "part-v-1.parquet"]


def test_a_lake_root_with_glob_characters_does_not_load(tmp_path):
    """#14.11: before, a lake root containing ``[]{}`` loaded and every Spark read of it failed (PATH_NOT_FOUND)."""
    from taxi_platform.io_managers.lake import LakeIOManager

    with pytest.raises(Exception, match="glob"):
        LakeIOManager(lake_root=str(tmp_path / "lake[1]"), spark=None)


REWRITER = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from taxi_platform.io_managers.local_swap import LocalStore
from test_store_promises import publish_version
store = LocalStore(sys.argv[1])
for n in range(int(sys.argv[2])):
    publish_version(store, f"v{{n}}", 8)
Path(sys.argv[3]).write_text("done")
""".format(tests=str(Path(__file__).parent))


def test_a_reader_never_finds_the_month_missing_during_rewrites(store, tmp_path):
    """#14.4: a writer process rewrites the month 300 times while this process lists it as fast as it can. Before,
    the swap (rename the month away, rename the new one in) let the reader find no month several times."""
    publish_version(store, "first", 8)
    done = tmp_path / "done"
    writer = subprocess.Popen([sys.executable, "-c", REWRITER, str(store.root), "300", str(done)], cwd=REPO_ROOT)
    reads = missing = 0
    try:
        while not done.exists() and writer.poll() is None:
            listed = store.files(str(store.root / MONTH))
            reads += 1
            missing += not listed
        assert writer.wait(timeout=120) == 0
    finally:
        writer.kill()
    assert reads > 100 and missing == 0, (reads, missing)
