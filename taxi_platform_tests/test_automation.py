"""Observed source months + Declarative Automation: a new month -> one run of it; a re-published month (changed ETag)
-> one re-run of that month and nothing else; nothing changed -> no run.

Real components: a real HTTP server on 127.0.0.1 serving the TLC URLs with ETags (HEAD answers), the real observation
sensor of the code location, a real (temporary, persistent) Dagster instance, and Dagster's own automation evaluator
(``evaluate_automation_conditions``) with the daemon's own grouping of requests into runs (``build_run_requests``).
A requested run's materializations are recorded in the instance as the run would record them. No Spark.
"""

from datetime import datetime, timezone

import pytest
from dagster import (
    Definitions,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    SensorResult,
    build_sensor_context,
    evaluate_automation_conditions,
    instance_for_test,
)
from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests
from dagster._core.definitions.data_version import DATA_VERSION_TAG
from dagster._core.definitions.observe import observe  # what the UI's "Observe sources" runs

from taxi_platform.defs.for_hire.automation import FOR_HIRE_AUTOMATION_SENSOR, for_hire_source_months_observation
from taxi_platform.defs.for_hire.definitions import for_hire_defs
from taxi_platform.defs.revenue.automation import (
    OBSERVATION_SENSOR,
    SOURCE_MONTH_CHANGED,
    build_observation_sensor,
    source_months_observation,
)
from taxi_platform.defs.revenue.definitions import revenue_defs
from taxi_platform.defs.revenue.sources import build_source_asset, source_key
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.deployments import resources_for
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform_tests.http_server import scripted_http_server

URL_PATH = "/trip-data/{taxi_type}_tripdata_{year}-{month:02d}.parquet"
ALL = {"raw/green_trips", "raw/yellow_trips", "clean/green_trips", "clean/yellow_trips", "quarantine/green_trips",
       "quarantine/yellow_trips", "core/trips", "reports/revenue_monthly_zone"}
GREEN_SIDE = {"raw/green_trips", "clean/green_trips", "quarantine/green_trips", "core/trips",
              "reports/revenue_monthly_zone"}


def path_of(taxi_type: str, month: str) -> str:
    year, number = month.split("-")
    return URL_PATH.format(taxi_type=taxi_type, year=year, month=int(number))


FHV_SIDE = {"raw/fhv_trips", "clean/fhv_trips", "quarantine/fhv_trips"}
FHVHV_SIDE = {"raw/fhvhv_trips", "clean/fhvhv_trips", "quarantine/fhvhv_trips", "analytics/fhvhv_base_ids"}


class Platform:
    """A pipeline's definitions (default: revenue) and its observation sensor, a Dagster instance, and the
    automation's cursor between ticks."""

    def __init__(self, instance: DagsterInstance, sources: TaxiSourceResource, lake_root: str = "unused-lake",
                 pipeline=revenue_defs, observation_sensor=source_months_observation):
        resources = {**resources_for(env={"TAXI_LAKE_ROOT": lake_root}), "sources": sources}
        self.defs = Definitions.merge(pipeline(), Definitions(resources=resources))
        self.graph = self.defs.resolve_asset_graph()
        self.instance = instance
        self.sources = sources
        self.observation_sensor = observation_sensor
        self.cursor = None
        self.sensor_cursor = None

    def observe_tick(self) -> list:
        """One tick of the observation sensor; its observations are recorded as the sensor daemon records them."""
        context = build_sensor_context(instance=self.instance, cursor=self.sensor_cursor,
                                       resources={"sources": self.sources})
        result = self.observation_sensor(context)
        assert isinstance(result, SensorResult)
        self.sensor_cursor = result.cursor
        for event in result.asset_events or []:
            self.instance.report_runless_asset_event(event)
        return result.asset_events or []

    def automation_tick(self) -> dict[str, set[str]]:
        """One evaluation of the automation: {partition: asset keys} of each run it would launch (one per month)."""
        result = evaluate_automation_conditions(defs=self.defs, instance=self.instance, cursor=self.cursor)
        self.cursor = result.cursor
        runs = build_run_requests(entity_subsets=result._requested_subsets, asset_graph=self.graph, run_tags=None,
                                  emit_backfills=True)
        by_month: dict[str, set[str]] = {}
        for run in runs:
            if not run.asset_selection:  # the report's hourly freshness check (test_freshness.py), if an hour passed
                continue
            assert run.partition_key is not None, f"expected one run per month, got {run}"
            assert run.partition_key not in by_month, f"two runs for {run.partition_key}"
            by_month[run.partition_key] = {k.to_user_string() for k in run.asset_selection}
        return by_month

    def run(self, month: str, keys: set[str]) -> None:
        """What the run records: a materialization of each asset of the month, upstream first."""
        for key in self.graph.toposorted_asset_keys:
            if key.to_user_string() in keys:
                self.instance.report_runless_asset_event(AssetMaterialization(asset_key=key, partition=month))


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


def test_new_and_republished_months_run_once_and_nothing_else(instance):
    keys = monthly_partitions.get_partition_keys()
    previous, current = keys[-2], keys[-1]  # recent months: new ones are run automatically
    old_made, old_never = "2021-01", "2020-05"  # older than the look-back
    with scripted_http_server("automation-http") as server:
        def publish(taxi_type: str, month: str, etag: str):
            server.add(path_of(taxi_type, month), b"x" * 64, headers={"ETag": etag})

        for month in (previous, old_made, old_never):
            publish("green", month, f'"g-{month}-1"')
            publish("yellow", month, f'"y-{month}-1"')
        sources = TaxiSourceResource(kind="tlc", tlc_url_template=server.base_url + URL_PATH)
        platform = Platform(instance, sources)

        assert platform.automation_tick() == {}  # the automation's first tick: its baseline

        # The first observation: three published months. Only the recent one is new work; the old ones that were
        # never made are not backfilled behind the user's back.
        observed = platform.observe_tick()
        assert {(e.asset_key.to_user_string(), e.partition) for e in observed} == {
            (f"source/{t}_trips", m) for t in ("green", "yellow") for m in (previous, old_made, old_never)
        }
        assert platform.automation_tick() == {previous: ALL}
        platform.run(previous, ALL)
        assert platform.automation_tick() == {}  # the run's own materializations trigger nothing more

        # Nothing changed: the sensor records nothing, and the same versions observed again change nothing either.
        assert platform.observe_tick() == []
        assert platform.automation_tick() == {}
        for event in observed:
            instance.report_runless_asset_event(event)
        assert platform.automation_tick() == {}

        # The TLC re-publishes the green month (a new ETag): only that month's green side and what uses it re-run.
        publish("green", previous, f'"g-{previous}-2"')
        changed = platform.observe_tick()
        assert [(e.asset_key, e.partition, e.tags[DATA_VERSION_TAG]) for e in changed] == [
            (source_key("green"), previous, f'etag="g-{previous}-2"')
        ]
        assert platform.automation_tick() == {previous: GREEN_SIDE}
        platform.run(previous, GREEN_SIDE)
        assert platform.automation_tick() == {}

        # A new month appears: exactly one run of it.
        publish("green", current, f'"g-{current}-1"')
        publish("yellow", current, f'"y-{current}-1"')
        assert len(platform.observe_tick()) == 2
        assert platform.automation_tick() == {current: ALL}
        platform.run(current, ALL)

        # An old month made by hand (a backfill), then re-published years later: one re-run of it, whatever its age.
        platform.run(old_made, ALL)
        assert platform.automation_tick() == {}
        publish("yellow", old_made, f'"y-{old_made}-2"')
        assert len(platform.observe_tick()) == 1
        assert platform.automation_tick() == {old_made: ALL - GREEN_SIDE | {"core/trips", "reports/revenue_monthly_zone"}}
        assert platform.observe_tick() == [] and platform.automation_tick() == {}


def test_for_hire_months_new_republished_and_unchanged_run_exactly_that_month(instance):
    """The for-hire pipeline, same scheme: a new fhv/fhvhv month -> one run of it; fhvhv re-published (a new ETag) ->
    one re-run of that month's fhvhv side only (fhv and the other months untouched); nothing changed -> no run."""
    keys = monthly_partitions.get_partition_keys()
    earlier, previous = keys[-3], keys[-2]
    with scripted_http_server("automation-for-hire") as server:
        def publish(taxi_type: str, month: str, etag: str):
            server.add(path_of(taxi_type, month), b"x" * 64, headers={"ETag": etag})

        publish("fhv", earlier, '"fhv-e-1"')
        publish("fhvhv", earlier, '"hv-e-1"')
        sources = TaxiSourceResource(kind="tlc", tlc_url_template=server.base_url + URL_PATH)
        platform = Platform(instance, sources, pipeline=for_hire_defs,
                            observation_sensor=for_hire_source_months_observation)
        assert platform.automation_tick() == {}

        # a new month of both types: one run of that month with both sides
        observed = platform.observe_tick()
        assert {(e.asset_key.to_user_string(), e.partition) for e in observed} == {
            ("source/fhv_trips", earlier), ("source/fhvhv_trips", earlier)}
        assert platform.automation_tick() == {earlier: FHV_SIDE | FHVHV_SIDE}
        platform.run(earlier, FHV_SIDE | FHVHV_SIDE)
        assert platform.automation_tick() == {}

        # the next month appears for fhvhv only: one run of it, fhvhv side only
        publish("fhvhv", previous, '"hv-p-1"')
        assert [(e.asset_key, e.partition) for e in platform.observe_tick()] == [(source_key("fhvhv"), previous)]
        assert platform.automation_tick() == {previous: FHVHV_SIDE}
        platform.run(previous, FHVHV_SIDE)

        # nothing changed: nothing recorded, no run
        assert platform.observe_tick() == []
        assert platform.automation_tick() == {}

        # the TLC re-publishes fhvhv of the earlier month: one re-run of that month's fhvhv side, nothing else
        publish("fhvhv", earlier, '"hv-e-2"')
        changed = platform.observe_tick()
        assert [(e.asset_key, e.partition, e.tags[DATA_VERSION_TAG]) for e in changed] == [
            (source_key("fhvhv"), earlier, 'etag="hv-e-2"')]
        assert platform.automation_tick() == {earlier: FHVHV_SIDE}
        platform.run(earlier, FHVHV_SIDE)
        assert platform.observe_tick() == [] and platform.automation_tick() == {}


def test_a_source_that_cannot_answer_now_changes_nothing(instance):
    month = monthly_partitions.get_partition_keys()[-2]
    with scripted_http_server("automation-503") as server:
        server.add(path_of("green", month), b"x", headers={"ETag": '"g1"'})
        server.add(path_of("yellow", month), b"y", headers={"ETag": '"y1"'})
        platform = Platform(instance, TaxiSourceResource(kind="tlc", tlc_url_template=server.base_url + URL_PATH,
                                                         timeout_seconds=5))
        platform.automation_tick()
        assert len(platform.observe_tick()) == 2
        assert platform.automation_tick() == {month: ALL}
        platform.run(month, ALL)
        server.add(path_of("green", month), status=503)  # the CDN has a bad hour
        assert platform.observe_tick() == []
        assert platform.automation_tick() == {}


def test_every_source_kind_gives_a_version_that_moves_with_the_month(tmp_path):
    folder = tmp_path / "green" / "2021" / "01"
    folder.mkdir(parents=True)
    local = TaxiSourceResource(kind="local", local_path_template=str(tmp_path / "{taxi_type}/{year}/{month:02d}"))
    assert local.version("green", "2021-01") is None
    (folder / "part-0.parquet").write_bytes(b"PAR1" + b"a" * 100 + b"PAR1")
    first = local.version("green", "2021-01")
    assert first.startswith("files=")
    (folder / "part-0.parquet").write_bytes(b"PAR1" + b"b" * 100 + b"PAR1")  # same size, new content
    assert local.version("green", "2021-01") != first
    sample = TaxiSourceResource(kind="sample", sample_seed=7)
    assert sample.version("green", "2021-01") == sample.version("green", "2021-01") != TaxiSourceResource(
        kind="sample", sample_seed=8).version("green", "2021-01")
    with scripted_http_server("version-http") as server:
        server.add("/green.parquet", b"abc", headers={"Last-Modified": "Tue, 01 Mar 2022 10:00:00 GMT"})
        server.add("/yellow.parquet", b"abc", headers={"ETag": '"e1"'}, head_status=405)  # HEAD refused: GET, unread
        tlc = TaxiSourceResource(kind="tlc", tlc_url_template=server.base_url + "/{taxi_type}.parquet")
        backup = TaxiSourceResource(kind="backup", backup_url_template=server.base_url + "/{taxi_type}.parquet")
        assert tlc.version("green", "2021-01") == "last-modified=Tue, 01 Mar 2022 10:00:00 GMT;length=3"
        assert backup.version("yellow", "2021-01") == 'etag="e1"'
        assert tlc.version("fhv", "2021-01") is None  # 404: not published
        assert server.requests("/green.parquet") == 0 and server.requests("/yellow.parquet") == 1  # body unread


def test_the_source_assets_observe_function_records_each_published_month(instance):
    month = "2021-03"
    with scripted_http_server("observe-http") as server:
        server.add(path_of("green", month), b"x", headers={"ETag": '"g1"'})
        sources = TaxiSourceResource(kind="tlc", tlc_url_template=server.base_url + URL_PATH)
        result = observe([build_source_asset("green")], instance=instance, resources={"sources": sources})
    assert result.success
    record = instance.get_latest_data_version_record(source_key("green"), is_source=True, partition_key=month)
    assert record is not None and record.asset_observation.tags[DATA_VERSION_TAG] == 'etag="g1"'


def test_automation_is_declared_on_the_pipeline_and_starts_stopped():
    from taxi_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    assert graph.get(source_key("green")).is_observable
    for name in (OBSERVATION_SENSOR, "revenue_automation", "for_hire_source_months_observation",
                 FOR_HIRE_AUTOMATION_SENSOR):
        assert defs.resolve_sensor_def(name).default_status.value == "STOPPED"
    assert source_months_observation.minimum_interval_seconds == 3600
    assert for_hire_source_months_observation.minimum_interval_seconds == 3600
    for taxi_type in ("green", "yellow", "fhv", "fhvhv"):
        assert graph.get(source_key(taxi_type)).is_observable
        raw = graph.get(AssetKey(["raw", f"{taxi_type}_trips"]))
        assert raw.automation_condition == SOURCE_MONTH_CHANGED and source_key(taxi_type) in raw.parent_keys


SIGNED = "?X-Amz-Credential=AKIAEXAMPLE%2F20210101&X-Amz-Signature=5ec7e75ec7e7&token=t0k3n-abc"


def test_a_403_month_is_not_observed_and_no_secret_reaches_the_sensor_messages(instance):
    """A signed template (userinfo, an S3 presigned query): a month answering 403 is "not published yet" (nothing
    observed, nothing to run); a month the source cannot answer for (503, then a closed port: requests' own text
    repeats path and query) is "unknown for now"; the skip messages never hold the credentials, signature or token."""
    month = monthly_partitions.get_partition_keys()[-1]
    secrets = ("AKIAEXAMPLE", "5ec7e75ec7e7", "t0k3n-abc", "al1ce", "pa55word")
    sensor = build_observation_sensor(name="signed_observation", months=[month])

    def tick(sources: TaxiSourceResource, cursor: str | None) -> SensorResult:
        return sensor(build_sensor_context(instance=instance, cursor=cursor, resources={"sources": sources}))

    with scripted_http_server("observation-signed") as server:
        port = server.base_url.rsplit(":", 1)[1]
        template = f"http://al1ce:pa55word@127.0.0.1:{port}" + URL_PATH + SIGNED
        sources = TaxiSourceResource(kind="tlc", tlc_url_template=template, timeout_seconds=5)
        for taxi_type in ("green", "yellow"):
            server.add(path_of(taxi_type, month), status=403)
        first = tick(sources, None)
        assert not first.asset_events
        assert "no new or changed month" in first.skip_reason.skip_message
        assert server.heads[path_of("green", month)] == 1  # asked, and 403 read as not published

        server.add(path_of("green", month), status=503)
        second = tick(sources, first.cursor)
        assert not second.asset_events
        assert f"{path_of('green', month)}?<redacted>: HTTP 503" in second.skip_reason.skip_message

    # the server is gone: a connection error, whose text (urllib3's) repeats the path and the query
    third = tick(sources, second.cursor)
    message = third.skip_reason.skip_message
    assert not third.asset_events and "ConnectionError" in message
    for text in (first.skip_reason.skip_message, second.skip_reason.skip_message, message):
        for secret in secrets:
            assert secret not in text, (secret, text)
