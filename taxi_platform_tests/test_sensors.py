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

