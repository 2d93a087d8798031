"""The benchmark: the platform vs the same work in bare PySpark, the course's minimal script and DuckDB.

    python -m bench [--months 1,6,12,24] [--main-months 12] [--repeat 3] [--rows-per-month 1100000] ...
    make bench BENCH_ARGS="--repeat 5"

Variants, each in a fresh interpreter (so every Spark variant pays its own JVM start), on the same cached input:

  platform         (a) the platform's single-run backfill raw -> clean -> core -> report through Dagster (the
                   ``local`` source reading the cached months, a fresh lake, a real sqlite instance, in-process)
  platform_checks  (a) plus the monthly_revenue job's 12 asset checks, as a user launches it (not in the default
                   run, which it would make about 5 minutes longer: --variants all)
  bare_spark       (b) a bare PySpark script producing the same datasets with the same transforms
  course_script    (c) the course's minimal script: read, rename, union, report SQL, coalesce(1) write
  duckdb           (d) DuckDB doing (b)'s work
  duckdb_report    (d) DuckDB's report SQL alone over the core trips the platform just wrote

Every repetition runs every variant once, interleaved (the order rotates between repetitions); before each run the
data is ``sync``-ed and the input evicted from the page cache. ``--scaling-variants`` run at every month count of
``--months``; the others at ``--main-months`` only. The reports of platform, bare_spark and duckdb (and their
datasets' row counts per month, and the quarantines' rows per month and reason) are compared: the run fails if
they differ. Writes ``--output`` (JSON: every run, the
summary, the machine) and prints a table.

``--platform-on-connect`` runs (a) against the Spark Connect server named by ``TAXI_SPARK_REMOTE`` in the bench's
environment (``TAXI_SPARK_TARGET=connect``; the address may carry a token, so it is read from the environment, never
from the command line, and recorded without its parameters) instead of a driver JVM of its own: what a run costs
when its Spark session is already warm. The other variants keep their own local JVM. The first (a) run on a fresh
server pays the server's warm-up; the median of 3 does not.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import compare, machine, probes
from bench.data import TAXI_TYPES, VOLUMES, ensure_months, month_keys, raw_months
from bench.procs import run_child, settle
from taxi_platform.resources.spark import remote_without_params

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("platform", "platform_checks", "bare_spark", "course_script", "duckdb", "duckdb_report")
# platform_checks is left out by default to keep the default run near 25 minutes on 2 cores; add it with --variants all
DEFAULT_VARIANTS = tuple(v for v in VARIANTS if v != "platform_checks")
ALIASES = {"a": "platform", "a+": "platform_checks", "b": "bare_spark", "c": "course_script", "d": "duckdb"}
MODULES = {
    "platform": "bench.variants.platform",
    "platform_checks": "bench.variants.platform",
    "bare_spark": "bench.variants.bare_spark",
    "course_script": "bench.variants.course_script",
    "duckdb": "bench.variants.duckdb_pipeline",
    "duckdb_report": "bench.variants.duckdb_pipeline",
}
COMPARED = ("platform", "platform_checks", "bare_spark", "duckdb")  # variants that write the report in the lake layout
REPORT_STEP = "reports__revenue_monthly_zone"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 3)[3])
    p.add_argument("--months", default="1,6,12,24", help="month counts for the scaling runs (default %(default)s)")
    p.add_argument("--main-months", type=int, default=12, help="month count at which every variant runs (%(default)s)")
    p.add_argument("--first-month", default="2020-01", help="first month of every range (%(default)s)")
    p.add_argument("--rows-per-month", type=int, default=1_100_000,
                   help="green + yellow rows per month, split evenly (default %(default)s: 13.2M in 12 months)")
    p.add_argument("--volumes", choices=VOLUMES, default="even",
                   help="even: --rows-per-month split evenly (default); real: each type's real TLC monthly trips "
                   "(with --first-month 2019-01: 7.7M yellow + 0.67M green, then 7.05M + 0.62M a month)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--repeat", type=int, default=3, help="repetitions of every (variant, months) (%(default)s)")
    p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                   help="comma-separated, or 'all' (default: all but platform_checks); a, a+, b, c, d are aliases")
    p.add_argument("--scaling-variants", default="platform,bare_spark", help="variants run at every month count")
    p.add_argument("--master", default="local[*]", help="Spark master of every Spark variant (%(default)s)")
    p.add_argument("--driver-memory", default="2g", help="driver heap of every Spark variant (%(default)s)")
    p.add_argument("--platform-on-connect", action="store_true",
                   help="run (a) on the Spark Connect server named by TAXI_SPARK_REMOTE (read from the environment)")
    p.add_argument("--java-options", default="", help="JAVA_TOOL_OPTIONS for every variant's JVM, e.g. "
                   "'-XX:TieredStopAtLevel=1' (quicker JVM warm-up for tiny volumes; slower on real ones)")
    p.add_argument("--generator-rows", type=int, default=1_000_000, help="rows per generator measurement")
    p.add_argument("--generator-repeat", type=int, default=3)
    p.add_argument("--definitions-repeat", type=int, default=3)
    p.add_argument("--cache", type=Path, default=REPO / ".cache" / "bench", help="input cache and work folders")
    p.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "latest.json")
    p.add_argument("--no-evict", action="store_true", help="keep the input in the page cache between runs")
    p.add_argument("--keep-outputs", action="store_true", help="keep every variant's output under --cache/work")
    p.add_argument("--timeout", type=float, default=3600, help="seconds before a variant run is killed")
    args = p.parse_args(argv)
    args.month_counts = sorted({int(n) for n in args.months.split(",") if n.strip()} | {args.main_months})
    args.variant_list = _variants(args.variants)
    args.scaling = [v for v in _variants(args.scaling_variants) if v in args.variant_list]
    args.platform_remote = os.environ.get("TAXI_SPARK_REMOTE", "").strip() if args.platform_on_connect else ""
    if args.platform_on_connect and not args.platform_remote.startswith("sc://"):
        p.error("--platform-on-connect needs TAXI_SPARK_REMOTE=sc://HOST:PORT in the environment")
    return args


def connect_env(remote: str) -> dict:
    """The settings that point the platform variant at a Spark Connect server (the remote stays in the environment)."""
    return {"TAXI_SPARK_TARGET": "connect", "TAXI_SPARK_REMOTE": remote}


def _variants(text: str) -> list[str]:
    if text.strip() == "all":
        return list(VARIANTS)
    names = [ALIASES.get(v.strip(), v.strip()) for v in text.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; choose from {list(VARIANTS)} (or a, a+, b, c, d)")
    return [v for v in VARIANTS if v in names]


def child_env(java_options: str = "") -> dict:
    """The user's environment without anything that would point a variant elsewhere (TAXI_*, SPARK_REMOTE)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXI_") and k != "SPARK_REMOTE"}
    env.update(SPARK_LOCAL_IP="127.0.0.1", NO_GCE_CHECK="True", PYTHONPATH=str(REPO), PYSPARK_PYTHON=sys.executable)
    if java_options:
        env["JAVA_TOOL_OPTIONS"] = java_options
    return env


def schedule(args, repetition: int) -> list[tuple[str, int]]:
    """(variant, months) runs of one repetition: month counts ascending, variants in an order rotated per repetition
    (duckdb_report last in its group: it reads the platform's core trips of that group)."""
    runs = []
    for n in args.month_counts:
        here = [v for v in args.variant_list if v in args.scaling or n == args.main_months]
        movable = [v for v in here if v != "duckdb_report"]
        shift = repetition % len(movable) if movable else 0
        runs += [(v, n) for v in movable[shift:] + movable[:shift]]
        if "duckdb_report" in here:
            runs.append(("duckdb_report", n))
    return runs


def work_dir(args, variant: str, months: int) -> Path:
    return args.cache / "work" / f"{variant}-{months}m"


def run_variant(args, raw, variant: str, months: list[str], env: dict, trips_source: Path | None) -> dict:
    out = work_dir(args, variant, len(months))
    result_file = out.with_suffix(".result.json")
    result_file.unlink(missing_ok=True)
    command = ["-m", MODULES[variant], "--months", ",".join(months), "--raw", raw.path_template, "--out", str(out),
               "--result", str(result_file), "--master", args.master, "--driver-memory", args.driver_memory]
    if variant == "platform_checks":
        command.append("--checks")
    if variant == "duckdb_report":
        if trips_source is None:
            raise SystemExit("duckdb_report needs the core trips of platform, bare_spark or duckdb in the same group")
        command += ["--report-only", str(trips_source)]
    if args.platform_remote and variant in ("platform", "platform_checks"):
        env = {**env, **connect_env(args.platform_remote)}
    inputs = [] if args.no_evict else [str(raw.month_file(t, m)) for t in TAXI_TYPES for m in months]
    evicted = settle(inputs)
    child = run_child(command, env=env, cwd=str(REPO), timeout=args.timeout)
    record = {"variant": variant, "months": len(months), "wall_s": round(child.wall_s, 3),
              "returncode": child.returncode, "input_files_evicted": evicted, **child.memory,
              "jvm_exit_after_s": round(child.linger_s, 3)}
    if child.returncode != 0 or not result_file.exists():
        error = (child.stderr or child.stdout)[-4000:]
        if args.platform_remote:  # its parameters may hold a token
            error = error.replace(args.platform_remote, remote_without_params(args.platform_remote))
        record["error"] = error
        return record
    record.update(json.loads(result_file.read_text()))
    return record


def summarize_runs(records: list[dict]) -> dict:
    walls = [r["wall_s"] for r in records]
    median = statistics.median(walls)
    summary = {
        "runs": len(records),
        "median_s": round(median, 3),
        "min_s": round(min(walls), 3),
        "max_s": round(max(walls), 3),
        "spread_pct": round(100 * (max(walls) - min(walls)) / median, 1) if median else None,
        "stdev_s": round(statistics.stdev(walls), 3) if len(walls) > 1 else 0.0,
        "median_cpu_s": round(statistics.median(r["cpu_s"] for r in records), 2),
        "python_peak_rss_mib": max(r["python_peak_rss_mib"] for r in records),
        "jvm_peak_rss_mib": max((r["jvm_peak_rss_mib"] or 0) for r in records) or None,
        "median_in_process_s": round(statistics.median(r.get("in_process_s", 0.0) for r in records), 3),
    }
    sections = [r.get("sections", {}) for r in records]
    summary["median_sections_s"] = {k: round(statistics.median(s.get(k, 0.0) for s in sections), 3)
                                     for k in sections[0]}
    steps = [r.get("steps") for r in records if r.get("steps")]
    if steps:
        summary["median_steps_s"] = {k: round(statistics.median(s.get(k, 0.0) for s in steps), 3) for k in steps[0]}
    return summary


def ratio(x, y):
    return round(x / y, 3) if x is not None and y else None


def figures(args, summary: dict) -> dict:
    """The issue's ratios and targets from the per-(variant, months) summaries."""
    def median(variant, n):
        return (summary.get(variant, {}).get(str(n)) or {}).get("median_s")

    main = args.main_months
    counts = args.month_counts
    double = 2 * main if 2 * main in counts else None
    out: dict = {"main_months": main}
    out["platform_over_bare"] = {str(n): ratio(median("platform", n), median("bare_spark", n)) for n in counts
                                 if median("platform", n) and median("bare_spark", n)}
    out["platform_checks_over_platform"] = ratio(median("platform_checks", main), median("platform", main))
    out["platform_over_course_script"] = ratio(median("platform", main), median("course_script", main))
    out["bare_over_course_script"] = ratio(median("bare_spark", main), median("course_script", main))
    out["platform_over_duckdb"] = ratio(median("platform", main), median("duckdb", main))
    if double:
        out["platform_double_over_main"] = ratio(median("platform", double), median("platform", main))
        out["bare_double_over_main"] = ratio(median("bare_spark", double), median("bare_spark", main))
    jvm = {str(n): (summary.get("platform", {}).get(str(n)) or {}).get("jvm_peak_rss_mib") for n in counts}
    jvm = {n: v for n, v in jvm.items() if v}
    out["platform_jvm_peak_rss_mib_by_months"] = jvm
    # seconds from a run's start to its first clean month committed: at 1 month the fixed cost (JVM start, warm-up,
    # the raw steps and one clean month); at N months the raw steps and the whole first clean step (a single-run
    # backfill commits all months of a clean dataset together)
    first = {str(n): ((summary.get("platform", {}).get(str(n)) or {}).get("median_steps_s") or {})
             .get("time_to_first_clean_month") for n in counts}
    out["platform_time_to_first_clean_month_s_by_months"] = {n: v for n, v in first.items() if v is not None}
    out["platform_jvm_rss_max_over_min"] = ratio(max(jvm.values()), min(jvm.values())) if jvm else None
    platform_main = summary.get("platform", {}).get(str(main)) or {}
    bare_main = summary.get("bare_spark", {}).get(str(main)) or {}
    duck = summary.get("duckdb_report", {}).get(str(main)) or {}
    spark_step = (platform_main.get("median_steps_s") or {}).get(REPORT_STEP)
    spark_bare = (bare_main.get("median_sections_s") or {}).get("report")
    duck_report = (duck.get("median_sections_s") or {}).get("report")
    out["report_step"] = {
        "spark_platform_step_s": spark_step, "spark_bare_s": spark_bare, "duckdb_s": duck_report,
        "spark_platform_over_duckdb": ratio(spark_step, duck_report),
        "spark_bare_over_duckdb": ratio(spark_bare, duck_report),
    }
    return out


def targets(result: dict) -> dict:
    f = result["figures"]
    main = str(f["main_months"])
    report = f["report_step"]
    checks = {  # issue #17's targets
        "platform/bare <= 0.75 at main months": (f["platform_over_bare"].get(main), 0.75),
        "platform/duckdb <= 3 at main months": (f.get("platform_over_duckdb"), 3.0),
        "report step/duckdb report <= 2": (report.get("spark_platform_over_duckdb"), 2.0),
        "platform double/main months <= 2.0": (f.get("platform_double_over_main"), 2.0),
        "platform JVM peak RSS max/min over months <= 1.25 (flat)": (f["platform_jvm_rss_max_over_min"], 1.25),
        "definitions load <= 3 s": ((result.get("definitions_load") or {}).get("median_s"), 3.0),
    }
    out = {name: {"value": v, "limit": limit, "met": (v <= limit) if v is not None else None}
           for name, (v, limit) in checks.items()}
    if result["settings"].get("platform_spark", "").startswith("connect"):
        # (a) on a warm server against variants paying their own JVM: not the targets' comparison
        for name in checks:
            if name.startswith("platform"):
                out[name].update(met=None, why="n/a: (a) ran on a Spark Connect server (--platform-on-connect)")
    rows = (result.get("generator") or {}).get("min_rows_per_s")
    out["generator >= 2M rows/s"] = {"value": rows, "limit": 2e6, "met": (rows >= 2e6) if rows else None}
    return out


def print_table(result: dict) -> None:
    print("\nvariant          months  median s  spread %   cpu s  JVM peak MiB  Python MiB  s/10M rows  runs")
    for variant, by_months in result["summary"].items():
        for n, s in sorted(by_months.items(), key=lambda kv: int(kv[0])):
            jvm = f"{s['jvm_peak_rss_mib']:.0f}" if s["jvm_peak_rss_mib"] else "-"
            print(f"{variant:<16} {n:>6} {s['median_s']:>9.2f} {s['spread_pct']:>9.1f} {s['median_cpu_s']:>7.1f} "
                  f"{jvm:>13} {s['python_peak_rss_mib']:>11.0f} {s['s_per_10m_rows']:>11.2f} {s['runs']:>5}")
    f = result["figures"]
    print(f"\nplatform / bare_spark by months: {f['platform_over_bare']}")
    for key in ("platform_checks_over_platform", "platform_over_course_script", "bare_over_course_script",
                "platform_over_duckdb", "platform_double_over_main", "bare_double_over_main"):
        if f.get(key) is not None:
            print(f"{key}: {f[key]}")
    print(f"platform JVM peak RSS by months (MiB): {f['platform_jvm_peak_rss_mib_by_months']}")
    print(f"platform time to first clean month by months (s): {f['platform_time_to_first_clean_month_s_by_months']}")
    print(f"report step at {f['main_months']} months: {f['report_step']}")
    steps = (result["summary"].get("platform", {}).get(str(f["main_months"])) or {}).get("median_steps_s")
    if steps:
        print(f"platform steps at {f['main_months']} months (median s): {steps}")
    if result.get("generator"):
        g = result["generator"]["rows_per_s"]
        print("generator rows/s: " + ", ".join(f"{t} {v / 1e6:.2f}M" for t, v in g.items()))
    if result.get("definitions_load"):
        print(f"definitions load: {result['definitions_load']['median_s']:.2f} s (no JVM started)")
    print(f"outputs equal: {result['comparisons']}")
    print("targets: " + "; ".join(f"{k}: {'met' if v['met'] else 'NOT met' if v['met'] is False else 'n/a'} "
                                  f"({v['value']})" for k, v in result["targets"].items()))


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    env = child_env(args.java_options)
    result: dict = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "machine": machine.describe(), "settings": {
                        "month_counts": args.month_counts, "main_months": args.main_months,
                        "first_month": args.first_month, "rows_per_month": args.rows_per_month, "volumes": args.volumes, "seed": args.seed,
                        "repeat": args.repeat, "variants": args.variant_list, "scaling_variants": args.scaling,
                        "master": args.master, "driver_memory": args.driver_memory,
                        "platform_spark": (f"connect {remote_without_params(args.platform_remote)}" if args.platform_remote
                                           else "its own driver JVM"),
                        "java_options": args.java_options,
                        "input_evicted_before_each_run": not args.no_evict}}
    raw = raw_months(args.cache, args.rows_per_month, args.seed, args.volumes)
    all_months = month_keys(args.first_month, max(args.month_counts))
    volume = f"{args.rows_per_month:,} rows/month" if args.volumes == "even" else \
        f"real TLC volumes ({raw.rows(all_months[:args.main_months]):,} rows in {args.main_months} months)"
    print(f"bench: {args.variant_list} x months {args.month_counts} (all variants at {args.main_months}), "
          f"{args.repeat} repetitions, {volume}", flush=True)

    print(f"input: {raw.root}", flush=True)
    result["input"] = {"root": str(raw.root), "generation": ensure_months(raw, all_months),
                       "bytes_by_months": {str(n): raw.bytes(all_months[:n]) for n in args.month_counts},
                       "rows_by_months": {str(n): raw.rows(all_months[:n]) for n in args.month_counts}}

    if args.generator_repeat > 0:
        result["generator"] = probes.generator(args.generator_rows, args.generator_repeat)
        print(f"generator: {result['generator']['rows_per_s']}", flush=True)
    if args.definitions_repeat > 0:
        result["definitions_load"] = probes.definitions_load(args.definitions_repeat, str(REPO), env)
        print(f"definitions load: {result['definitions_load']}", flush=True)

    records: list[dict] = []
    reports: dict[tuple[str, int], dict] = {}
    counts: dict[tuple[str, int], dict] = {}
    files: dict[str, dict] = {}
    failures = []
    for repetition in range(args.repeat):
        group_outputs: dict[int, list[Path]] = {}
        for variant, n in schedule(args, repetition):
            months = all_months[:n]
            trips = next((work_dir(args, v, n) / "core" / "trips" for v in ("platform", "bare_spark", "duckdb")
                          if (work_dir(args, v, n) / "core" / "trips").is_dir()), None)
            record = run_variant(args, raw, variant, months, env, trips)
            record["repetition"] = repetition
            records.append(record)
            status = "ok" if "error" not in record else "FAILED"
            print(f"  rep {repetition + 1}/{args.repeat} {variant:<16} {n:>3} months: {record['wall_s']:8.2f} s "
                  f"(cpu {record['cpu_s']:.1f} s, JVM {record['jvm_peak_rss_mib'] or 0:.0f} MiB) {status}", flush=True)
            if "error" in record:
                failures.append(f"{variant} {n} months: {record['error'][-1500:]}")
                continue
            out = work_dir(args, variant, n)
            group_outputs.setdefault(n, []).append(out)
            if variant in COMPARED and (variant, n) not in reports:
                reports[(variant, n)] = compare.report_rows(out)
                counts[(variant, n)] = {"rows": compare.dataset_rows(out), "reasons": compare.quarantine_reasons(out)}
                files[f"{variant} {n}"] = compare.files_per_month(out)
        if not args.keep_outputs:
            for outs in group_outputs.values():
                for out in outs:
                    shutil.rmtree(out, ignore_errors=True)

    comparisons = {}
    for (variant, n), rows in sorted(reports.items()):
        reference = "bare_spark" if ("bare_spark", n) in reports else "platform"
        if variant == reference:
            continue
        problems = compare.differences(reports[(reference, n)], rows)
        for what, label in (("rows", "dataset row counts"), ("reasons", "quarantine reasons")):
            if counts[(reference, n)][what] != counts[(variant, n)][what]:
                problems.append(f"{label} differ: {counts[(reference, n)][what]} vs {counts[(variant, n)][what]}")
        comparisons[f"{variant} vs {reference} at {n} months"] = "equal" if not problems else problems
        if problems:
            failures.append(f"{variant} and {reference} differ at {n} months: {problems}")
    result["comparisons"] = comparisons
    result["report_rows"] = {f"{v} {n}": len(rows) for (v, n), rows in sorted(reports.items())}
    result["files_per_month"] = files

    by_key: dict[str, dict[str, list]] = {}
    for record in records:
        if "error" not in record:
            by_key.setdefault(record["variant"], {}).setdefault(str(record["months"]), []).append(record)
    result["summary"] = {v: {n: summarize_runs(rs) for n, rs in by_n.items()} for v, by_n in by_key.items()}
    rows_by_months = result["input"]["rows_by_months"]
    for by_n in result["summary"].values():
        for n, summary in by_n.items():  # the cost per row: linear growth keeps it flat across month counts
            summary["s_per_10m_rows"] = round(summary["median_s"] * 1e7 / rows_by_months[n], 2)
    result["figures"] = figures(args, result["summary"])
    result["targets"] = targets(result)
    result["runs"] = records
    result["failures"] = failures
    result["total_s"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str))
    print_table(result)
    print(f"\nwritten: {args.output} ({result['total_s']:.0f} s in all)")
    if failures:
        print("FAILURES:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
