"""Names, addresses and arguments of the Dataproc target, as pure functions: regional endpoints, gs:// paths of
the lake's datasets, the job script's arguments, job/batch ids, labels, console URLs; and the config error.

No Google client, no Dagster: what is sent is decided here and in ``requests.py``, and tested without Google.
"""

from __future__ import annotations

import re
import uuid
from typing import Sequence

from taxi_platform.partitions import parse_month


MODES = ("cluster", "serverless")
PY_FILE_EXTENSIONS = (".zip", ".egg", ".py")  # what python_file_uris / --py-files put on the PYTHONPATH
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
REPORT_DATASET = "reports/revenue_monthly_zone"
RAW_DATASETS = {"green": "raw/green_trips", "yellow": "raw/yellow_trips"}
_REGION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")  # us-central1, europe-west4, northamerica-northeast1
_CLUSTER_RE = re.compile(r"^[a-z]([-a-z0-9]{0,49}[a-z0-9])?$")
_LABEL_BAD = re.compile(r"[^a-z0-9_-]")


class DataprocConfigError(ValueError):
    """The dataproc target's configuration cannot work; raised before any request is built or sent."""




def regional_endpoint(region: str) -> str:
    """The regional Dataproc API endpoint: jobs and batches of ``region`` are only reachable there."""
    if not region or not _REGION_RE.match(region):
        raise DataprocConfigError(f"region {region!r} is not a Dataproc region (e.g. 'us-central1'); 'global' is not "
                                  "supported: the target uses regional endpoints")
    return f"{region}-dataproc.googleapis.com:443"


def client_options(region: str) -> dict[str, str]:
    return {"api_endpoint": regional_endpoint(region)}


def _require_gs(name: str, value: str, *, allow_file: bool = False) -> None:
    schemes = ("gs://", "file://") if allow_file else ("gs://",)
    if not isinstance(value, str) or not value.startswith(schemes) or len(value.rstrip("/")) <= len(value.split("//")[0]) + 2:
        raise DataprocConfigError(f"{name} must be a {' or '.join(schemes)} URI, got {value!r}")


def report_paths(lake_root: str) -> dict[str, str]:
    """The gs:// inputs and output of the report under ``lake_root`` (the lake layout, month=YYYY-MM folders)."""
    _require_gs("lake_root", lake_root)
    root = lake_root.rstrip("/")
    return {
        "input_green": f"{root}/{RAW_DATASETS['green']}",
        "input_yellow": f"{root}/{RAW_DATASETS['yellow']}",
        "output": f"{root}/{REPORT_DATASET}",
    }


def job_args(input_green: str, input_yellow: str, output: str, months: Sequence[str]) -> list[str]:
    """The job script's arguments, in its order: ``--input_green= --input_yellow= --output= --months=a,b``."""
    for name, value in (("input_green", input_green), ("input_yellow", input_yellow), ("output", output)):
        _require_gs(name, value)
    if not months:
        raise DataprocConfigError("months is empty: the job needs at least one month (YYYY-MM)")
    for month in months:
        parse_month(month)
    return [
        f"--input_green={input_green}",
        f"--input_yellow={input_yellow}",
        f"--output={output}",
        f"--months={','.join(months)}",
    ]


def workload_id(months: Sequence[str], run_id: str, token: str | None = None) -> str:
    """A job id / batch id that is valid for both (lowercase letters, digits, '-', 4-63 chars, starts with a letter)
    and readable: ``taxi-revenue-202101-202103-<first 8 of the run id>-<6 random hex>``.
    The random part keeps a retried step from colliding with the id of its first attempt."""
    first, last = min(months).replace("-", ""), max(months).replace("-", "")
    run = re.sub(r"[^a-z0-9]", "", (run_id or "norun").lower())[:8] or "norun"
    token = token if token is not None else uuid.uuid4().hex[:6]
    return f"taxi-revenue-{first}-{last}-{run}-{token}"


def sanitize_label(text: str) -> str:
    """Dataproc label keys/values: lowercase letters, digits, '_' and '-', at most 63 characters."""
    return _LABEL_BAD.sub("-", str(text).lower())[:63]


def job_console_url(project_id: str, region: str, job_id: str) -> str:
    return f"https://console.cloud.google.com/dataproc/jobs/{job_id}?project={project_id}&region={region}"


def batch_console_url(project_id: str, region: str, batch_id: str) -> str:
    return f"https://console.cloud.google.com/dataproc/batches/{region}/{batch_id}?project={project_id}"
