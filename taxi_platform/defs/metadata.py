"""Definition metadata the pipelines share: column schemas with descriptions, owners, code references.

- ``column_schema(contract)``: a contract of ``schemas.py`` as ``dagster/column_schema``, each column with its type and
  its description (``schemas.COLUMN_DESCRIPTIONS``): the UI's column table.
- ``declared(assets, owners)``: what every pipeline applies to its assets in one place: ``owners`` and code references
  (the file and line of each asset's function; turned into links to the git host when a remote is configured:
  ``source_control()``). Observed source assets (``SourceAsset``) are turned into the external assets Dagster would
  make of them, so they get both too.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import warnings
from pathlib import Path
from typing import Optional, Sequence

from dagster import (
    AnchorBasedFilePathMapping,
    AssetsDefinition,
    BetaWarning,
    SourceAsset,
    TableColumn,
    TableSchema,
    link_code_references_to_git,
    with_source_code_references,
)

from taxi_platform.schemas import column_description

# Code references are a Dagster beta (1.13): the platform uses them on purpose, not a warning per asset at each load.
warnings.filterwarnings(
    "ignore", category=BetaWarning,
    message=".*(with_source_code_references|LocalFileCodeReference|CodeReferencesMetadataValue|UrlCodeReference"
    "|link_code_references_to_git|AnchorBasedFilePathMapping).*",
)

REPO_ROOT = Path(__file__).resolve().parents[2]
GIT_URL_ENV_VAR, GIT_BRANCH_ENV_VAR = "TAXI_GIT_URL", "TAXI_GIT_BRANCH"

# Who answers for each pipeline's assets (Dagster owners: team:NAME or an email); shown in the UI and filterable.
OWNERS = {
    "reference": ["team:taxi-data-platform"],
    "revenue": ["team:taxi-data-platform", "team:taxi-revenue"],
    "for_hire": ["team:taxi-data-platform"],
    "analytics": ["team:taxi-analytics"],
}


def column_schema(contract) -> TableSchema:
    """A (name, Spark type) contract as the asset's `dagster/column_schema`: shown in the UI with each column's
    description, and the types an IO manager that cannot keep Spark's (BigQuery) casts back to on load."""
    return TableSchema(
        columns=[TableColumn(name=name, type=kind, description=column_description(name)) for name, kind in contract]
    )


def _https(url: str) -> str:
    """git@host:org/repo.git or https://host/org/repo(.git) -> https://host/org/repo (no credentials)."""
    ssh = re.match(r"^(?:ssh://)?git@([^:/]+)[:/](.+?)(?:\.git)?/?$", url)
    if ssh:
        return f"https://{ssh.group(1)}/{ssh.group(2)}"
    https = re.match(r"^https?://(?:[^@/]+@)?(.+?)(?:\.git)?/?$", url)
    return f"https://{https.group(1)}" if https else ""


def source_control(env=os.environ) -> Optional[tuple[str, str]]:
    """(https URL of the repository, branch) for code links: ``TAXI_GIT_URL``/``TAXI_GIT_BRANCH``, else the git
    checkout's ``origin`` remote and current branch; None when there is no remote (links stay local paths)."""
    url, branch = env.get(GIT_URL_ENV_VAR), env.get(GIT_BRANCH_ENV_VAR)
    if not url:
        url, checked_out = _git_origin()
        branch = branch or checked_out
    url = _https(url or "")
    return (url, branch or "main") if url else None


@functools.lru_cache(maxsize=1)
def _git_origin() -> tuple[str, str]:
    """(origin URL, current branch) of the checkout the package runs from; ("", "") when there is none."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True,
                              timeout=5).stdout.strip()

    try:
        return git("remote", "get-url", "origin"), git("rev-parse", "--abbrev-ref", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return "", ""


def _external(asset) -> AssetsDefinition:
    """A SourceAsset as the external AssetsDefinition Dagster makes of it, with a code reference to its function."""
    from dagster._core.definitions.external_asset import create_external_asset_from_source_asset
    from dagster._core.definitions.metadata.source_code import (
        CodeReferencesMetadataSet,
        CodeReferencesMetadataValue,
        local_source_path_from_fn,
    )

    external = create_external_asset_from_source_asset(asset)
    fn = getattr(asset.observe_fn, "decorated_fn", asset.observe_fn)
    path = local_source_path_from_fn(fn) if fn is not None else None
    if path is None:
        return external
    references = CodeReferencesMetadataSet(code_references=CodeReferencesMetadataValue(code_references=[path]))
    return external.map_asset_specs(lambda spec: spec.merge_attributes(metadata=dict(references)))


def declared(assets: Sequence, owners: Sequence[str], git: Optional[tuple[str, str]] = None) -> list:
    """``assets`` with ``owners`` and code references (linked to ``git`` = (url, branch), default
    ``source_control()``)."""
    with_refs = with_source_code_references([_external(a) if isinstance(a, SourceAsset) else a for a in assets])
    owned = [a.map_asset_specs(lambda spec: spec.replace_attributes(owners=list(owners))) for a in with_refs]
    git = git if git is not None else source_control()
    if git is None:
        return owned
    return list(link_code_references_to_git(
        owned,
        git_url=git[0],
        git_branch=git[1],
        file_path_mapping=AnchorBasedFilePathMapping(
            local_file_anchor=REPO_ROOT / "pyproject.toml", file_anchor_path_in_repository="pyproject.toml"
        ),
    ))
