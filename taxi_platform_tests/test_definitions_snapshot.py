"""A snapshot of the code location (assets, groups, partitions, deps, owners, automation, checks, jobs, sensors).

Replaces hand-kept counts: any change to what the definitions declare shows here as a readable JSON diff. After an
intended change, rewrite the snapshot and review its diff:

    UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest taxi_platform_tests/test_definitions_snapshot.py
"""

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def _partitions(partitions_def) -> str | None:
    if partitions_def is None:
        return None
    start = getattr(partitions_def, "start", None)
    kind = type(partitions_def).__name__
    return f"{kind}(start={start:%Y-%m})" if start is not None else kind


def definitions_snapshot(defs) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        spec = {
            "group": node.group_name,
            "partitions": _partitions(node.partitions_def),
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "automation_condition": node.automation_condition.get_label() or type(node.automation_condition).__name__
            if node.automation_condition
            else None,
            "materializable": node.is_materializable,
            "observable": node.is_observable,
        }
        if node.legacy_freshness_policy or getattr(node, "freshness_policy", None):
            spec["freshness"] = type(getattr(node, "freshness_policy", None) or node.legacy_freshness_policy).__name__
        assets[key.to_user_string()] = spec
    checks = sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys)
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        layer = job.asset_layer
        jobs[job.name] = sorted(k.to_user_string() for k in layer.executable_asset_keys) if layer else "op job"
    sensors = sorted(s.name for s in defs.sensors or [])
    schedules = sorted(s.name for s in defs.schedules or [])
    return {"assets": assets, "checks": checks, "jobs": jobs, "sensors": sensors, "schedules": schedules}


def test_definitions_match_the_snapshot():
    from taxi_platform.definitions import defs

    actual = definitions_snapshot(defs)
    if os.environ.get("UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert actual == expected, "definitions changed: if intended, rerun with UPDATE_SNAPSHOT=1 and review the diff"
