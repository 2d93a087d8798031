"""Per-month results of the partitioned asset checks, so a range run (a single-run backfill) records every month.

Dagster 1.13 (partitioned asset checks are a preview) stamps an ``AssetCheckResult`` with the run's partition only
when the run has ONE partition (the ``dagster/partition`` tag). A range run (tags
``dagster/asset_partition_range_start``/``_end``, what a single-run backfill launches) records the result with no
partition, and the per-month check executions the run had planned end as SKIPPED: after a 3-month backfill the UI
shows "0 / 3 Passed" however the check went.

``month_results`` yields what a check should record for its run:

- one-partition run: one plain ``AssetCheckResult`` (its month's metadata + the run's metadata); Dagster stamps the
  month and the materialization it looked at, as usual.
- range run: one ``AssetCheckEvaluation`` per month of the run (``partition=month``, the month's own outcome and
  metadata, and a pointer to that month's latest materialization, which is what the UI needs to count the month's
  check as current), then the ``AssetCheckResult`` the check's op must still return (its required output): the
  range-level summary (every month passed?), recorded by Dagster with no partition, as before.
- unpartitioned run: the summary only.

A failed month of a blocking ERROR check fails the step, as a failed ``AssetCheckResult`` does. Each check computes
its months' outcomes from per-month data in ONE Spark job (a groupBy on the month), never a job per month.

Pinned to dagster==1.13.*: ``AssetCheckEvaluation`` and ``AssetCheckEvaluationTargetMaterializationData`` are
Dagster's own (serialized) event records, not public API; ``target_materialization`` reproduces what
``AssetCheckResult._get_partitioned_target_materialization_data`` does for a one-partition run, through public API
(``instance.fetch_materializations`` + ``AssetRecordsFilter``). A test (taxi_platform_tests/assets/
test_check_partitions.py) checks the recorded per-month state the UI reads, so an upgrade that changes this fails it.
"""

from typing import Any, Iterator, Mapping, NamedTuple, Optional, Union

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
)
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
)

MONTH_METADATA_KEY = "month"
MONTHS_KEY = "months"
FAILED_MONTHS_KEY = "failed_months"


class MonthOutcome(NamedTuple):
    """One month's verdict of a check and what the UI shows beside it."""

    passed: bool
    metadata: Mapping[str, Any] = {}


def check_months(context: AssetCheckExecutionContext) -> list[str]:
    """The months the check looks at in this run; [] when the run is not partitioned."""
    if context.has_partition_key or context.has_partition_key_range:
        return list(context.partition_keys)
    return []


def target_materialization(
    instance: DagsterInstance, asset_key: AssetKey, month: str
) -> Optional[AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialization of ``asset_key``'s ``month`` (what the check looked at), None if there is none."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=asset_key, asset_partitions=[month]), limit=1
    ).records
    if not records:
        return None
    record = records[0]
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
    )


def month_results(
    context: AssetCheckExecutionContext,
    per_month: Mapping[str, Union[MonthOutcome, tuple]],
    metadata: Optional[Mapping[str, Any]] = None,
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
    passed: bool = True,
) -> Iterator[Union[AssetCheckEvaluation, AssetCheckResult]]:
    """Yield the check's per-month evaluations (range runs) and its one required ``AssetCheckResult``.

    ``per_month``: {month: (passed, metadata)} for every month of the run (a missing month is a bug: it raises).
    ``metadata``: the run-level metadata (over all its months) of the summary result. The summary passes when every
    month passes and ``passed`` (a run-level problem no month owns); it lists ``months`` and ``failed_months``.
    Blocking comes from the check's spec.
    """
    months = check_months(context)
    missing = [m for m in months if m not in per_month]
    if missing:
        raise ValueError(f"{context.check_specs[0].key.to_user_string()}: no outcome for months {missing}")
    outcomes = {m: MonthOutcome(*per_month[m]) for m in months}
    failed = [m for m, outcome in outcomes.items() if not outcome.passed]
    summary = {**(metadata or {}), MONTHS_KEY: months, FAILED_MONTHS_KEY: failed}

    if not months:  # an unpartitioned check
        yield AssetCheckResult(passed=passed, severity=severity, metadata=summary)
        return
    if context.has_partition_key:  # one month: Dagster stamps the partition and the materialization itself
        (outcome,) = outcomes.values()
        yield AssetCheckResult(
            passed=passed and outcome.passed, severity=severity, metadata={**outcome.metadata, **summary}
        )
        return

    (spec,) = context.check_specs
    for month, outcome in outcomes.items():
        yield AssetCheckEvaluation(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=outcome.passed,
            metadata={MONTH_METADATA_KEY: month, **outcome.metadata},
            target_materialization_data=target_materialization(context.instance, spec.asset_key, month),
            severity=severity,
            blocking=spec.blocking,
            partition=month,
        )
    yield AssetCheckResult(passed=passed and not failed, severity=severity, metadata=summary)
