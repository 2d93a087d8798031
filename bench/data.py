"""The benchmark's input: N months of green + yellow sample trips, generated once and cached as raw monthly parquet.

Layout (the course's, which the platform's ``local`` source reads with its default template shape)::

    {cache}/raw-q2-{rows_per_month}-s{seed}/{taxi_type}/{year}/{month:02d}/part-00000.parquet

``rows_per_month`` counts green + yellow together (the issue's volume: 1.1M a month, 13.2M for 12 months), split
evenly between the two types; with ``volumes="real"`` each type gets the real trips of its period's representative
month instead (``{cache}/raw-q2-real-s{seed}``; 12 months of 2019 are 92.7M rows). On top of the sample's own
quirks, each month carries the two kinds of bad rows the
sample generator never publishes (``add_bench_quirks``): exact duplicate rows (``duplicate_row``) and a count that is
not whole (``unparseable:passenger_count``), so every variant's quarantine rules are compared on them too. Each file is written to a temporary name and renamed, so an interrupted generation
never leaves a half file that later runs would trust.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TAXI_TYPES = ("green", "yellow")
FILE_NAME = "part-00000.parquet"


def month_keys(first: str, count: int) -> list[str]:
    """``count`` consecutive "YYYY-MM" keys from ``first``."""
    year, month = (int(part) for part in first.split("-"))
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


@dataclass(frozen=True)
class RawMonths:
    """Where the cached raw months of one volume and seed live.

    ``volumes``: "even" (``rows_per_month`` green + yellow rows a month, split evenly) or "real" (each type's real
    monthly trips of the month's period, ``taxi_platform.sample.volumes.real_trips``: 2019-01 yellow 7,696,617 and
    green 672,105, 2019-02 on 7,049,370 and 615,594; ``rows_per_month`` is then unused).
    """

    root: Path
    rows_per_month: int
    seed: int
    volumes: str = "even"

    def rows_for(self, taxi_type: str, month: str) -> int:
        if self.volumes == "real":
            from taxi_platform.sample.volumes import real_trips

            return real_trips(taxi_type, month)[taxi_type]
        green = self.rows_per_month // 2
        return green if taxi_type == "green" else self.rows_per_month - green

    def rows(self, months: list[str]) -> int:
        """Green + yellow rows of ``months``."""
        return sum(self.rows_for(t, m) for t in TAXI_TYPES for m in months)

    @property
    def path_template(self) -> str:
        """The platform's ``local_path_template`` (``TAXI_LOCAL_PATH_TEMPLATE``) for these files."""
        return str(self.root / "{taxi_type}" / "{year}" / "{month:02d}")

    def month_folder(self, taxi_type: str, month: str) -> Path:
        year, number = month.split("-")
        return self.root / taxi_type / year / number

    def month_file(self, taxi_type: str, month: str) -> Path:
        return self.month_folder(taxi_type, month) / FILE_NAME

    def files(self, taxi_type: str, months: list[str]) -> dict[str, str]:
        return {m: str(self.month_file(taxi_type, m)) for m in months}

    def bytes(self, months: list[str]) -> int:
        return sum(self.month_file(t, m).stat().st_size for t in TAXI_TYPES for m in months)


VOLUMES = ("even", "real")


def raw_months(cache: Path, rows_per_month: int, seed: int, volumes: str = "even") -> RawMonths:
    # "q2": months with the bench quirks (older caches lack them and are not reused)
    if volumes not in VOLUMES:
        raise ValueError(f"volumes must be one of {VOLUMES}, got {volumes!r}")
    name = f"raw-q2-{rows_per_month}-s{seed}" if volumes == "even" else f"raw-q2-real-s{seed}"
    return RawMonths(Path(cache).resolve() / name, rows_per_month, seed, volumes)


# Rows per month turned into copies of the row before them / given 1.5 passengers (at least one of each).
DUPLICATE_RATE, FRACTIONAL_COUNT_RATE = 0.0005, 0.0002


def add_bench_quirks(table, seed: int):
    """``table`` (one generated month) with a few rows replaced by exact copies of the row before them and a few
    ``passenger_count`` values set to 1.5 (where the era publishes it as a double, 2019-2022): the same row count,
    deterministic from ``seed``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    if n < 4:
        return table
    rng = np.random.default_rng(seed)
    picked = rng.choice(np.arange(1, n), size=min(n - 1, max(2, int(n * DUPLICATE_RATE)) + max(1, int(
        n * FRACTIONAL_COUNT_RATE))), replace=False)
    copies, fractional = picked[:max(2, int(n * DUPLICATE_RATE))], picked[max(2, int(n * DUPLICATE_RATE)):]
    order = np.arange(n)
    order[copies] = copies - 1
    table = table.take(pa.array(order))
    index = table.schema.get_field_index("passenger_count")
    if pa.types.is_floating(table.schema.field(index).type):
        mask = np.zeros(n, dtype=bool)
        mask[fractional] = True
        field = table.schema.field(index)
        counts = pc.if_else(pa.array(mask), pa.scalar(1.5, field.type), table.column(index))
        table = table.set_column(index, field, counts)
    return table


def ensure_months(raw: RawMonths, months: list[str], log=print) -> dict:
    """Generate the months that are not cached yet; returns what was generated and how fast (rows/s, incl. writing)."""
    import pyarrow.parquet as pq

    from taxi_platform.sample.generator import write_month

    generated_rows, seconds = 0, 0.0
    for month in months:
        for taxi_type in TAXI_TYPES:
            rows = raw.rows_for(taxi_type, month)
            final = raw.month_file(taxi_type, month)
            if final.exists():
                continue
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
            start = time.perf_counter()
            write_month(tmp, taxi_type, month, rows, seed=raw.seed)
            seconds += time.perf_counter() - start
            pq.write_table(add_bench_quirks(pq.read_table(tmp), raw.seed), tmp)
            os.replace(tmp, final)
            generated_rows += rows
        if generated_rows:
            log(f"  raw {month}: cached under {raw.root}")
    return {"generated_rows": generated_rows, "seconds": seconds,
            "rows_per_s_with_write": generated_rows / seconds if seconds else None}
