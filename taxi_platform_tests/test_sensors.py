"""TaxiSourceResource.exists: whether a month is published, without fetching it, for each kind of source.

(The newest-month sensor that used it is gone: source months are observed assets now, see test_automation.py.)
"""

import pytest

from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sources.base import SourceError, TransientSourceError
from taxi_platform_tests.http_server import scripted_http_server


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
        server.add("/m/green_2021-03.parquet", status=403)  # S3/CloudFront's answer for a key not there (yet)
        assert tlc.exists("green", "2021-03") is False
        assert server.heads["/m/green_2021-03.parquet"] == 1 and server.requests("/m/green_2021-03.parquet") == 1
        server.add("/m/green_2021-04.parquet", status=401)
        with pytest.raises(SourceError, match=r"green 2021-04: HTTP 401 .* when probing for the month") as info:
            tlc.exists("green", "2021-04")
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


SIGNED = "?X-Amz-Credential=AKIAEXAMPLE%2F20210101&X-Amz-Signature=5ec7e75ec7e7&token=t0k3n-abc"


def test_a_403_month_does_not_fire_and_no_secret_reaches_the_skip_message(instance):
    """A signed template (userinfo, an S3 presigned query): a month answering 403 is "not published yet"; a month
    the source cannot answer for (503, then a closed port: requests' own text repeats path and query) is "unknown";
    the skip messages name the months and reasons, never the credentials, the signature or the token."""
    month = newest(1)[0]
    secrets = ("AKIAEXAMPLE", "5ec7e75ec7e7", "t0k3n-abc", "al1ce", "pa55word")
    with scripted_http_server("sensor-signed") as server:
        port = server.base_url.rsplit(":", 1)[1]
        template = f"http://al1ce:pa55word@127.0.0.1:{port}/trip-data/{{taxi_type}}_tripdata_{{year}}-{{month:02d}}.parquet" + SIGNED
        sources = TaxiSourceResource(kind="tlc", tlc_url_template=template, timeout_seconds=5)
        sensor = build_newest_month_sensor(lookback_months=1)
        green = URL_PATH.format(taxi_type="green", month=month)
        server.add(green, status=403)
        first = tick(sensor, instance, sources)
        assert requested(first) == {}
        assert f"{month}: green not published yet" in first.skip_reason.skip_message

        server.add(green, status=503)
        second = tick(sensor, instance, sources, first.cursor)
        assert requested(second) == {}
        assert f"/trip-data/green_tripdata_{month}.parquet?<redacted>: HTTP 503" in second.skip_reason.skip_message

    # the server is gone: a connection error, whose text (urllib3's) repeats the path and the query
    third = tick(sensor, instance, sources, second.cursor)
    message = third.skip_reason.skip_message
    assert "ConnectionError" in message and "Max retries exceeded with url" in message
    assert requested(third) == {}
    for text in (first.skip_reason.skip_message, second.skip_reason.skip_message, message):
        for secret in secrets:
            assert secret not in text, (secret, text)
