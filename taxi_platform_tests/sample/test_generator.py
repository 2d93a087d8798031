"""The offline sample generator: published schemas per era, determinism, money arithmetic, places, and quirk rates.

No Spark: pyarrow/numpy only. Rates are checked on 200k-row months (quirk counts are exact up to stochastic rounding).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_platform import schemas
from taxi_platform.reference import load_zone_lookup
from taxi_platform.sample.generator import (
    CHUNK_ROWS,
    QUIRK_RATES,
    generate_month,
    published_schema,
    quirk_rates,
    write_month,
)

N = 200_000
CSV_HEADS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tlc_csv_heads"
PARQUET_ONLY = {"airport_fee", "Airport_fee", "cbd_congestion_fee"}
YELLOW_ORDER = [
    "VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count", "trip_distance", "RatecodeID",
    "store_and_fwd_flag", "PULocationID", "DOLocationID", "payment_type", "fare_amount", "extra", "mta_tax",
    "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount", "congestion_surcharge",
]
MONEY_PARTS = ["fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge",
               "congestion_surcharge", "airport_fee", "Airport_fee", "cbd_congestion_fee", "ehail_fee"]


@pytest.fixture(scope="module")
def yellow() -> pa.Table:
    return generate_month("yellow", "2021-01", N, seed=7)


@pytest.fixture(scope="module")
def green() -> pa.Table:
    return generate_month("green", "2020-01", N, seed=7)


@pytest.fixture(scope="module")
def boroughs() -> np.ndarray:
    """Borough name per LocationID (index 0 unused)."""
    lookup = load_zone_lookup().to_pydict()
    out = np.empty(266, dtype=object)
    for loc, boro in zip(lookup["LocationID"], lookup["Borough"]):
        out[loc] = boro
    return out


def _np(table: pa.Table, name: str, fill: float | None = None) -> np.ndarray:
    col = table.column(name)
    if fill is not None:
        col = pc.fill_null(col, fill) if not pa.types.is_null(col.type) else pa.array(np.full(len(col), fill))
    return col.to_numpy(zero_copy_only=False)


def _seconds(table: pa.Table, name: str) -> np.ndarray:
    return _np(table, name).astype("datetime64[s]").astype(np.int64)


def _types(taxi_type: str, month: str) -> dict[str, pa.DataType]:
    return {f.name: f.type for f in published_schema(taxi_type, month)}


# --- schemas per era -------------------------------------------------------------------------------------------------


def test_yellow_eras_drift_like_the_tlc_files():
    """The footers' timeline (eras.py [A], [B], [C])."""
    y2019, y2020_09, y2020_10, y2021, y2022, y2023_01, y2023, y2025 = (_types("yellow", m) for m in (
        "2019-06", "2020-09", "2020-10", "2021-01", "2022-05", "2023-01", "2023-05", "2025-02"))
    assert y2019["airport_fee"] == pa.null() and y2020_10["airport_fee"] == pa.null()  # all-null columns of no type
    assert y2020_09["airport_fee"] == pa.float64() and y2021["airport_fee"] == pa.float64()
    assert y2022["airport_fee"] == pa.float64() and "Airport_fee" not in y2022
    assert y2022["passenger_count"] == pa.float64() and y2022["RatecodeID"] == pa.float64()
    assert y2019["tpep_pickup_datetime"] == y2022["tpep_pickup_datetime"] == y2025["tpep_pickup_datetime"] == pa.timestamp("us")
    assert y2019["VendorID"] == pa.int64() and y2019["PULocationID"] == pa.int64()
    assert y2023_01["VendorID"] == pa.int64() and y2023_01["passenger_count"] == pa.float64()  # changed in 2023-02
    assert "airport_fee" in y2023_01 and "Airport_fee" not in y2023_01
    assert y2023["Airport_fee"] == pa.float64() and "airport_fee" not in y2023
    assert y2023["passenger_count"] == pa.int64() and y2023["RatecodeID"] == pa.int64()
    assert y2023["VendorID"] == pa.int32() and y2023["PULocationID"] == pa.int32() and y2023["DOLocationID"] == pa.int32()
    assert y2023["payment_type"] == pa.int64() and y2023["store_and_fwd_flag"] == pa.large_string()
    assert y2022["store_and_fwd_flag"] == pa.string()
    assert "cbd_congestion_fee" not in y2023 and y2025["cbd_congestion_fee"] == pa.float64()
    assert published_schema("yellow", "2019-06").names == YELLOW_ORDER + ["airport_fee"]
    assert published_schema("yellow", "2023-05").names == YELLOW_ORDER + ["Airport_fee"]
    assert published_schema("yellow", "2025-02").names == YELLOW_ORDER + ["Airport_fee", "cbd_congestion_fee"]


def test_green_eras_follow_the_course_order_and_drift():
    course = [name for name, _ in schemas.GREEN]
    g2019, g2020, g2022, g2023 = (_types("green", m) for m in ("2019-08", "2020-01", "2022-05", "2023-05"))
    assert list(g2020) == course and list(g2023) == course
    assert g2019["ehail_fee"] == pa.float64() and g2020["ehail_fee"] == pa.null() and g2022["ehail_fee"] == pa.null()
    assert g2023["ehail_fee"] == pa.float64()
    assert g2020["trip_type"] == pa.float64() and g2023["trip_type"] == pa.int64()
    assert g2020["payment_type"] == pa.float64() and g2023["payment_type"] == pa.int64()
    assert g2020["lpep_pickup_datetime"] == g2022["lpep_pickup_datetime"] == pa.timestamp("us")
    assert g2023["VendorID"] == pa.int32() and g2023["passenger_count"] == pa.int64()
    assert g2022["store_and_fwd_flag"] == pa.string() and g2023["store_and_fwd_flag"] == pa.large_string()
    assert published_schema("green", "2025-01").names == course + ["cbd_congestion_fee"]


def test_for_hire_schemas_carry_the_course_columns():
    fhvhv_2020 = _types("fhvhv", "2020-01")
    for name, _ in schemas.FHVHV:
        assert name in fhvhv_2020 or name == "SR_Flag"  # the parquet files never had it: clean fills nulls
    assert "SR_Flag" not in fhvhv_2020 and fhvhv_2020["PULocationID"] == pa.int64()
    assert _types("fhvhv", "2019-03")["wav_match_flag"] == pa.null()
    assert _types("fhvhv", "2023-01")["PULocationID"] == pa.int64()
    assert _types("fhvhv", "2023-02")["PULocationID"] == pa.int32()
    assert _types("fhvhv", "2023-02")["hvfhs_license_num"] == pa.large_string()
    assert len(published_schema("fhvhv", "2022-01")) == 24
    fhv = published_schema("fhv", "2019-10")
    assert fhv.names == ["dispatching_base_num", "pickup_datetime", "dropOff_datetime", "PUlocationID",
                         "DOlocationID", "SR_Flag", "Affiliated_base_number"]
    assert fhv.field("PUlocationID").type == pa.float64() and fhv.field("DOlocationID").type == pa.float64()


@pytest.mark.parametrize("taxi_type,month", [("yellow", "2019-01"), ("yellow", "2022-07"), ("yellow", "2025-03"),
                                             ("green", "2021-06"), ("green", "2023-02"), ("fhvhv", "2019-02"),
                                             ("fhvhv", "2023-04"), ("fhv", "2019-10"), ("fhv", "2022-01")])
def test_generated_table_has_the_published_schema_and_exact_rows(taxi_type, month):
    for rows in (1, 7, 5_003):
        table = generate_month(taxi_type, month, rows)
        assert table.schema == published_schema(taxi_type, month)
        assert table.num_rows == rows


def test_large_months_are_generated_in_blocks_with_exact_rows_and_rates():
    rows = CHUNK_ROWS + 3
    table = generate_month("yellow", "2022-02", rows, seed=11)
    assert table.num_rows == rows and table.schema == published_schema("yellow", "2022-02")
    assert table.equals(generate_month("yellow", "2022-02", rows, seed=11))
    assert _close((_np(table, "trip_distance") == 0).sum(), QUIRK_RATES["zero_distance"], rows)


def test_zero_rows_gives_an_empty_table_with_the_schema():
    for taxi_type in ("green", "yellow", "fhv", "fhvhv"):
        table = generate_month(taxi_type, "2021-01", 0)
        assert table.num_rows == 0 and table.schema == published_schema(taxi_type, "2021-01")


@pytest.mark.parametrize("taxi_type,month,needle", [("blue", "2021-01", "'blue'"), ("Yellow", "2021-01", "'Yellow'"),
                                                    ("yellow", "2021-13", "'2021-13'"), ("yellow", "2021-1", "'2021-1'"),
                                                    ("yellow", "January", "'January'"), ("green", "21-01", "'21-01'")])
def test_bad_type_or_month_raises_value_error_naming_it(taxi_type, month, needle):
    with pytest.raises(ValueError, match=re.escape(needle)):
        generate_month(taxi_type, month, 10)
    with pytest.raises(ValueError, match=re.escape(needle)):
        published_schema(taxi_type, month)


def test_negative_rows_or_seed_raise():
    with pytest.raises(ValueError, match="rows"):
        generate_month("yellow", "2021-01", -1)
    with pytest.raises(ValueError, match="seed"):
        generate_month("yellow", "2021-01", 10, seed=-3)


# --- determinism and files -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("taxi_type", ["green", "yellow", "fhv", "fhvhv"])
def test_deterministic_per_seed_and_month(taxi_type):
    a = generate_month(taxi_type, "2021-03", 5_000, seed=1)
    assert a.equals(generate_month(taxi_type, "2021-03", 5_000, seed=1))
    assert not a.equals(generate_month(taxi_type, "2021-03", 5_000, seed=2))
    other_month = generate_month(taxi_type, "2021-04", 5_000, seed=1)
    assert not np.array_equal(_seconds(a, a.schema.names[1] if taxi_type != "fhvhv" else "pickup_datetime") % 86400,
                              _seconds(other_month, other_month.schema.names[1] if taxi_type != "fhvhv"
                                       else "pickup_datetime") % 86400)


@pytest.mark.parametrize("taxi_type,month", [("yellow", "2021-01"), ("green", "2019-03"), ("fhvhv", "2023-05"),
                                              ("fhv", "2020-02")])
def test_write_month_streams_block_by_block_the_rows_of_generate_month(tmp_path, taxi_type, month):
    """write_month never builds the month in memory (one row group per CHUNK_ROWS block) and writes exactly the rows
    of generate_month: the same RNG stream consumed in the same order."""
    from taxi_platform.sample.generator import CHUNK_ROWS

    rows = 2 * CHUNK_ROWS + 17
    target = tmp_path / "month.parquet"
    assert write_month(target, taxi_type, month, rows) == rows
    written = pq.ParquetFile(target)
    assert written.metadata.num_row_groups == 3
    assert [written.metadata.row_group(i).num_rows for i in range(3)] == [CHUNK_ROWS, CHUNK_ROWS, 17]
    expected = generate_month(taxi_type, month, rows)
    assert written.read().equals(expected.combine_chunks())


def test_write_month_writes_one_readable_parquet_file(tmp_path):
    target = tmp_path / "raw" / "green" / "2020" / "01" / "green_tripdata_2020-01.parquet"
    assert write_month(target, "green", "2020-01", 3_000, seed=5) == 3_000
    back = pq.read_table(target)
    assert back.schema == published_schema("green", "2020-01")
    assert back.equals(generate_month("green", "2020-01", 3_000, seed=5))
    assert write_month(str(tmp_path / "empty.parquet"), "yellow", "2023-01", 0) == 0
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


# --- money -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("taxi_type,month", [("yellow", "2019-01"), ("yellow", "2021-01"), ("yellow", "2023-05"),
                                             ("yellow", "2025-03"), ("green", "2020-01"), ("green", "2025-06")])
def test_total_amount_is_the_sum_of_its_components_to_the_cent(taxi_type, month):
    table = generate_month(taxi_type, month, 100_000, seed=3)
    parts = sum(_np(table, name, 0.0) for name in MONEY_PARTS if name in table.schema.names)
    total = _np(table, "total_amount")
    assert np.all(np.abs(np.round(parts, 2) - total) < 0.005)
    negative = total < 0
    assert abs(negative.mean() - QUIRK_RATES["negative_amounts"]) < 0.002
    for name in ("fare_amount", "mta_tax", "improvement_surcharge"):  # refund rows negate every money column
        assert np.all(_np(table, name)[negative] <= 0)
    assert np.all(np.abs(np.round(parts[negative], 2) - total[negative]) < 0.005)
    for name in ("extra", "tip_amount", "tolls_amount"):  # zeros of refund rows stay +0.0 (never "-0.0" in a CSV)
        values = _np(table, name)
        assert not np.signbit(values[values == 0]).any()


def test_fare_rules_of_the_eras():
    y2019, y2023 = generate_month("yellow", "2019-01", 50_000), generate_month("yellow", "2023-05", 50_000)
    assert pc.all(pc.is_null(y2019.column("congestion_surcharge"))).as_py()  # before the surcharge started
    positive = _np(y2023, "total_amount") > 0
    assert set(np.unique(_np(y2023, "congestion_surcharge")[positive])) == {0.0, 2.5}
    assert set(np.unique(_np(y2023, "improvement_surcharge")[positive])) == {1.0}
    assert set(np.unique(_np(y2019, "improvement_surcharge")[_np(y2019, "total_amount") > 0])) == {0.3}
    assert set(np.unique(_np(y2023, "Airport_fee")[positive])) <= {0.0, 1.75}
    flat = (_np(y2023, "RatecodeID", 0) == 2) & positive
    assert flat.sum() > 0 and set(np.unique(_np(y2023, "fare_amount")[flat])) == {70.0}


def test_payment_and_tips(yellow):
    payment = _np(yellow, "payment_type")
    assert 0.66 < (payment == 1).mean() < 0.74 and 0.21 < (payment == 2).mean() < 0.29
    tip = _np(yellow, "tip_amount")
    assert np.all(tip[payment == 2] == 0)
    card = (payment == 1) & (_np(yellow, "fare_amount") > 0)
    assert 0.10 < np.median(tip[card] / _np(yellow, "fare_amount")[card]) < 0.30
    assert (_np(yellow, "store_and_fwd_flag", "") == "N").mean() > 0.97
    assert (_np(green_table := generate_month("green", "2020-01", 20_000), "trip_type", 0) == 1).mean() > 0.95
    assert pc.all(pc.is_null(green_table.column("ehail_fee"))).as_py()


# --- places and times ------------------------------------------------------------------------------------------------


def test_yellow_pickups_are_mostly_manhattan(yellow, boroughs):
    pu = _np(yellow, "PULocationID")
    assert (boroughs[pu] == "Manhattan").mean() > 0.80
    assert 0.02 < (pu == 132).mean() < 0.08 and 0.015 < (pu == 138).mean() < 0.06
    top = np.bincount(pu, minlength=266)
    assert np.sort(top)[-5:].sum() / pu.size > 0.2  # skewed: a few zones dominate
    do = _np(yellow, "DOLocationID")
    same = boroughs[pu] == boroughs[do]
    assert same.mean() > 0.75


def test_green_pickups_are_mostly_outside_the_yellow_zone(green, boroughs):
    """Green cabs may not pick up in Manhattan's Yellow Zone: their pickups are outer-borough (Brooklyn, Queens,
    Bronx, Staten Island) plus upper Manhattan (the lookup's "Boro Zone": zones 41, 42, 74, 75, 166, 244, ...)."""
    pu = _np(green, "PULocationID")
    lookup = load_zone_lookup().to_pydict()
    service = dict(zip(lookup["LocationID"], lookup["service_zone"]))
    outer = np.isin(boroughs[pu], ["Brooklyn", "Queens", "Bronx", "Staten Island"])
    assert outer.mean() > 0.80
    assert np.isin(pu, [loc for loc, svc in service.items() if svc == "Boro Zone"]).mean() > 0.95
    assert np.isin(pu, [74, 75, 41, 42, 82, 129, 95, 97, 7, 166, 244]).mean() > 0.15
    assert np.isin(pu, [loc for loc, svc in service.items() if svc == "Yellow Zone"]).mean() < 0.05


def test_distances_durations_and_hours(yellow, green):
    for table, median_miles in ((yellow, 1.7), (green, 2.5)):
        miles = _np(table, "trip_distance")
        assert 0.75 * median_miles < np.median(miles[miles > 0]) < 1.4 * median_miles
        assert np.all(np.round(miles, 2) == miles)
    pickup, dropoff = _seconds(yellow, "tpep_pickup_datetime"), _seconds(yellow, "tpep_dropoff_datetime")
    minutes = (dropoff - pickup) / 60
    moving = (_np(yellow, "trip_distance") > 1) & (minutes > 0)
    mph = _np(yellow, "trip_distance")[moving] / (minutes[moving] / 60)
    assert 7 < np.median(mph) < 20 and np.percentile(minutes[minutes >= 0], 0.1) >= 1
    hours = (pickup // 3600) % 24
    assert (hours == 18).sum() > 4 * (hours == 4).sum()


# --- quirks at their documented rates --------------------------------------------------------------------------------


def _close(count: int, rate: float, n: int = N) -> bool:
    expected = rate * n
    return abs(count - expected) <= max(2.0, 0.1 * expected)


@pytest.mark.parametrize("fixture,prefix", [("yellow", "tpep"), ("green", "lpep")])
def test_quirks_at_documented_rates(request, fixture, prefix):
    table = request.getfixturevalue(fixture)
    month_start, month_end = np.datetime64("2021-01-01" if fixture == "yellow" else "2020-01-01"), None
    month_end = month_start.astype("datetime64[M]") + 1
    pickup = _np(table, f"{prefix}_pickup_datetime")
    outside = (pickup < month_start) | (pickup >= month_end)
    assert _close(outside.sum(), QUIRK_RATES["out_of_month_pickup"])
    assert (pickup < np.datetime64("2010-01-01")).sum() > 0  # some years off, like the 2008/2009 rows
    assert _close((_np(table, "trip_distance") == 0).sum(), QUIRK_RATES["zero_distance"])
    pu, do = _np(table, "PULocationID"), _np(table, "DOLocationID")
    assert _close((np.isin(pu, [264, 265]) | np.isin(do, [264, 265])).sum(), QUIRK_RATES["unknown_zone"])
    null_passengers = pc.is_null(table.column("passenger_count")).to_numpy(zero_copy_only=False)
    assert _close(null_passengers.sum(), QUIRK_RATES["unknown_passenger_ratecode"])
    assert np.array_equal(null_passengers, pc.is_null(table.column("RatecodeID")).to_numpy(zero_copy_only=False))
    dropoff = _np(table, f"{prefix}_dropoff_datetime")
    assert _close((dropoff < pickup).sum(), QUIRK_RATES["dropoff_before_pickup"])
    assert _close((np.abs(_np(table, "fare_amount")) >= 5000).sum(), QUIRK_RATES["absurd_fare"])


def test_unknown_rows_have_payment_type_zero_from_2023():
    table = generate_month("yellow", "2023-05", 50_000)
    unknown = pc.is_null(table.column("passenger_count")).to_numpy(zero_copy_only=False)
    assert unknown.sum() > 0 and np.all(_np(table, "payment_type")[unknown] == 0)
    assert np.all(_np(table, "payment_type")[~unknown] > 0)


def test_quirk_rates_are_documented():
    import taxi_platform.sample.generator as generator
    import taxi_platform.sample.quirks as quirks

    for name in QUIRK_RATES:
        assert name in generator.__doc__ and name in quirks.__doc__
    assert set(quirk_rates("fhv")) < set(quirk_rates("yellow")) == set(QUIRK_RATES)


# --- for-hire vehicles -----------------------------------------------------------------------------------------------


def test_fhvhv_licenses_bases_and_times():
    table = generate_month("fhvhv", "2021-01", 100_000)
    license_num = _np(table, "hvfhs_license_num")
    assert 0.66 < (license_num == "HV0003").mean() < 0.76 and 0.21 < (license_num == "HV0005").mean() < 0.29
    assert set(np.unique(license_num)) <= {"HV0002", "HV0003", "HV0004", "HV0005"}
    assert all(re.fullmatch(r"B\d{5}", base) for base in np.unique(_np(table, "dispatching_base_num")))
    request, pickup = _seconds(table, "request_datetime"), _seconds(table, "pickup_datetime")
    on_scene = table.column("on_scene_datetime")
    has_scene = pc.is_valid(on_scene).to_numpy(zero_copy_only=False)
    on_scene = pc.fill_null(on_scene, table.column("pickup_datetime")).to_numpy(zero_copy_only=False)
    on_scene = on_scene.astype("datetime64[s]").astype(np.int64)
    assert np.all(request <= pickup) and np.all((request <= on_scene) & (on_scene <= pickup))
    assert not has_scene[license_num == "HV0005"].any() and has_scene[license_num == "HV0003"].mean() > 0.95
    dropoff = _seconds(table, "dropoff_datetime")
    assert np.all((dropoff - pickup)[dropoff >= pickup] == _np(table, "trip_time")[dropoff >= pickup])
    assert _close((dropoff < pickup).sum(), QUIRK_RATES["dropoff_before_pickup"], 100_000)


def test_fhv_locations_are_double_with_nulls_and_sr_flag_mostly_null():
    table = generate_month("fhv", "2019-10", 50_000)
    assert 0.05 < pc.mean(pc.is_null(table.column("PUlocationID")).cast(pa.int8())).as_py() < 0.4
    assert pc.mean(pc.is_null(table.column("SR_Flag")).cast(pa.int8())).as_py() > 0.95
    assert all(re.fullmatch(r"B\d{5}", base) for base in np.unique(_np(table, "dispatching_base_num")))


# --- the real CSV heads ----------------------------------------------------------------------------------------------


def _csv_headers() -> dict[tuple[str, str], list[str]]:
    if not CSV_HEADS.is_dir():
        pytest.skip(f"../shared/data/tlc_csv_heads not present: no real TLC CSV heads to compare with ({CSV_HEADS})")
    headers = {}
    for path in sorted(CSV_HEADS.glob("*_tripdata_*.csv")):
        taxi_type, month = re.fullmatch(r"(\w+?)_tripdata_(\d{4}-\d{2})\.csv", path.name).groups()
        with path.open() as handle:
            headers[(taxi_type, month)] = handle.readline().strip().split(",")
    return headers


def test_columns_match_the_real_2019_2020_csv_headers():
    headers = _csv_headers()
    checked = 0
    for (taxi_type, month), header in headers.items():
        generated = generate_month(taxi_type, month, 10).schema.names
        if taxi_type in ("green", "yellow"):
            assert [c for c in generated if c not in PARQUET_ONLY] == header, (taxi_type, month)
            checked += 1
        elif taxi_type == "fhvhv":
            assert set(header) - {"SR_Flag"} <= set(generated), (taxi_type, month)  # CSV-era only
        else:  # fhv: the parquet files spell dropOff_datetime / PUlocationID / DOlocationID
            assert [c.lower() for c in header] == [c.lower() for c in generated[: len(header)]], (taxi_type, month)
    assert checked >= 4


def test_fhv_publishes_sr_flag_and_locations_in_the_tlc_eras_types():
    """The sample publishes the real eras' types (eras.py [A]): FHV SR_Flag double (1.0 or null) up to 2019-02, an
    all-null column of no type 2019-03..2023-01, int64 (1 or null) from 2023-02; PU/DOlocationID double, int64 in
    2019-05..06 and from 2023-02."""
    table = generate_month("fhv", "2019-02", 20_000)
    assert table.schema.field("SR_Flag").type == pa.float64()
    assert set(pc.unique(pc.drop_null(table.column("SR_Flag"))).to_pylist()) == {1.0}
    assert published_schema("fhv", "2020-02").field("SR_Flag").type == pa.null()
    later = generate_month("fhv", "2023-03", 20_000)
    assert later.schema.field("SR_Flag").type == pa.int64()
    assert set(pc.unique(pc.drop_null(later.column("SR_Flag"))).to_pylist()) == {1}
    assert later.schema.field("PUlocationID").type == pa.int64()
    assert published_schema("fhv", "2019-05").field("PUlocationID").type == pa.int64()
    assert published_schema("fhv", "2019-10").field("PUlocationID").type == pa.float64()
