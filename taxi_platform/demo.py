"""The offline demo: materialize the whole graph for one month on the embedded defaults and show the report.

    python -m taxi_platform.demo [--month 2021-01]

Uses the deployment's resources (by default: local Spark, the lake in data/lake, the sample source), records the runs
in the Dagster instance of DAGSTER_HOME when it is set (so `dagster dev` shows them), and exits non-zero if a run or an
asset check fails.
"""

import argparse
import os
import sys
from pathlib import Path

from taxi_platform.reference import load_zone_lookup

DEFAULT_MONTH = "2021-01"


def _instance():
    from dagster import DagsterInstance

    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()


def _report_rows(lake_root: Path, month: str, top: int):
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    folder = lake_root / "reports" / "revenue_monthly_zone" / f"month={month}"
    table = ds.dataset(folder, format="parquet").to_table()
    order = pc.sort_indices(table, sort_keys=[("revenue_monthly_total_amount", "descending")])
    return folder, table.num_rows, table.take(order).slice(0, top).to_pylist()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--month", default=DEFAULT_MONTH, help="month to materialize, YYYY-MM (default %(default)s)")
    parser.add_argument("--top", type=int, default=8, help="report rows to print (default %(default)s)")
    args = parser.parse_args(argv)

    from taxi_platform.definitions import defs

    instance = _instance()
    lake = defs.resources["lake_io_manager"]
    sources = defs.resources["sources"]
    print(f"taxi_platform demo: month {args.month}, source {sources.describe()}, lake {lake.root()}")

    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}  # step events, not every DEBUG line
    results = [
        defs.resolve_job_def("reference_data").execute_in_process(
            run_config=quiet, instance=instance, raise_on_error=False
        ),
        defs.resolve_job_def("monthly_revenue").execute_in_process(
            run_config=quiet, partition_key=args.month, instance=instance, raise_on_error=False
        ),
    ]
    failed_checks = []
    for result in results:
        for evaluation in result.get_asset_check_evaluations():
            status = "passed" if evaluation.passed else "FAILED"
            print(f"  check {evaluation.asset_key.to_user_string()} {evaluation.check_name}: {status}")
            if not evaluation.passed:
                failed_checks.append(evaluation.check_name)
    if not all(r.success for r in results) or failed_checks:
        for result in results:
            for failure in result.get_step_failure_events():
                print(f"  step {failure.step_key} failed: {failure.step_failure_data.error.message.strip()}")
        print("demo FAILED", file=sys.stderr)
        return 1

    folder, rows, top = _report_rows(Path(lake.root()), args.month, args.top)
    zones = {z["LocationID"]: f"{z['Borough']} / {z['Zone']}" for z in load_zone_lookup().to_pylist()}
    print(f"\nreports/revenue_monthly_zone for {args.month}: {rows} rows in {folder}")
    print(f"{'zone':<45} {'service':<7} {'total_amount':>14} {'fare':>12} {'avg_dist':>8}")
    for row in top:
        zone = f"{row['revenue_zone']} {zones.get(row['revenue_zone'], '?')}"[:45]
        print(
            f"{zone:<45} {row['service_type']:<7} {row['revenue_monthly_total_amount']:>14,.2f} "
            f"{row['revenue_monthly_fare']:>12,.2f} {row['avg_monthly_trip_distance']:>8.2f}"
        )
    print("\nOpen the UI with `make dev` to see the assets, their partitions, metadata and check results.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
