"""No secret in any text a real gcp-deployment run emits (against fake-gcs-server and local-bigquery).

Planted: a service-account keyfile (its path in the env var the deployment is told to read), and a TLC source URL
template carrying userinfo and an S3-style presigned query, served by a scripted loopback server. Month 2021-01 is
served and materializes; for 2021-02 the green file redirects to another host (a refused redirect, its Location
signed too) and yellow's server answers 503: the run fails in its raw steps with the errors quoting those URLs. The
observation sensor asks the same source for 2021-02 (both unknown for now). The raw steps keep their retry path
(yellow's 503 is transient: one STEP_UP_FOR_RETRY, then the failure) with a delay of a tenth of a second instead of
the production policy's 20/60/140 s waits, which made this test take over four minutes. Then everything is grepped: captured stdout/stderr (Spark's and Dagster's
log output included), every file of the run's Dagster instance (event log with every log line, metadata, check
results, errors; run records), the materialization metadata, the sensor's skip message, and /proc/*/cmdline of every
process on the machine.
"""

import uuid
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, RetryPolicy, build_sensor_context, materialize

from taxi_platform.defs.revenue.automation import build_observation_sensor
from taxi_platform.defs.revenue.checks import asset_checks
from taxi_platform.defs.revenue.raw import RAW_TAXI_TYPES, build_raw_asset, raw_key
from taxi_platform.defs.revenue.sources import source_key
from taxi_platform.resources.deployments import resources_for
from taxi_platform.sample.generator import write_month
from taxi_platform_tests.dataproc.fakes import write_service_account_keyfile
from taxi_platform_tests.gcp.test_gcp_deployment import MONTHLY, gcp_env  # noqa: F401 (gcp_env is a fixture)
from taxi_platform_tests.http_server import scripted_http_server

pytestmark = [pytest.mark.spark, pytest.mark.gcp]

ROWS = 1500
PATH = "/trip-data/{taxi_type}_tripdata_{month}.parquet"
# the production graph, but raw retries a transient error once after 0.1 s (RAW_RETRY_POLICY waits 20, 60, 140 s)
ONE_QUICK_RETRY = RetryPolicy(max_retries=1, delay=0.1)
GRAPH = [
    *[build_raw_asset(t, retry_policy=ONE_QUICK_RETRY, source=source_key(t)) for t in RAW_TAXI_TYPES],
    *[a for a in MONTHLY if not a.keys & {raw_key(t) for t in RAW_TAXI_TYPES}],
]


def all_command_lines() -> str:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            found.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return "\n".join(found)


def test_no_planted_secret_in_any_output_of_a_gcp_run(gcp_env, tmp_path, monkeypatch, capfd):  # noqa: F811
    tag = uuid.uuid4().hex[:10]
    secret_dir = tmp_path / f"planted-keydir-{tag}"
    secret_dir.mkdir()
    keyfile = write_service_account_keyfile(secret_dir / f"planted-key-{tag}.json")
    monkeypatch.setenv("TAXI_E2E_KEYFILE", keyfile)
    user, password = f"user{tag}", f"pw{tag}"
    signature, token, credential = f"sig{tag}deadbeef", f"tok{tag}", f"AKIA{tag.upper()}"
    signed = f"?X-Amz-Credential={credential}%2F20210101&X-Amz-Signature={signature}&token={token}"
    secrets = [keyfile, secret_dir.name, Path(keyfile).name, user, password, signature, token, credential]

    served = tmp_path / "served"
    instance_dir = tmp_path / "dagster-instance"
    instance_dir.mkdir()
    with scripted_http_server("e2e-secrets") as server, scripted_http_server("e2e-other", host="127.0.0.2") as other:
        for taxi_type in ("green", "yellow"):
            file = served / f"{taxi_type}-2021-01.parquet"
            write_month(file, taxi_type, "2021-01", ROWS, 7)
            server.add(PATH.format(taxi_type=taxi_type, month="2021-01"), file.read_bytes())
        elsewhere = other.add("/elsewhere.parquet", b"never fetched") + signed
        server.add(PATH.format(taxi_type="green", month="2021-02"), status=302, headers={"Location": elsewhere})
        server.add(PATH.format(taxi_type="yellow", month="2021-02"), status=503)
        port = server.base_url.rsplit(":", 1)[1]
        template = (f"http://{user}:{password}@127.0.0.1:{port}"
                    + PATH.replace("{month}", "{year}-{month:02d}") + signed)
        env = {**gcp_env, "TAXI_GCP_KEYFILE_ENV_VAR": "TAXI_E2E_KEYFILE", "TAXI_SOURCE": "tlc",
               "TAXI_TLC_URL_TEMPLATE": template}
        resources = resources_for(env=env)
        resources["sources"] = resources["sources"].model_copy(update={"max_attempts": 1, "backoff_seconds": 0.01})

        instance = DagsterInstance.local_temp(str(instance_dir))
        try:
            good = materialize(GRAPH + asset_checks, resources=resources, partition_key="2021-01", instance=instance)
            bad = materialize(GRAPH + asset_checks, resources=resources, partition_key="2021-02", instance=instance,
                              raise_on_error=False)
        finally:
            instance.dispose()
        sensor = build_observation_sensor(months=["2021-02"])  # both types unknown for now: refused redirect, 503
        with DagsterInstance.ephemeral() as sensor_instance:
            tick = sensor(build_sensor_context(instance=sensor_instance, resources={"sources": resources["sources"]}))
        assert other.requests("/elsewhere.parquet") == 0
    command_lines = all_command_lines()
    captured = capfd.readouterr()

    # the run did what the greps need: a success with metadata, a failure quoting both URLs, a sensor message
    assert good.success
    assert all(e.passed for e in good.get_asset_check_evaluations())
    assert not bad.success
    failures = "\n".join(e.step_failure_data.error.to_string() for e in bad.get_step_failure_events())
    assert "RedirectRefusedError" in failures and "redirect from 127.0.0.1 to 127.0.0.2 refused" in failures
    assert "HTTP 503" in failures and "?<redacted>" in failures
    retried = [e for e in bad.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
    assert [e.step_key for e in retried] == ["raw__yellow_trips"]  # the retry path's messages are grepped too
    metadata = "\n".join(str(e.materialization.metadata) for e in good.get_asset_materialization_events())
    assert f"127.0.0.1:{port}/trip-data/green_tripdata_2021-01.parquet?<redacted>" in metadata
    skip = tick.skip_reason.skip_message if tick.skip_reason else str(tick.run_requests)

    places = {
        "captured stdout": captured.out,
        "captured stderr": captured.err,
        "events of the runs": "\n".join(str(e) for r in (good, bad) for e in r.all_events),
        "step failures": failures,
        "materialization metadata": metadata,
        "sensor": skip,
        "command lines": command_lines,
    }
    for path in instance_dir.rglob("*"):
        if path.is_file():
            places[f"instance file {path.relative_to(instance_dir)}"] = path.read_bytes().decode(errors="replace")
    assert any("event" in where or "runs" in where for where in places), sorted(places)
    everything = "\n".join(places.values())
    assert "RedirectRefusedError" in everything and "?<redacted>" in everything
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} found in {where}"
