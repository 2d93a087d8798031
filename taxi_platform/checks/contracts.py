"""Contract checks: the stored data has the contract's columns and types, and no null keys.

Checks are partitioned like their assets: run with a materialization (or alone from the UI / in tests) they look at
exactly the months of that run's partition range, and record a result for each month (``checks/results.py``).

- ``schema_matches_contract``: the range's months are read as one dataset with one schema, so every month gets the
  verdict of that schema (no Spark job).
- ``no_null_keys``: null counts per month, in one Spark job (a groupBy on the month).
"""


from dagster import AssetCheckExecutionContext, AssetKey, MetadataValue, asset_check

from taxi_platform.checks.results import check_months, month_results
from taxi_platform.partitions import monthly_partitions
from taxi_platform.schemas import MONTH_COLUMN, Contract, spark_type_name


def schema_differences(dtypes: list[tuple[str, str]], contract: Contract) -> list[str]:
    """What differs between a DataFrame's (name, type) list and the contract, as readable lines (empty if equal)."""
    expected = spark_type_name(contract)
    actual = {name: kind for name, kind in dtypes if name != MONTH_COLUMN}
    problems = [f"missing column {name} ({kind})" for name, kind in expected.items() if name not in actual]
    problems += [f"unexpected column {name} ({kind})" for name, kind in actual.items() if name not in expected]
    problems += [
        f"{name}: {actual[name]} instead of {kind}"
        for name, kind in expected.items()
        if name in actual and actual[name] != kind
    ]
    order = [name for name, _ in dtypes if name != MONTH_COLUMN]
    if not problems and order != list(expected):
        problems.append(f"column order {order} instead of {list(expected)}")
    return problems


def build_schema_check(asset_key: AssetKey, contract: Contract, partitioned: bool = True):
    @asset_check(
        asset=asset_key,
        name="schema_matches_contract",
        description="Stored columns, types and order equal the contract in taxi_platform/schemas.py.",
        partitions_def=monthly_partitions if partitioned else None,
        blocking=True,
    )
    def _check(context: AssetCheckExecutionContext, data):
        problems = schema_differences(data.dtypes, contract)
        metadata = {
            "problems": MetadataValue.json(problems),
            "columns": MetadataValue.json({n: t for n, t in data.dtypes if n != MONTH_COLUMN}),
        }
        # one schema for the range (Spark reads its months as one dataset): every month gets its verdict
        per_month = {m: (not problems, {"problems": MetadataValue.json(problems)}) for m in check_months(context)}
        yield from month_results(context, per_month, metadata)

    return _check


def null_counts_by_month(data, keys: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """{month: {key: rows where key is null}} for the months that have rows, in one Spark job."""
    from pyspark.sql import functions as F

    rows = data.groupBy(MONTH_COLUMN).agg(*[F.count(F.when(F.col(k).isNull(), 1)).alias(k) for k in keys]).collect()
    return {r[MONTH_COLUMN]: {k: int(r[k]) for k in keys} for r in rows}


def build_no_null_keys_check(asset_key: AssetKey, keys: tuple[str, ...]):
    @asset_check(
        asset=asset_key,
        name="no_null_keys",
        description=f"No row has a null in any of {', '.join(keys)}.",
        partitions_def=monthly_partitions,
    )
    def _check(context: AssetCheckExecutionContext, data):
        by_month = null_counts_by_month(data, keys)
        per_month = {}
        for month in check_months(context):
            nulls = by_month.get(month, dict.fromkeys(keys, 0))  # a month without rows has no nulls
            per_month[month] = (not any(nulls.values()), {"null_counts": MetadataValue.json(nulls)})
        totals = {k: sum(nulls[k] for nulls in by_month.values()) for k in keys}
        yield from month_results(context, per_month, {"null_counts": MetadataValue.json(totals)})

    return _check
