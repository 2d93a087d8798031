"""newest_month_sensor: fires for a month once its green and yellow files exist, not before, and only once.

Real sources: local files in a temp folder, and a real HTTP server on 127.0.0.1 (HEAD probes). A real (temporary,
persistent) Dagster instance holds the materializations the sensor looks at. No Spark.
"""

import json

import pytest
from dagster import AssetMaterialization, SensorResult, build_sensor_context, instance_for_test

from taxi_platform.defs.revenue.reports import REVENUE_MONTHLY_ZONE_KEY
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.defs.revenue.automation import NEWEST_MONTH_SENSOR, build_newest_month_sensor, newest_month_sensor
from taxi_platform.sources.base import SourceError, TransientSourceError
from taxi_platform_tests.http_server import scripted_http_server

LOCAL_TEMPLATE = "{taxi_type}/{year}/{month:02d}"
URL_PATH = "/trip-data/{taxi_type}_tripdata_{month}.parquet"


def newest(n: int) -> list[str]:
    """The newest n partition keys, oldest first (the month in progress is the last)."""
    return monthly_partitions.get_partition_keys()[-n:]


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


def tick(sensor, instance, sources: TaxiSourceResource, cursor: str | None = None) -> SensorResult:
    context = build_sensor_context(instance=instance, cursor=cursor, resources={"sources": sources})
    result = sensor(context)
    assert isinstance(result, SensorResult)
    return result


def requested(result: SensorResult) -> dict[str, str]:
    """{partition key: run key} of a tick's run requests."""
    return {r.partition_key: r.run_key for r in result.run_requests or []}


def month_folder(root, taxi_type: str, month: str):
    year, number = month.split("-")
    return root / taxi_type / year / number


def publish_local(root, taxi_type: str, month: str) -> None:
    """A month folder of the course layout with one (placeholder) parquet part: the sensor only checks presence."""
    folder = month_folder(root, taxi_type, month)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.parquet").write_bytes(b"PAR1 not read by the sensor PAR1")


def test_sensor_is_registered_stopped_on_the_monthly_job():
    from taxi_platform.definitions import defs

    sensor = defs.resolve_sensor_def(NEWEST_MONTH_SENSOR)
    assert sensor.job_name == "monthly_revenue"
    assert sensor.default_status.value == "STOPPED"
    assert sensor.minimum_interval_seconds == 3600


def test_fires_when_the_local_files_appear_not_before_and_only_once(instance, tmp_path):
    sources = TaxiSourceResource(kind="local", local_path_template=str(tmp_path / LOCAL_TEMPLATE))
    sensor = build_newest_month_sensor(lookback_months=2)
    previous, current = newest(2)

    first = tick(sensor, instance, sources)
    assert requested(first) == {}
    assert f"{current}: green not published yet" in first.skip_reason.skip_message
    assert f"{previous}: green not published yet" in first.skip_reason.skip_message

    publish_local(tmp_path, "green", previous)
    month_folder(tmp_path, "yellow", previous).mkdir(parents=True)  # an empty folder is not a published month
    second = tick(sensor, instance, sources, first.cursor)
    assert requested(second) == {}
    assert f"{previous}: yellow not published yet" in second.skip_reason.skip_message

    publish_local(tmp_path, "yellow", previous)
    third = tick(sensor, instance, sources, second.cursor)
    assert requested(third) == {previous: f"monthly_revenue:{previous}"}
    assert third.run_requests[0].tags["taxi_platform/trigger"] == NEWEST_MONTH_SENSOR
    assert json.loads(third.cursor) == [previous]

    fourth = tick(sensor, instance, sources, third.cursor)  # the files are still there: no second run
    assert requested(fourth) == {}
    assert f"{previous}: already requested" in fourth.skip_reason.skip_message

    for taxi_type in ("green", "yellow"):  # the newest month appears: it fires, the older one still does not
        publish_local(tmp_path, taxi_type, current)
    fifth = tick(sensor, instance, sources, fourth.cursor)
    assert requested(fifth) == {current: f"monthly_revenue:{current}"}
    assert json.loads(fifth.cursor) == [previous, current]


def test_months_whose_report_is_materialized_are_not_requested(instance):
    """The sample source always has every month: only months without a report materialization are requested."""
    sources = TaxiSourceResource(kind="sample")
    months = newest(3)
    instance.report_runless_asset_event(AssetMaterialization(REVENUE_MONTHLY_ZONE_KEY, partition=months[1]))

    result = tick(newest_month_sensor, instance, sources)
    assert requested(result) == {m: f"monthly_revenue:{m}" for m in (months[0], months[2])}
    again = tick(newest_month_sensor, instance, sources, result.cursor)
    assert requested(again) == {}
    assert f"{months[1]}: materialized" in again.skip_reason.skip_message


def test_fires_when_the_tlc_url_answers_with_head_probes_only(instance):
    """Against a real HTTP server: 404 means not yet, a 503 means "ask again" (no crash), 200 fires; the sensor
    only ever sends HEAD requests, so no month is downloaded by the sensor."""
    month = newest(1)[0]
    with scripted_http_server("sensor-http") as server:
        template = server.base_url + "/trip-data/{taxi_type}_tripdata_{year}-{month:02d}.parquet"
        sources = TaxiSourceResource(kind="tlc", tlc_url_template=template, timeout_seconds=5)
        sensor = build_newest_month_sensor(lookback_months=1)
        green, yellow = (URL_PATH.format(taxi_type=t, month=month) for t in ("green", "yellow"))

        first = tick(sensor, instance, sources)  # nothing served: 404s
        assert requested(first) == {}
        assert f"{month}: green not published yet" in first.skip_reason.skip_message
        assert server.heads[yellow] == 0  # green is missing: yellow is not asked about

        server.add(green, b"x" * 100)
        server.add(yellow, status=503)
        second = tick(sensor, instance, sources, first.cursor)
        assert requested(second) == {}
        message = second.skip_reason.skip_message
        url = server.base_url + yellow
        assert f"yellow unknown (yellow {month}: cannot tell whether the source has the month at {url}: HTTP 503" in message

        server.add(yellow, b"y" * 100)
        third = tick(sensor, instance, sources, second.cursor)
        assert requested(third) == {month: f"monthly_revenue:{month}"}
        assert requested(tick(sensor, instance, sources, third.cursor)) == {}

        assert server.heads[green] == 3 and server.heads[yellow] == 2  # one probe per tick until it fired
        assert server.requests(green) == 0 and server.requests(yellow) == 0  # never a GET: nothing downloaded


def test_exists_probes_each_kind_of_source(tmp_path):
    with scripted_http_server("exists-http") as server:
        url = server.add("/m/green_2021-01.parquet", b"data")
        no_head = server.add("/m/yellow_2021-01.parquet", b"data", head_status=405)
        template = server.base_url + "/m/{taxi_type}_{year}-{month:02d}.parquet"
        tlc = TaxiSourceResource(kind="tlc", tlc_url_template=template, timeout_seconds=5)
        assert tlc.exists("green", "2021-01") is True
        assert tlc.exists("yellow", "2021-01") is True  # HEAD refused (405): asked again with a GET, body unread
        assert server.requests("/m/yellow_2021-01.parquet") == 1 and server.requests("/m/green_2021-01.parquet") == 0
        assert tlc.exists("green", "2021-02") is False  # 404
        server.add("/m/green_2021-03.parquet", status=403)
        with pytest.raises(SourceError, match=r"green 2021-03: HTTP 403 .* when probing for the month") as info:
            tlc.exists("green", "2021-03")
        assert not isinstance(info.value, TransientSourceError)
        assert url and no_head

        backup = TaxiSourceResource(kind="backup", backup_url_template=server.base_url + "/m/{taxi_type}_{year}-{month:02d}.parquet")
        assert backup.exists("green", "2021-01") is True

    # a closed port: a connection error is transient ("ask again later"), not "missing"
    dead = TaxiSourceResource(kind="tlc", tlc_url_template=server.base_url + "/{taxi_type}/{year}/{month:02d}", timeout_seconds=2)
    with pytest.raises(TransientSourceError, match=r"green 2021-01: cannot tell whether the source has the month at http://127\.0\.0\.1:\d+/green/2021/01: ConnectionError"):
        dead.exists("green", "2021-01")

    (tmp_path / "green_2021-01.parquet").write_bytes(b"PAR1")
    files = TaxiSourceResource(kind="tlc", tlc_url_template=f"file://{tmp_path}/{{taxi_type}}_{{year}}-{{month:02d}}.parquet")
    assert files.exists("green", "2021-01") is True and files.exists("green", "2021-02") is False

    local = TaxiSourceResource(kind="local", local_path_template=str(tmp_path / "{taxi_type}_{year}-{month:02d}.parquet"))
    assert local.exists("green", "2021-01") is True and local.exists("yellow", "2021-01") is False
    assert TaxiSourceResource(kind="sample").exists("fhv", "2030-12") is True
    with pytest.raises(ValueError, match="unknown taxi type"):
        TaxiSourceResource(kind="sample").exists("blue", "2021-01")
