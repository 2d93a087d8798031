"""Contract checks: the stored data has the contract's columns and types, and no null keys.

Checks are partitioned like their assets: run with a materialization (or alone from the UI / in tests) they look at
exactly the months of that run's partition range.
"""


from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check

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
    def _check(context: AssetCheckExecutionContext, data) -> AssetCheckResult:
        problems = schema_differences(data.dtypes, contract)
        return AssetCheckResult(
            passed=not problems,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "problems": MetadataValue.json(problems),
                "columns": MetadataValue.json({n: t for n, t in data.dtypes if n != MONTH_COLUMN}),
            },
        )

    return _check


def build_no_null_keys_check(asset_key: AssetKey, keys: tuple[str, ...]):
    @asset_check(
        asset=asset_key,
        name="no_null_keys",
        description=f"No row has a null in any of {', '.join(keys)}.",
        partitions_def=monthly_partitions,
    )
    def _check(context: AssetCheckExecutionContext, data) -> AssetCheckResult:
        from pyspark.sql import functions as F

        counts = data.select(*[F.count(F.when(F.col(k).isNull(), 1)).alias(k) for k in keys]).collect()[0]
        nulls = {k: int(counts[k]) for k in keys}
        return AssetCheckResult(
            passed=not any(nulls.values()),
            severity=AssetCheckSeverity.ERROR,
            metadata={"null_counts": MetadataValue.json(nulls), "months": MetadataValue.json(list(context.partition_keys))},
        )

    return _check
