"""The type matrix: the same trips, published in every physical type each column has had in the TLC's eras and by
the tools people use (int32/int64/double/text/all-null numbers; ms/us/ns/INT96/text times; parquet, CSV, CSV.gz) and
fetched through every kind of source (a local file, a local month folder of parts, a URL), give identical clean and
quarantine rows: the rows the trips are (``published.expected_rows``). Zoned timestamps are refused in raw, naming the
file, the column and the zone. A value that cannot be converted quarantines its row as ``unparseable:<column>`` in
every layout alike: a CSV month is not refused for it, as a month of text parquet is not.
"""

from __future__ import annotations

import pytest

from taxi_platform.sources.base import PublishedTypeError
from taxi_platform.sources.fetch import fetch_csv_url, fetch_local, fetch_parquet_url
from taxi_platform.transforms.conform import conform_month
from taxi_platform.transforms.quarantine import classify
from taxi_platform_tests.transforms.published import (
    MONTH,
    TRIPS,
    VARIANTS,
    csv_of,
    csv_text,
    expected_rows,
    expected_rows_with_bad_cells,
    publish,
    text_parquet,
    text_rows_with_bad_cells,
    write_csv,
    write_parquet,
)

pytestmark = pytest.mark.spark

URL_SETTINGS = dict(max_attempts=1, backoff_seconds=0.0, timeout_seconds=10.0)
TYPED_VARIANTS = [v for v in VARIANTS if v != "zoned"]


def parquet_sources(taxi_type: str, variant: str, base):
    """{label: fetch()} for the variant's file through a local file, a local folder of two parts, a file:// URL."""
    table = publish(taxi_type, variant)
    base.mkdir(parents=True)
    whole = write_parquet(table, base / f"{taxi_type}_tripdata_{MONTH}.parquet", variant)
    folder = base / "folder"
    folder.mkdir()
    write_parquet(table.slice(0, 3), folder / "part-0.parquet", variant)
    write_parquet(table.slice(3), folder / "part-1.parquet", variant)
    return {
        f"{variant} file": lambda w: fetch_local(taxi_type, MONTH, w, path=whole),
        f"{variant} folder": lambda w: fetch_local(taxi_type, MONTH, w, path=folder),
        f"{variant} url": lambda w: fetch_parquet_url(taxi_type, MONTH, w, url=whole.as_uri(), **URL_SETTINGS),
    }


def csv_sources(taxi_type: str, base):
    """{label: fetch()} for the trips as the TLC's CSV: a .csv file, a .csv.gz URL, a folder of two .csv.gz parts."""
    text = csv_text(taxi_type)
    header, *lines = text.splitlines(keepends=True)
    base.mkdir(parents=True)
    plain = write_csv(text, base / f"{taxi_type}_tripdata_{MONTH}.csv")
    gzipped = write_csv(text, base / f"{taxi_type}_tripdata_{MONTH}.csv.gz")
    folder = base / "folder"
    folder.mkdir()
    write_csv(header + "".join(lines[:2]), folder / "part-0.csv.gz")
    write_csv(header + "".join(lines[2:]), folder / "part-1.csv.gz")
    return {
        "csv file": lambda w: fetch_local(taxi_type, MONTH, w, path=plain),
        "csv.gz url": lambda w: fetch_csv_url(taxi_type, MONTH, w, url=gzipped.as_uri(), **URL_SETTINGS),
        "csv.gz folder": lambda w: fetch_local(taxi_type, MONTH, w, path=folder),
    }


@pytest.mark.parametrize("taxi_type", sorted(TRIPS))
def test_every_published_type_and_source_gives_the_same_clean_and_quarantine_rows(spark, tmp_path, taxi_type):
    """Every layout conforms to the same rows (and the same unparseable verdicts: none); classify is a function of
    the conformed rows, so they are then the same clean and quarantine rows, checked once on the union of them all."""
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    sources = {}
    for variant in TYPED_VARIANTS:
        sources.update(parquet_sources(taxi_type, variant, tmp_path / "in" / variant))
    sources.update(csv_sources(taxi_type, tmp_path / "in" / "csv"))

    # raw's checks pass for every layout (month, published types, rows); files of one parquet schema are read by
    # Spark together (one read per schema: a Spark read costs seconds on a busy machine), told apart by file name
    by_schema: dict[str, dict[str, str]] = {}
    for number, (label, fetch) in enumerate(sources.items()):
        fetched = fetch(tmp_path / "work" / str(number))
        physical = str(pq.ParquetFile(fetched.path).schema).split("\n", 1)[1]  # INT96 and ns: the same arrow type
        by_schema.setdefault(physical, {})[fetched.path.as_uri()] = label
    conformed = None
    for labels in by_schema.values():
        layout = F.create_map(*[F.lit(x) for pair in labels.items() for x in pair])[F.input_file_name()]
        # conform keeps a published ``month`` column: it carries the layout's label through
        published = spark.read.parquet(*labels).withColumn("month", layout)
        month = conform_month(published, taxi_type).withColumnRenamed("month", "layout")
        conformed = month if conformed is None else conformed.unionByName(month)

    got: dict[str, list] = {label: [] for label in sources}
    for row in conformed.collect():
        values = row.asDict()
        got[values.pop("layout")].append(tuple(values.values()))
    expected = expected_rows(taxi_type)
    clean_columns = [(values[:-1] + (None,)) for values in expected]  # no value unparseable
    assert {label: sorted(r, key=repr) for label, r in got.items()} == {label: clean_columns for label in sources}

    # the layout column tells the copies apart (classify would set all but one aside as duplicate_row otherwise)
    classified = classify(conformed.withColumn("month", F.lit(MONTH))).drop("month", "layout").collect()
    assert sorted(map(tuple, classified), key=repr) == sorted(expected * len(sources), key=repr)


@pytest.mark.parametrize("taxi_type", sorted(TRIPS))
def test_zoned_timestamps_are_refused_in_raw_naming_file_column_and_zone(tmp_path, taxi_type):
    for label, fetch in parquet_sources(taxi_type, "zoned", tmp_path / "in").items():
        with pytest.raises(PublishedTypeError, match=r"pickup_datetime.*time zone America/New_York") as refused:
            fetch(tmp_path / "work" / label.replace(" ", "_"))
        assert str(tmp_path / "in") in str(refused.value), label  # names the file or folder
        assert not list((tmp_path / "work" / label.replace(" ", "_")).glob("*.parquet")), label  # nothing left


@pytest.mark.parametrize("taxi_type", sorted(TRIPS))
def test_an_unparseable_cell_quarantines_its_row_alike_in_csv_csv_gz_and_text_parquet(spark, tmp_path, taxi_type):
    """One bad cell per kind of column (an int not a number, an int not whole, a double not a number, each timestamp
    not a time), each in its own row: the CSV and CSV.gz months are fetched (not refused) and give exactly the clean and
    quarantine rows the month published as text parquet gives: the bad rows ``unparseable:<column>``, the rest clean."""
    rows = text_rows_with_bad_cells(taxi_type)
    (tmp_path / "in").mkdir()
    files = {
        "text parquet": text_parquet(rows, taxi_type, tmp_path / "in" / f"{taxi_type}_tripdata_{MONTH}.parquet"),
        "csv": write_csv(csv_of(rows, taxi_type), tmp_path / "in" / f"{taxi_type}_tripdata_{MONTH}.csv"),
        "csv.gz": write_csv(csv_of(rows, taxi_type), tmp_path / "in" / f"{taxi_type}_tripdata_{MONTH}.csv.gz"),
    }
    got = {}
    for number, (label, path) in enumerate(files.items()):
        fetched = fetch_local(taxi_type, MONTH, tmp_path / "work" / str(number), path=path)
        assert fetched.num_rows == len(rows), label
        classified = classify(conform_month(spark.read.parquet(str(fetched.path)), taxi_type, month=MONTH))
        got[label] = sorted(map(tuple, classified.drop("month").collect()), key=repr)
    expected = expected_rows_with_bad_cells(taxi_type)
    assert sum(1 for r in expected if str(r[-1]).startswith("unparseable:")) >= 4
    assert got == {label: expected for label in files}


def test_the_matrix_covers_every_type_the_eras_publish():
    """Every (contract column, published type) of the eras (``sample/eras.py``, from the TLC's footers) 2019-01..2026-12
    is one the matrix writes (``large_string`` as text: Spark and the conversions read it as ``string``)."""
    import pyarrow as pa

    from taxi_platform.sample.eras import published_schema
    from taxi_platform.schemas import COURSE_SCHEMAS

    def matrix_types(kind: str) -> set:
        types = set()
        for spec in VARIANTS.values():
            if kind == "timestamp":
                types.add(pa.string() if spec["ts"] == "text" else pa.timestamp("ns" if spec["ts"] == "int96" else
                                                                             spec["ts"].replace("zoned", "ns")))
            else:
                for key in ("int", "double", "code"):
                    types.add(pa.string() if spec[key] == "text" else spec[key])
            if spec.get("null_type"):
                types.add(pa.null())
        return types | {pa.string()}

    missing = set()
    for taxi_type, contract in COURSE_SCHEMAS.items():
        kinds = {name.lower(): kind for name, kind in contract}
        for year in range(2019, 2027):
            for month in range(1, 13):
                for field in published_schema(taxi_type, f"{year}-{month:02d}"):
                    kind = kinds.get(field.name.lower())
                    published = pa.string() if field.type == pa.large_string() else field.type
                    if kind and published not in matrix_types(kind):
                        missing.add((taxi_type, field.name, str(field.type)))
    assert not missing, sorted(missing)
