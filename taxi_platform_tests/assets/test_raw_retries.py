"""The raw assets' step retries: transient source errors re-run the step (with backoff), permanent ones never do,
and no attempt leaves half-written raw data. Real runs (materialize, the in-process executor the platform uses)
against a real HTTP server on 127.0.0.1. No Spark: the raw step and the lake's raw writes do not use it.
"""

import tempfile

import pytest
from dagster import Backoff, DagsterEventType, Jitter, RetryPolicy, materialize

from taxi_platform.defs.for_hire.assets import fhv_raw_assets
from taxi_platform.defs.revenue.raw import RAW_RETRY_POLICY, build_raw_asset, raw_assets
from taxi_platform.io_managers.lake import LakeIOManager
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.resources.spark import SparkResource
from taxi_platform.sample.generator import write_month
from taxi_platform_tests.http_server import scripted_http_server

# Short waits for tests: about 0.05, 0.15 s (+/- 0.05) between step attempts.
FAST_RETRIES = RetryPolicy(max_retries=2, delay=0.05, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)
PATH = "/trip-data/green_tripdata_{month}.parquet"


@pytest.fixture(scope="module")
def server():
    with scripted_http_server("raw-retries-http") as state:
        yield state


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> dict[str, bytes]:
    """Real sample-generator parquet bytes of green 2021-01 and 2021-02 (500 rows each)."""
    folder = tmp_path_factory.mktemp("served")
    out = {}
    for month in ("2021-01", "2021-02"):
        path = folder / f"green_{month}.parquet"
        write_month(path, "green", month, 500, 3)
        out[month] = path.read_bytes()
    return out


@pytest.fixture
def workdirs(tmp_path, monkeypatch):
    """The raw step's temporary work folders (tempfile.mkdtemp) go here, so the test sees that they are removed."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


def run(server, lake, partition=None, *, max_attempts=1, months_range=None):
    """Materialize raw/green_trips (FAST_RETRIES) from the scripted server into ``lake``."""
    sources = TaxiSourceResource(
        kind="tlc",
        tlc_url_template=server.base_url + "/trip-data/{taxi_type}_tripdata_{year}-{month:02d}.parquet",
        max_attempts=max_attempts,
        backoff_seconds=0.01,
        timeout_seconds=5,
    )
    lake_io = LakeIOManager(lake_root=str(lake), spark=SparkResource(master="local[1]"))  # never started here
    kwargs = {"partition_key": partition} if partition else {
        "tags": {"dagster/asset_partition_range_start": months_range[0],
                 "dagster/asset_partition_range_end": months_range[1]}}
    return materialize(
        [build_raw_asset("green", retry_policy=FAST_RETRIES)],
        resources={"sources": sources, "lake_io_manager": lake_io},
        raise_on_error=False,
        **kwargs,
    )


def events_of(result, event_type: DagsterEventType):
    return [e for e in result.all_events if e.event_type == event_type]


def error_chain(error) -> str:
    parts, pending = [], [error]
    while pending:
        info = pending.pop(0)
        if info is not None:
            parts.append(f"{info.cls_name}: {info.message.strip()}")
            pending += [info.cause, info.context]
    return "\n".join(parts)


def failure_text(result) -> str:
    failures = events_of(result, DagsterEventType.STEP_FAILURE)
    assert len(failures) == 1, failures
    return error_chain(failures[0].step_failure_data.error)


def stored_month(lake, month):
    return lake / "raw" / "green_trips" / f"month={month}" / "part-00000.parquet"


def assert_nothing_left(lake, workdirs):
    """No raw month in the lake, nothing staged or trashed, no work folder or partial download."""
    assert not (lake / "raw").exists() or not any((lake / "raw").rglob("*.parquet")), list((lake / "raw").rglob("*"))
    for name in ("_staging", "_trash"):
        assert not (lake / name).exists() or not any((lake / name).iterdir()), name
    assert list(workdirs.iterdir()) == []


def test_every_raw_asset_has_the_retry_policy():
    for assets_def in [*raw_assets, *fhv_raw_assets]:
        assert assets_def.op.retry_policy == RAW_RETRY_POLICY, assets_def.key
    assert RAW_RETRY_POLICY.backoff == Backoff.EXPONENTIAL and RAW_RETRY_POLICY.jitter == Jitter.PLUS_MINUS


def test_a_source_that_fails_twice_then_succeeds_is_retried_at_the_step_level(server, months, tmp_path, workdirs):
    """One request per step attempt (max_attempts=1): 503, 503, then the file. The run succeeds after two
    STEP_UP_FOR_RETRY events, and the stored month is the served file, byte for byte."""
    path = PATH.format(month="2021-01")
    server.add(path, months["2021-01"], fail_times=2, fail_status=503)
    lake = tmp_path / "lake"
    result = run(server, lake, "2021-01")

    assert result.success
    retries = events_of(result, DagsterEventType.STEP_UP_FOR_RETRY)
    assert [e.step_key for e in retries] == ["raw__green_trips", "raw__green_trips"]
    assert "gave up after 1 attempt" in error_chain(retries[0].step_retry_data.error)
    assert len(events_of(result, DagsterEventType.STEP_RESTARTED)) == 2
    assert server.requests(path) == 3
    assert stored_month(lake, "2021-01").read_bytes() == months["2021-01"]
    assert list(workdirs.iterdir()) == []


def test_fetch_retries_come_first_and_the_step_retry_takes_over(server, months, tmp_path, workdirs):
    """max_attempts=2 and 3 failures: the first step attempt makes 2 requests and gives up (transient); the step is
    re-run once, fails its first request and gets the file with its second: 4 requests, 1 step retry."""
    path = PATH.format(month="2021-01")
    server.add(path, months["2021-01"], fail_times=3, fail_status=500)
    lake = tmp_path / "lake"
    result = run(server, lake, "2021-01", max_attempts=2)

    assert result.success
    assert len(events_of(result, DagsterEventType.STEP_UP_FOR_RETRY)) == 1
    assert server.requests(path) == 4
    assert stored_month(lake, "2021-01").read_bytes() == months["2021-01"]


@pytest.mark.parametrize(
    "behaviour, error, message",
    [
        ({"status": 404}, "MonthNotFoundError", "the source has no such month (HTTP 404)"),
        ({"body": b"not a parquet file at all" * 100}, "CorruptFileError", "is not a parquet file"),
        # S3/CloudFront answer 403 for a key that is not there: not published, like a 404 (and never retried)
        ({"status": 403}, "MonthNotFoundError", "the source has no such month (HTTP 403)"),
    ],
    ids=["404", "corrupt-file", "403"],
)
def test_permanent_errors_fail_at_once_without_a_retry(server, tmp_path, workdirs, behaviour, error, message):
    path = PATH.format(month="2021-01")
    server.add(path, **behaviour)
    lake = tmp_path / "lake"
    result = run(server, lake, "2021-01", max_attempts=3)

    assert not result.success
    assert events_of(result, DagsterEventType.STEP_UP_FOR_RETRY) == []
    assert server.requests(path) == 1  # neither the fetch nor the step asked again
    text = failure_text(result)
    assert f"{error}: green 2021-01: " in text and message in text, text
    assert "Failure: " in text  # Failure(allow_retries=False), caused by the source's error
    assert_nothing_left(lake, workdirs)


def test_a_source_that_stays_down_fails_after_the_retries_and_stores_nothing(server, months, tmp_path, workdirs):
    """A two-month range (one run): 2021-01 downloads fine every time, 2021-02 answers 503 forever. Each of the three
    step attempts fetches 2021-01 again and fails on 2021-02; the run fails naming 2021-02 and the 503, and not
    even 2021-01 is stored: a raw step stores its months all together or not at all."""
    good, down = PATH.format(month="2021-01"), PATH.format(month="2021-02")
    server.add(good, months["2021-01"])
    server.add(down, status=503)
    lake = tmp_path / "lake"
    result = run(server, lake, months_range=("2021-01", "2021-02"))

    assert not result.success
    assert len(events_of(result, DagsterEventType.STEP_UP_FOR_RETRY)) == 2
    assert server.requests(good) == 3 and server.requests(down) == 3
    text = failure_text(result)
    assert "TransientSourceError: green 2021-02: gave up after 1 attempt at " in text and "HTTP 503" in text, text
    assert_nothing_left(lake, workdirs)


def test_a_range_retried_after_a_transient_error_stores_every_month_once(server, months, tmp_path, workdirs):
    good, flaky = PATH.format(month="2021-01"), PATH.format(month="2021-02")
    server.add(good, months["2021-01"])
    server.add(flaky, months["2021-02"], fail_times=1, fail_status=502)
    lake = tmp_path / "lake"
    result = run(server, lake, months_range=("2021-01", "2021-02"))

    assert result.success
    assert len(events_of(result, DagsterEventType.STEP_UP_FOR_RETRY)) == 1
    for month in ("2021-01", "2021-02"):
        assert stored_month(lake, month).read_bytes() == months[month]
        # one data file (names starting with "_" are not data to Spark/pyarrow/DuckDB: the commit's _version.json)
        assert [p.name for p in sorted(stored_month(lake, month).parent.iterdir()) if not p.name.startswith(("_", "."))] == [
            "part-00000.parquet"
        ]
    assert list(workdirs.iterdir()) == []
