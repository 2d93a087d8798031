"""The Dagster UI, for real: `dagster dev` (webserver + daemon) on a free loopback port with the project's
workspace.yaml, driven through its GraphQL API as the UI drives it, and looked at with a headless Chromium.

One server for the module (about 5-10 s to start). Right after it is up, the module launches its runs, as a user
would from the UI: a single-partition run of the monthly_revenue job for 2021-01, a backfill of 2021-02..2021-04
of the job's assets (their single_run backfill policy makes it ONE run), and "Observe sources" of
source/{green,yellow}_trips. The instance runs one Spark run at a time (the backfill's run waits for the first); the
light runs (the observation, then the report's freshness check ``newest_month_fresh``) go beside them. The server's
``TAXI_REPORT_MAX_LAG_HOURS`` is tiny, so the check fails for the newest observed month (never materialized here)
and the report's Checks tab must show it failed, with its description. Each test then waits for what it needs. At the end the server is stopped by PID
and no process of its tree (run workers and their Spark JVMs included) may be left.
"""

import json
import re
import shutil
import time
from datetime import datetime, timezone

import pyarrow.dataset as ds
import pytest

from taxi_platform.defs.revenue.freshness import MAX_LAG_ENV_VAR
from taxi_platform.defs.revenue.jobs import FRESHNESS_CHECK
from taxi_platform.partitions import monthly_partitions
from taxi_platform.sample.volumes import sample_rows
from taxi_platform_tests.conftest import REPO_ROOT
from taxi_platform_tests.ui.browser import chromium_or_skip, open_markdown_image, render
from taxi_platform_tests.ui.dagster_dev import (
    LOCATION,
    REPOSITORY,
    SPARK_RUN_TAG,
    DagsterDev,
    processes_with_marker,
)

pytestmark = [pytest.mark.spark, pytest.mark.timeout(600)]

SINGLE_MONTH = "2021-01"
BACKFILL_MONTHS = ["2021-02", "2021-03", "2021-04"]
REPORT = ["reports", "revenue_monthly_zone"]
MONTHLY_ASSETS = {
    "raw/green_trips", "raw/yellow_trips", "clean/green_trips", "clean/yellow_trips", "quarantine/green_trips",
    "quarantine/yellow_trips", "core/trips", "reports/revenue_monthly_zone",
}
RUN_TIMEOUT = 420  # seconds; a run takes ~30-60 s here, more on a loaded machine
REPO_SELECTOR = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
ARTIFACTS = REPO_ROOT / "test-artifacts"
MAX_LAG_HOURS = "0.001"  # 3.6 s: the newest month, never materialized here, is late by the time the check runs
SOURCES = [["source", "green_trips"], ["source", "yellow_trips"]]


# ---- the server and the runs ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    server = DagsterDev(tmp_path_factory.mktemp("dagster-ui"), extra_env={MAX_LAG_ENV_VAR: MAX_LAG_HOURS})
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    yield server
    leftovers = server.stop()
    assert server.process.returncode is not None
    assert not leftovers, "processes of the dagster dev tree left after it stopped:\n" + "\n".join(map(str, leftovers))


def launch_run(server: DagsterDev, selector: dict, tags: dict[str, str] | None = None) -> str:
    """launchRun as the UI sends it; -> the run id."""
    data = server.gql(
        """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
             __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
             ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }""",
        params={
            "selector": {**REPO_SELECTOR, **selector},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
        },
    )["launchRun"]
    assert data["__typename"] == "LaunchRunSuccess", data
    return data["run"]["runId"]


@pytest.fixture(scope="module")
def launched(dagster_ui):
    """The runs launched at once: {"single": run id, "backfill": backfill id, "observe": run id}. The two Spark runs
    go one after the other; the observation of the sources (the UI's "Observe sources") goes beside them."""
    single = launch_run(dagster_ui, {"jobName": "monthly_revenue"},
                        tags={"dagster/partition": SINGLE_MONTH, SPARK_RUN_TAG: "true"})
    observe = launch_run(dagster_ui, {"jobName": "__ASSET_JOB", "assetSelection": [{"path": p} for p in SOURCES],
                                      "assetCheckSelection": []})

    keys = [{"path": key.split("/")} for key in sorted(MONTHLY_ASSETS)]
    data = dagster_ui.gql(
        """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
             __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        params={"assetSelection": keys, "partitionNames": BACKFILL_MONTHS, "title": "ui test: three months",
                "tags": [{"key": SPARK_RUN_TAG, "value": "true"}]},
    )["launchPartitionBackfill"]
    assert data["__typename"] == "LaunchBackfillSuccess", data
    return {"single": single, "backfill": data["backfillId"], "observe": observe}


RUN_FIELDS = "runId status tags { key value } assetSelection { path }"


def run_info(server: DagsterDev, run_id: str) -> dict:
    return server.gql(f'{{ runOrError(runId: "{run_id}") {{ __typename ... on Run {{ {RUN_FIELDS} }} }} }}')["runOrError"]


def run_report(server: DagsterDev, run_id: str) -> str:
    """What went wrong, for a failure message: the run's errors and its last log lines, and the server's log."""
    events = server.gql(
        """query($id: ID!) { logsForRun(runId: $id, limit: 2000) { __typename ... on EventConnection { events {
             __typename ... on MessageEvent { message level stepKey eventType }
             ... on ExecutionStepFailureEvent { error { message stack } }
             ... on RunFailureEvent { pipelineFailureError: error { message } } } } } }""",
        id=run_id,
    )["logsForRun"].get("events", [])
    lines = []
    for e in events:
        error = e.get("error") or e.get("pipelineFailureError")
        if e.get("level") in ("ERROR", "CRITICAL") or error:
            lines.append(f"{e.get('eventType')} {e.get('stepKey')}: {e.get('message')}")
            if error:
                lines.append(error.get("message", "") + "".join(error.get("stack") or [])[-3000:])
    lines.append("-- last events --")
    lines += [f"{e.get('eventType')} {e.get('stepKey')}: {(e.get('message') or '')[:200]}" for e in events[-25:]]
    return "\n".join(lines) + f"\n-- dagster dev log --\n{server.log_tail(40)}"


def wait_for_run(server: DagsterDev, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = run_info(server, run_id)
        if run["status"] == "SUCCESS":
            return run
        if run["status"] in ("FAILURE", "CANCELED"):
            pytest.fail(f"run {run_id} ended {run['status']}:\n{run_report(server, run_id)}")
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} still {run['status']} after {timeout:.0f} s:\n{run_report(server, run_id)}")
        time.sleep(2)


@pytest.fixture(scope="module")
def single_run(dagster_ui, launched):
    return wait_for_run(dagster_ui, launched["single"])


@pytest.fixture(scope="module")
def backfill(dagster_ui, launched):
    """Wait until the backfill has made its run and the run succeeded; -> (the backfill, its run)."""
    query = f"""{{ partitionBackfillOrError(backfillId: "{launched['backfill']}") {{ __typename
                 ... on PartitionBackfill {{ id status isAssetBackfill partitionNames runs {{ {RUN_FIELDS} }} }}
                 ... on PythonError {{ message }} }} }}"""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        data = dagster_ui.gql(query)["partitionBackfillOrError"]
        assert data["__typename"] == "PartitionBackfill", data
        if data["runs"]:
            break
        if data["status"] not in ("REQUESTED",) or time.monotonic() > deadline:
            pytest.fail(f"backfill made no run (status {data['status']}):\n{dagster_ui.log_tail()}")
        time.sleep(2)
    run = wait_for_run(dagster_ui, data["runs"][0]["runId"])
    while data["status"] == "REQUESTED" and time.monotonic() < deadline:  # the daemon notices on its next pass
        time.sleep(2)
        data = dagster_ui.gql(query)["partitionBackfillOrError"]
    return data, run


@pytest.fixture(scope="module")
def freshness(dagster_ui, launched, single_run, backfill):
    """The sources observed (every month of the sample), then the report's freshness check run on its own, as the
    UI's "Execute" on the Checks tab does; -> its execution {runId status evaluation {success description}}.
    Launched after the Spark runs, which execute the same check: the Checks tab's "Latest execution" is then this
    run's (run beside them, theirs could be planned or evaluated after it, as CI once saw)."""
    wait_for_run(dagster_ui, launched["observe"])
    run_id = launch_run(dagster_ui, {"jobName": "__ASSET_JOB", "assetSelection": [], "assetCheckSelection": [
        {"assetKey": {"path": REPORT}, "name": FRESHNESS_CHECK}]})
    wait_for_run(dagster_ui, run_id)
    executions = dagster_ui.gql(
        """query($key: AssetKeyInput!, $check: String!) { assetCheckExecutions(assetKey: $key, checkName: $check,
             limit: 50) { runId status evaluation { success description } } }""",
        key={"path": REPORT}, check=FRESHNESS_CHECK,
    )["assetCheckExecutions"]
    # The Spark runs launched beside it execute the same check (planned IN_PROGRESS, then evaluated), so the
    # latest execution need not be this run's: pick this run's own.
    mine = [e for e in executions if e["runId"] == run_id]
    assert len(mine) == 1, executions
    return mine[0]


def materializations(server: DagsterDev, run_id: str) -> list[dict]:
    return server.gql(
        """query($id: ID!) { runOrError(runId: $id) { ... on Run { assetMaterializations {
             assetKey { path } partition runId metadataEntries { label __typename
               ... on IntMetadataEntry { intValue } ... on JsonMetadataEntry { jsonString }
               ... on PathMetadataEntry { path } } } } } }""",
        id=run_id,
    )["runOrError"]["assetMaterializations"]


def metadata(event: dict) -> dict:
    values = {}
    for entry in event["metadataEntries"]:
        if "intValue" in entry:
            values[entry["label"]] = entry["intValue"]
        elif "jsonString" in entry:
            values[entry["label"]] = json.loads(entry["jsonString"])
        elif "path" in entry:
            values[entry["label"]] = entry["path"]
    return values


def check_names(server: DagsterDev) -> dict[str, list[str]]:
    """{asset key: its check names} for the monthly job's assets."""
    nodes = server.gql(
        """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } } }"""
    )["assetNodes"]
    out = {}
    for node in nodes:
        key = "/".join(node["assetKey"]["path"])
        if key in MONTHLY_ASSETS:  # the report's freshness check is not run by the monthly job (test_freshness.py)
            out[key] = sorted(c["name"] for c in node["assetChecksOrError"].get("checks", [])
                              if c["name"] != FRESHNESS_CHECK)
    return out


def check_partition_statuses(server: DagsterDev) -> dict[str, dict[str, list[tuple[str, str, str]]]]:
    """{asset key: {check: [(status, first month, last month)]}}: the per-month check statuses the UI counts."""
    nodes = server.gql(
        """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name
             partitionStatuses { ... on AssetCheckTimePartitionStatuses { ranges { status startKey endKey } } }
           } } } } }"""
    )["assetNodes"]
    return {
        "/".join(node["assetKey"]["path"]): {
            c["name"]: [(r["status"], r["startKey"], r["endKey"]) for r in c["partitionStatuses"]["ranges"]]
            for c in node["assetChecksOrError"].get("checks", [])
            if c["name"] != FRESHNESS_CHECK
        }
        for node in nodes
        if "/".join(node["assetKey"]["path"]) in MONTHLY_ASSETS
    }


def check_executions(server: DagsterDev, asset_key: str, check: str, partition: str | None = None) -> list[dict]:
    return server.gql(
        """query($key: AssetKeyInput!, $check: String!, $partition: String) {
             assetCheckExecutions(assetKey: $key, checkName: $check, partition: $partition, limit: 20) {
               runId status partition evaluation { success severity metadataEntries { label } } } }""",
        key={"path": asset_key.split("/")}, check=check, partition=partition,
    )["assetCheckExecutions"]


def lake_rows(server: DagsterDev, month: str) -> int:
    return ds.dataset(server.lake / "reports" / "revenue_monthly_zone" / f"month={month}", format="parquet").count_rows()


# ---- the tests --------------------------------------------------------------------------------------------------
def test_graphql_lists_the_assets_their_partitions_jobs_and_the_sensor(dagster_ui, launched):
    nodes = dagster_ui.gql(
        """{ assetNodes { assetKey { path } groupName jobNames isPartitioned partitionKeys
             backfillPolicy { policyType } partitionDefinition { type } } }"""
    )["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert MONTHLY_ASSETS | {"ref/taxi_zones", "reports/hourly_revenue_by_zone", "raw/fhv_trips"} <= set(by_key)
    expected_keys = monthly_partitions.get_partition_keys()
    assert expected_keys[-1] == datetime.now(timezone.utc).strftime("%Y-%m")
    for key in MONTHLY_ASSETS:
        node = by_key[key]
        assert node["isPartitioned"] and node["partitionDefinition"]["type"] == "TIME_WINDOW", key
        assert node["partitionKeys"] == expected_keys, key
        assert node["backfillPolicy"]["policyType"] == "SINGLE_RUN", key
        assert "monthly_revenue" in node["jobNames"], key
    assert by_key["reports/revenue_monthly_zone"]["groupName"] == "reports"
    assert not by_key["ref/taxi_zones"]["isPartitioned"]

    sensors = dagster_ui.gql(
        """query($repo: RepositorySelector!) { sensorsOrError(repositorySelector: $repo) { __typename
             ... on Sensors { results { name minIntervalSeconds sensorState { status } targets { pipelineName } } } } }""",
        repo=REPO_SELECTOR,
    )["sensorsOrError"]["results"]
    by_name = {s["name"]: s for s in sensors}
    observation = by_name["source_months_observation"]
    assert observation["sensorState"]["status"] == "STOPPED" and observation["minIntervalSeconds"] == 3600
    assert by_name["revenue_automation"]["sensorState"]["status"] == "STOPPED"
    for name in ("for_hire_source_months_observation", "for_hire_automation"):  # the for-hire pipeline's pair
        assert by_name[name]["sensorState"]["status"] == "STOPPED", name


def test_observation_sensor_dry_run_in_the_code_server_sees_every_published_month(dagster_ui):
    """The observation sensor evaluated by the real code location (the UI's "Test sensor"): the sample source has
    every month, so its first tick records a version for each month of green and yellow (kept in its cursor), and
    launches no run itself (Declarative Automation does)."""
    tick = dagster_ui.gql(
        """mutation($selector: SensorSelector!) { sensorDryRun(selectorData: $selector, cursor: null) { __typename
             ... on DryRunInstigationTick { evaluationResult { runRequests { runKey tags { key value } }
                                                               skipReason cursor error { message } } }
             ... on PythonError { message } } }""",
        selector={**REPO_SELECTOR, "sensorName": "source_months_observation"},
    )["sensorDryRun"]
    assert tick["__typename"] == "DryRunInstigationTick", tick
    result = tick["evaluationResult"]
    assert result["error"] is None, result["error"]
    assert result["runRequests"] == []
    months = monthly_partitions.get_partition_keys()
    assert set(json.loads(result["cursor"])) == {f"{t}/{m}" for t in ("green", "yellow") for m in months}


def test_the_report_checks_tab_shows_the_freshness_check_failed_with_its_description(dagster_ui, freshness, tmp_path):
    """The newest month every source type published (observed: the month in progress) is not in the report after
    MAX_LAG_HOURS: the check fails, and the report's Checks tab says so, with the check's sentence about the month."""
    chromium = chromium_or_skip()
    newest = monthly_partitions.get_partition_keys()[-1]
    assert (freshness["status"], freshness["evaluation"]["success"]) == ("FAILED", False), freshness
    description = freshness["evaluation"]["description"]
    assert re.fullmatch(rf"{newest} was published [0-9.]+ h ago and is still not in the report "
                        rf"\(allowed: {MAX_LAG_HOURS} h\)\.", description), description

    page = render(chromium, f"{dagster_ui.url}/assets/reports/revenue_monthly_zone?view=checks&checkDetail="
                  f"{FRESHNESS_CHECK}",
                  tmp_path / "report-checks.png")
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy2(page.screenshot, ARTIFACTS / page.screenshot.name)
    (ARTIFACTS / "report-checks.html").write_text(page.html)
    assert f"| {FRESHNESS_CHECK} | Failed |" in page.text, page.text[:3000]  # the check list: name, status
    latest = page.text.split("Latest execution", 1)[-1][:400]
    assert f"| {description} |" in latest and "| Failed |" in latest, latest  # the selected check's latest result
    assert f"| newest_month | {newest} |" in page.text and "| state | missing |" in page.text  # its metadata


def test_single_partition_run_materializes_the_month_and_passes_every_check(dagster_ui, single_run):
    tags = {t["key"]: t["value"] for t in single_run["tags"]}
    assert tags["dagster/partition"] == SINGLE_MONTH
    events = materializations(dagster_ui, single_run["runId"])
    assert {("/".join(e["assetKey"]["path"]), e["partition"]) for e in events} == {
        (key, SINGLE_MONTH) for key in MONTHLY_ASSETS
    }
    report = metadata(next(e for e in events if e["assetKey"]["path"] == REPORT))
    rows = lake_rows(dagster_ui, SINGLE_MONTH)
    assert rows > 0 and report["dagster/row_count"] == rows
    raw = metadata(next(e for e in events if e["assetKey"]["path"] == ["raw", "green_trips"]))
    # the sample's knob is yellow's rows; green gets its real share of them (realistic volumes)
    assert raw["months"][SINGLE_MONTH]["rows"] == sample_rows("green", SINGLE_MONTH, dagster_ui.sample_rows)
    yellow = metadata(next(e for e in events if e["assetKey"]["path"] == ["raw", "yellow_trips"]))
    assert yellow["months"][SINGLE_MONTH]["rows"] == dagster_ui.sample_rows

    checks = check_names(dagster_ui)
    assert sum(len(names) for names in checks.values()) == 14
    for key, names in checks.items():
        for name in names:
            executions = check_executions(dagster_ui, key, name, SINGLE_MONTH)
            assert executions, f"no {key} {name} result for {SINGLE_MONTH}"
            latest = executions[0]
            assert (latest["runId"], latest["status"], latest["evaluation"]["success"]) == (
                single_run["runId"], "SUCCEEDED", True), (key, name, latest)


def test_three_month_backfill_is_one_run_that_materializes_every_month(dagster_ui, backfill, single_run):
    data, run = backfill
    assert data["isAssetBackfill"] and data["partitionNames"] == BACKFILL_MONTHS
    assert len(data["runs"]) == 1, [r["runId"] for r in data["runs"]]  # single_run backfill policy: ONE run
    assert data["status"] == "COMPLETED_SUCCESS", data["status"]
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        BACKFILL_MONTHS[0], BACKFILL_MONTHS[-1])
    runs = dagster_ui.gql(
        """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) { ... on Runs { results { runId } } } }""",
        tags=[{"key": "dagster/backfill", "value": data["id"]}],
    )["runsOrError"]["results"]
    assert [r["runId"] for r in runs] == [run["runId"]]

    events = materializations(dagster_ui, run["runId"])
    assert {("/".join(e["assetKey"]["path"]), e["partition"]) for e in events} == {
        (key, month) for key in MONTHLY_ASSETS for month in BACKFILL_MONTHS
    }
    report = metadata(next(e for e in events if e["assetKey"]["path"] == REPORT))
    assert report["rows_by_month"] == {month: lake_rows(dagster_ui, month) for month in BACKFILL_MONTHS}
    assert report["dagster/row_count"] == sum(report["rows_by_month"].values())

    statuses = dagster_ui.gql(
        """{ assetNodes(assetKeys: [{path: ["reports", "revenue_monthly_zone"]}]) { assetPartitionStatuses {
             ... on TimePartitionStatuses { ranges { status startKey endKey } } } } }"""
    )["assetNodes"][0]["assetPartitionStatuses"]["ranges"]
    assert [(r["status"], r["startKey"], r["endKey"]) for r in statuses] == [
        ("MATERIALIZED", SINGLE_MONTH, BACKFILL_MONTHS[-1])]

    # Every check ran in the backfill's run and passed, for EACH month: the run records one result per month
    # (taxi_platform/checks/results.py), so the graph counts them as passed, none skipped; the run-level summary is
    # the check's record without a partition.
    for key, names in check_names(dagster_ui).items():
        for name in names:
            for month in BACKFILL_MONTHS:
                latest = check_executions(dagster_ui, key, name, month)[0]
                assert (latest["runId"], latest["status"], latest["partition"], latest["evaluation"]["success"]) == (
                    run["runId"], "SUCCEEDED", month, True), (key, name, month, latest)
            mine = [e for e in check_executions(dagster_ui, key, name) if e["runId"] == run["runId"]]
            assert any(e["partition"] is None and e["evaluation"]["success"] for e in mine), (key, name, mine)
    statuses = check_partition_statuses(dagster_ui)
    assert sum(len(names) for names in statuses.values()) == 14
    for key, by_check in statuses.items():  # the single run's month and the backfill's three: one passed range
        for name, ranges in by_check.items():
            assert ranges == [("SUCCEEDED", SINGLE_MONTH, BACKFILL_MONTHS[-1])], (key, name, ranges)


def test_run_workers_and_their_spark_jvms_are_gone_after_the_runs(dagster_ui, single_run, backfill):
    deadline = time.monotonic() + 30
    while True:
        workers = [p for p in processes_with_marker(dagster_ui.marker)
                   if "java" in p.cmdline.split(" ", 1)[0] or "execute_run" in p.cmdline]
        if not workers or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not workers, "run workers / Spark JVMs still alive after their runs:\n" + "\n".join(map(str, workers))


def test_the_browser_shows_the_graph_and_the_report_with_its_latest_materialization(
    dagster_ui, single_run, backfill, tmp_path
):
    chromium = chromium_or_skip()
    _, run = backfill
    shots = tmp_path / "screenshots"

    graph = render(
        chromium,
        f"{dagster_ui.url}/assets/reports/revenue_monthly_zone?view=lineage&lineageScope=upstream&lineageDepth=3",
        shots / "asset-graph.png",
    )
    report = render(chromium, f"{dagster_ui.url}/assets/reports/revenue_monthly_zone", shots / "report-asset.png")
    ARTIFACTS.mkdir(exist_ok=True)
    for page in (graph, report):
        shutil.copy2(page.screenshot, ARTIFACTS / page.screenshot.name)
        (ARTIFACTS / page.screenshot.with_suffix(".html").name).write_text(page.html)

    for page in (graph, report):
        assert page.screenshot.stat().st_size > 20_000, f"{page.screenshot} looks blank"
        assert "Join the Dagster community" not in page.text  # no first-visit dialog over the page

    # the graph: every group and every asset of the monthly job, with the partitions filled by the two runs
    for name in ("raw", "clean", "core", "reports", "green_trips", "yellow_trips", "trips", "revenue_monthly_zone"):
        assert f"| {name} |" in graph.text, f"{name!r} not on the asset graph page:\n{graph.text[:3000]}"
    assert "Partitions" in graph.text and "filled" in graph.text

    # the report: its name, and its latest materialization (the backfill's last month, from the backfill's run)
    assert "revenue_monthly_zone" in report.text and "Latest materialization" in report.text, report.text[:3000]
    latest = report.text.split("Latest materialization", 1)[1][:200]
    assert f"| {BACKFILL_MONTHS[-1]} |" in latest, latest
    assert f"/runs/{run['runId']}" in report.html  # links to the run that made it
    rows = metadata(next(e for e in materializations(dagster_ui, run["runId"]) if e["assetKey"]["path"] == REPORT))
    assert f"{rows['dagster/row_count']:,}" in report.text  # the "Row count" it shows

    # owners and the column table with each contract column's description
    assert "team:taxi-revenue" in report.html or "taxi-revenue" in report.text
    assert "Sum of total_amount: the zone's revenue of the month, USD." in report.text

    # the revenue chart: a real PNG the browser decodes and displays, from the report's markdown metadata
    shown = open_markdown_image(chromium, f"{dagster_ui.url}/assets/reports/revenue_monthly_zone",
                                "revenue_chart_image", shots / "revenue-chart.png")
    shutil.copy2(shots / "revenue-chart.png", ARTIFACTS / "revenue-chart.png")
    assert (shown["width"], shown["height"], shown["visible"]) == (1100, 420, True), shown


def test_a_missing_chromium_skips_the_browser_test_but_fails_it_in_ci(monkeypatch):
    import taxi_platform_tests.ui.browser as browser

    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed .*scripts/ensure-chromium"):
        browser.chromium_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser test"):
        browser.chromium_or_skip()
    monkeypatch.setattr(browser.shutil, "which", lambda name: f"/usr/bin/{name}" if name == "chromium" else None)
    assert browser.chromium_or_skip() == "/usr/bin/chromium"
