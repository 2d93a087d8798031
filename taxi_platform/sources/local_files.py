"""Local months: a file, or a folder (course layout) of parquet parts or CSV files, made into ONE parquet file.

A folder holding byte-identical files (the month downloaded twice: ``green_tripdata_2021-03.parquet`` and
``green_tripdata_2021-03 (1).parquet``) is refused with a ``DuplicateFilesError`` naming them: combining them would
count every trip twice.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path
from typing import Sequence

from taxi_platform.sources.atomic import atomic_output
from taxi_platform.sources.base import (
    CorruptFileError,
    DuplicateFilesError,
    EmptyMonthError,
    InconsistentFilesError,
    MonthNotFoundError,
    SourceError,
)
from taxi_platform.sources.csv_backup import GZIP_MAGIC, csv_to_parquet
from taxi_platform.sources.validate import PARQUET_MAGIC, check_parquet

logger = logging.getLogger(__name__)


def is_parquet_name(path: Path) -> bool:
    return path.name.lower().endswith(".parquet")


def is_csv_name(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".csv") or name.endswith(".csv.gz")


def list_month_folder(folder: Path, *, describe: str) -> tuple[str, list[Path]]:
    """("parquet" | "csv", the data files of ``folder`` in sorted name order).

    Hidden and bookkeeping files (``.*``, ``_*`` such as Spark's ``_SUCCESS`` and ``.crc``) are ignored.
    """
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "_"))),
        key=lambda p: p.name,
    )
    parquet = [p for p in files if is_parquet_name(p)]
    csvs = [p for p in files if is_csv_name(p)]
    if parquet and csvs:
        raise SourceError(
            f"{describe}: the folder {folder} holds both parquet ({', '.join(p.name for p in parquet)}) and CSV "
            f"({', '.join(p.name for p in csvs)}) files; keep one format per month"
        )
    if parquet:
        return "parquet", parquet
    if csvs:
        return "csv", csvs
    raise MonthNotFoundError(f"{describe}: the folder {folder} holds no .parquet, .csv or .csv.gz files")


def identical_files(files: Sequence[Path]) -> list[list[Path]]:
    """Groups (2 or more) of byte-identical files among ``files``: sizes first, then SHA-256 of the same-size ones."""
    by_size: dict[int, list[Path]] = {}
    for path in files:
        by_size.setdefault(path.stat().st_size, []).append(path)
    groups: list[list[Path]] = []
    for same_size in by_size.values():
        if len(same_size) < 2:
            continue
        by_digest: dict[str, list[Path]] = {}
        for path in same_size:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            by_digest.setdefault(digest.hexdigest(), []).append(path)
        groups += [group for group in by_digest.values() if len(group) > 1]
    return groups


def check_no_identical_files(folder: Path, files: Sequence[Path], *, describe: str) -> None:
    """Raise ``DuplicateFilesError`` naming the byte-identical files of a month folder."""
    groups = identical_files(files)
    if groups:
        named = "; ".join(" = ".join(p.name for p in group) for group in groups)
        raise DuplicateFilesError(
            f"{describe}: the folder {folder} holds byte-identical files ({named}): the same data twice would count "
            "every trip twice; remove the copies"
        )


def sniff_kind(path: Path, *, describe: str) -> str:
    """"parquet" or "csv" for a single local file, by name, else by its first bytes."""
    if is_parquet_name(path):
        return "parquet"
    if is_csv_name(path):
        return "csv"
    with open(path, "rb") as f:
        head = f.read(4)
    if head == PARQUET_MAGIC:
        return "parquet"
    if head[:2] == GZIP_MAGIC:
        return "csv"
    raise CorruptFileError(f"{describe}: {path} is neither parquet nor (gzip) CSV (by name or content)")


def copy_parquet(src: Path, dest: Path, taxi_type: str, *, describe: str) -> int:
    """Copy one parquet file's bytes as-is to ``dest`` (atomically) after validating it; returns its rows."""
    check_parquet(src, taxi_type, describe=describe, where=str(src))
    with atomic_output(dest) as tmp:
        shutil.copyfile(src, tmp)
        rows = check_parquet(tmp, taxi_type, describe=describe, where=str(src))
    return rows


def combine_parquet(sources: Sequence[Path], dest: Path, taxi_type: str, *, describe: str) -> int:
    """Concatenate parquet files (in the given order) into ONE parquet file ``dest``; returns the rows.

    Every file must be valid parquet of ``taxi_type`` with the same schema as the first (else
    ``InconsistentFilesError`` naming the differing file and columns). Individual parts may be empty
    (Spark writes such parts); the month as a whole may not. Rows are copied one row group at a time.
    """
    import pyarrow.parquet as pq

    if len(sources) == 1:
        return copy_parquet(sources[0], dest, taxi_type, describe=describe)

    schemas = []
    total = 0
    for src in sources:
        total += check_parquet(src, taxi_type, describe=describe, where=str(src), allow_empty=True)
        schemas.append(pq.read_schema(src))
    first = schemas[0]
    for src, schema in zip(sources[1:], schemas[1:]):
        if not schema.equals(first, check_metadata=False):
            raise InconsistentFilesError(
                f"{describe}: {src} does not share the schema of {sources[0]}: {_schema_diff(first, schema)}"
            )
    if total == 0:
        raise EmptyMonthError(f"{describe}: the files {', '.join(map(str, sources))} hold 0 rows")

    with atomic_output(dest) as tmp:
        with pq.ParquetWriter(tmp, first, compression="snappy") as writer:
            for src in sources:
                with pq.ParquetFile(src) as parquet_file:
                    for index in range(parquet_file.num_row_groups):
                        writer.write_table(parquet_file.read_row_group(index).replace_schema_metadata(first.metadata))
        rows = check_parquet(tmp, taxi_type, describe=describe, where=str(sources[0].parent))
    logger.info("%s: combined %d files (%d rows) into %s", describe, len(sources), rows, dest)
    return rows


def _schema_diff(expected, actual) -> str:
    """Which columns differ between two arrow schemas, in words."""
    exp = {f.name: str(f.type) for f in expected}
    act = {f.name: str(f.type) for f in actual}
    parts = []
    if missing := [n for n in exp if n not in act]:
        parts.append(f"missing {missing}")
    if extra := [n for n in act if n not in exp]:
        parts.append(f"extra {extra}")
    if changed := [f"{n}: {exp[n]} vs {act[n]}" for n in exp if n in act and exp[n] != act[n]]:
        parts.append(f"types differ ({'; '.join(changed)})")
    if not parts:
        parts.append(f"column order or nullability differs ({expected.names} vs {actual.names})")
    return ", ".join(parts)


def fetch_local_path(path: Path, dest: Path, taxi_type: str, *, describe: str) -> int:
    """Make ``dest`` from a local file or month folder ``path``; returns the rows."""
    if not path.exists():
        raise MonthNotFoundError(f"{describe}: no such local file or folder: {path}")
    if path.is_dir():
        kind, files = list_month_folder(path, describe=describe)
        check_no_identical_files(path, files, describe=describe)
    else:
        kind, files = sniff_kind(path, describe=describe), [path]
    if kind == "parquet":
        return combine_parquet(files, dest, taxi_type, describe=describe)
    return csv_to_parquet(files, dest, taxi_type, describe=describe, wheres=[str(f) for f in files])
