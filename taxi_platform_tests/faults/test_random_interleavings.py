"""Two writers of the same month, one SIGKILLed at a random instant, 200 times per store: every month stays whole.

Each iteration: the month (clean + quarantine, as one step writes them) holds a whole version (O, then whatever the
previous iteration left). Two real processes A and B
(forked, so an iteration costs milliseconds, not an interpreter start) each stage their own version and commit it
through the store, at the same time; one of them, chosen at random, gets SIGKILL at a random instant of its write
(uniform over a writer's measured duration, so every step of the commit gets hit: staging, verify, lock, swap, copy,
manifest, cleanup). Then the next writer's recovery runs (``recover``; ``vacuum`` with no grace on GCS), as the next
run of the platform would, and the test reads the month the way a plain parquet reader does (a listing) and the way
the platform does (the store's current files).

Asserted in EVERY iteration: each dataset's month is whole and equal to exactly one writer's version (A's or B's:
the survivor always commits, a killed writer's commit is whole or absent), plain and platform readers see the same
rows, no staged data is left, and clean and quarantine come from the same writer (one commit, on both stores).

On GCS a random instant rarely lands right at an object write, so every third iteration kills the victim just
before or just after one of the conditional object writes (``if_generation_match``) its commit makes, drawn at
random: with one manifest per folder that includes a kill between the clean and the quarantine manifest writes (the
old design failed there); with the unit's commit record, a kill on either side of the record write. The month
starts with plain per-folder manifests (as an older store or ``gcs_sync`` leaves them), and is put back to them
every 12 iterations, so commits that turn them into pointers to the record are killed too.
"""

import json
import os
import random
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_platform.io_managers.commits import Publish

ITERATIONS = 200
SEED = 14
DATASETS = ("clean/green_trips", "quarantine/green_trips")
ROWS = {"O": (3, 1), "A": (5, 2), "B": (7, 4)}  # rows of (clean, quarantine) per version: versions tell apart by size


def table(tag: str, rows: int):
    return pa.table({"tag": [tag] * rows, "n": list(range(rows))})


def fork(action) -> int:
    pid = os.fork()
    if pid == 0:  # the child: a writer; never returns into pytest
        code = 1
        try:
            action()
            code = 0
        finally:
            os._exit(code)
    return pid


def run_iteration(rng: random.Random, write, duration: float, kill_at: int = 0) -> tuple[str, int]:
    """Fork writers A and B of the same month; SIGKILL one at a random instant (or, with ``kill_at``, at that point
    of its conditional object writes: see ``die_at_conditional_write``); returns (killed, its exit status)."""
    victim = rng.choice("AB")
    pids = {tag: fork(lambda tag=tag: write(tag, kill_at if tag == victim else 0)) for tag in ("A", "B")}
    if not kill_at:
        time.sleep(rng.uniform(0, duration * 1.3))
        try:
            os.kill(pids[victim], signal.SIGKILL)
        except ProcessLookupError:
            pass
    status = {}
    for tag, pid in pids.items():
        _, status[tag] = os.waitpid(pid, 0)
    survivor = "B" if victim == "A" else "A"
    assert os.WIFEXITED(status[survivor]) and os.WEXITSTATUS(status[survivor]) == 0, f"writer {survivor} failed"
    return victim, status[victim]


def measured(write) -> float:
    """Seconds one writer takes (the window the kill is drawn from)."""
    start = time.monotonic()
    _, status = os.waitpid(fork(lambda: write("A", 0)), 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return time.monotonic() - start


def version_of(tags: list[str], rows: list[int], dataset_index: int) -> str:
    """The one writer whose whole version this is, or an explanation of what is wrong."""
    if len(set(tags)) != 1:
        return f"MIXED {sorted(set(tags))}"
    tag = tags[0]
    expected = ROWS[tag][dataset_index]
    if sorted(rows) != list(range(expected)):
        return f"PARTIAL {tag}: {len(rows)} of {expected} rows"
    return tag


# ---- local store -------------------------------------------------------------------------------------------------
def test_two_local_writers_and_a_kill_leave_every_month_whole(tmp_path):
    from taxi_platform.io_managers.local_swap import LocalStore

    store = LocalStore(str(tmp_path / "lake"))
    store.check()

    def write(tag: str, _: int = 0) -> None:
        items = []
        staging = Path(store.new_staging(f"w{tag}"))
        for i, dataset in enumerate(DATASETS):
            folder = staging / dataset.replace("/", "_")
            folder.mkdir(parents=True)
            rows = ROWS[tag][i]
            pq.write_table(table(tag, rows)[: rows // 2], folder / f"part-{tag}-0.parquet")
            pq.write_table(table(tag, rows)[rows // 2:], folder / f"part-{tag}-1.parquet")
            items.append(Publish(str(folder), str(store.root / dataset / "month=2021-01"), f"{dataset} 2021-01", rows,
                                 "2021-01"))
        store.recover()  # what a writer does first
        store.publish_all(items, tag)
        store.discard(str(staging))

    def read(dataset: str):
        folder = store.root / dataset / "month=2021-01"
        plain = sorted(p for p in folder.glob("*.parquet") if not p.name.startswith(("_", ".")))
        # the platform reads what a plain reader reads: the same files, named in the version the pointer resolves to
        assert [os.path.realpath(p) for p in plain] == store.files(str(folder))
        data = pa.concat_tables([pq.read_table(p) for p in plain])
        return data.column("tag").to_pylist(), data.column("n").to_pylist()

    write("O")
    duration = measured(write)
    rng = random.Random(SEED)
    outcomes = []
    for iteration in range(ITERATIONS):  # each iteration starts from the version the previous one left
        victim, _ = run_iteration(rng, write, duration)
        store.recover()  # the next writer's (or vacuum's) recovery
        versions = [version_of(*read(dataset), i) for i, dataset in enumerate(DATASETS)]
        assert versions[0] in ("A", "B") and versions[1] == versions[0], (iteration, victim, versions)
        # no staged data left (an empty temporary lock file of a writer killed while creating it may stay until
        # the age rule removes it: it holds nothing)
        staging = store.root / "_staging"
        assert not [p.name for p in staging.iterdir() if not p.name.endswith(".tmp")], (iteration, victim)
        outcomes.append(versions[0] != victim)  # the survivor's version (the victim's commit, if any, came first)
    # the kills landed before and after commit points alike (else the test would not test much)
    assert 0 < sum(outcomes) < ITERATIONS, sum(outcomes)


# ---- GCS (fake-gcs-server) ---------------------------------------------------------------------------------------
@pytest.mark.gcp
def test_two_gcs_writers_and_a_kill_leave_every_month_whole(fake_gcs, tmp_path, monkeypatch):
    from taxi_platform.io_managers.gcs_store import GcsStore
    from taxi_platform.resources.gcp import GcpResource

    monkeypatch.setenv("NO_GCE_CHECK", "True")
    project = "taxi-faults"
    bucket = f"faults-{uuid.uuid4().hex[:8]}"
    GcpResource(project=project, gcs_endpoint=fake_gcs.endpoint).storage_client().create_bucket(bucket)
    root = f"gs://{bucket}/lake"
    files = {}
    for tag in ROWS:
        for i in range(len(DATASETS)):
            rows = ROWS[tag][i]
            for half, part in enumerate((table(tag, rows)[: rows // 2], table(tag, rows)[rows // 2:])):
                files[tag, i, half] = tmp_path / f"{tag}-{i}-{half}.parquet"
                pq.write_table(part, files[tag, i, half])

    def new_store() -> GcsStore:  # a client of its own in every process (never one shared across a fork)
        return GcsStore(root, GcpResource(project=project, gcs_endpoint=fake_gcs.endpoint).storage_client())

    def write(tag: str, kill_at: int = 0, unit: str = "2021-01") -> None:
        if kill_at:
            die_at_conditional_write(kill_at)
        store = new_store()
        staging = store.new_staging(f"w{tag}")
        items = []
        for i, dataset in enumerate(DATASETS):
            folder = store.join(staging, dataset.replace("/", "_"))
            for half in range(2):
                name = f"{folder.split('/', 3)[3]}/part-{half}.parquet"
                store.bucket.blob(name).upload_from_filename(str(files[tag, i, half]))
            items.append(Publish(folder, store.join(root, dataset, "month=2021-01"), f"{dataset} 2021-01", ROWS[tag][i],
                                 unit))
        store.publish_all(items, tag)
        if kill_at:  # the other writer made the pointers first: fewer writes than drawn; killed after the commit
            os.kill(os.getpid(), signal.SIGKILL)

    def read(store: GcsStore, dataset: str):
        folder = store.join(root, dataset, "month=2021-01")
        prefix = f"lake/{dataset}/month=2021-01/"
        plain = sorted(f"gs://{bucket}/{b.name}" for b in store.client.list_blobs(bucket, prefix=prefix)
                       if b.name.endswith(".parquet") and not b.name.rsplit("/", 1)[-1].startswith(("_", ".")))
        current = sorted(store.files(folder))
        assert plain == current, (plain, current)  # after vacuum, a plain reader reads what the platform reads
        tags, ns = [], []
        for uri in current:
            part = pq.read_table(pa.BufferReader(store.bucket.blob(uri.split("/", 3)[3]).download_as_bytes()))
            tags += part.column("tag").to_pylist()
            ns += part.column("n").to_pylist()
        return tags, ns

    write("O", unit="")  # plain manifests, one per folder
    duration = measured(write)
    write("O", unit="")
    writes = conditional_writes_of(lambda: write("O"))  # a commit of the unit: pointers + record the first time
    assert writes == 3, writes
    write("O", unit="")
    points = range(1, 2 * writes + 1)  # before and after each of those writes
    rng = random.Random(SEED)
    checker = new_store()
    killed_at = Counter()
    for iteration in range(ITERATIONS):  # each iteration starts from the version the previous one left
        if iteration % 12 == 6:  # back to plain manifests (a whole version, as gcs_sync writes one): migrations again
            write(rng.choice("AB"), unit="")
        writes_now = conditional_writes_of(lambda: None, checker.bucket, f"lake/{DATASETS[0]}/month=2021-01")
        kill_at = rng.choice([k for k in points if (k + 1) // 2 <= writes_now]) if iteration % 3 == 0 else 0
        victim, status = run_iteration(rng, write, duration, kill_at)
        if kill_at:
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (iteration, status)
            killed_at[writes_now, kill_at] += 1
        checker.vacuum(grace_seconds=0)  # both writers are done: nothing uncommitted is still needed
        versions = [version_of(*read(checker, dataset), i) for i, dataset in enumerate(DATASETS)]
        assert versions[0] in ("A", "B") and versions[1] == versions[0], (iteration, victim, kill_at, versions)
        assert not list(checker.client.list_blobs(bucket, prefix="lake/_staging/")), iteration
    print(f"GCS: kills at (conditional writes of the commit, point): {sorted(killed_at.items())}")
    # kills on both sides of every conditional write, of the first (migrating) commits and of the steady ones
    assert {k for (w, k) in killed_at if w == 1} == {1, 2}, killed_at
    assert len({k for (w, k) in killed_at if w == 3}) >= 3, killed_at


def die_at_conditional_write(point: int) -> None:
    """In a forked writer: SIGKILL this process at ``point`` of its conditional object writes: 2n-1 = just before
    the n-th is sent, 2n = just after it succeeded."""
    from google.cloud.storage import Blob

    upload, done = Blob.upload_from_string, [0]

    def counted(self, *args, **kwargs):
        conditional = kwargs.get("if_generation_match") is not None
        if conditional and 2 * done[0] + 1 == point:
            os.kill(os.getpid(), signal.SIGKILL)
        result = upload(self, *args, **kwargs)
        if conditional:
            done[0] += 1
            if 2 * done[0] == point:
                os.kill(os.getpid(), signal.SIGKILL)
        return result

    Blob.upload_from_string = counted


def conditional_writes_of(action, bucket=None, folder: str = "") -> int:
    """How many conditional object writes ``action`` makes (run in this process, counted, then restored); with
    ``bucket`` and ``folder`` (no action): how many the next commit of the month will make (1 when the folder's
    manifest already points at the unit's commit record, else a pointer per folder + the record; 2 with the old
    one manifest per folder)."""
    from google.cloud.storage import Blob

    if bucket is not None:
        manifest = json.loads(bucket.blob(f"{folder}/_manifest.json").download_as_bytes())
        return 1 if manifest.get("group") else len(DATASETS) + 1
    upload, done = Blob.upload_from_string, [0]

    def counted(self, *args, **kwargs):
        done[0] += kwargs.get("if_generation_match") is not None
        return upload(self, *args, **kwargs)

    Blob.upload_from_string = counted
    try:
        action()
    finally:
        Blob.upload_from_string = upload
    return done[0]
