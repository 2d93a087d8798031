"""A file whose pickups are mostly in another month is refused (it would otherwise replace the month and be quarantined
whole as pickup_outside_month); a month's few stray trips are not."""

from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sample.generator import generate_month
from taxi_platform.schemas import PICKUP_DROPOFF
from taxi_platform.sources import CorruptFileError, WrongMonthError


def local(path) -> TaxiSourceResource:
    return TaxiSourceResource(kind="local", local_path_template=str(path))


@pytest.mark.parametrize("taxi_type", ["green", "yellow", "fhv", "fhvhv"])
def test_a_file_of_another_month_is_refused_naming_the_months_it_holds(tmp_path, taxi_type):
    src = tmp_path / f"{taxi_type}.parquet"
    pq.write_table(generate_month(taxi_type, "2011-01", 400, 7), src)  # timestamps ten years off
    with pytest.raises(WrongMonthError) as info:
        local(src).fetch_month(taxi_type, "2021-01", tmp_path / "work")
    message = str(info.value)
    pickup = PICKUP_DROPOFF[taxi_type][0]
    assert message.startswith(f"{taxi_type} 2021-01: {src} is not a 2021-01 file: only 0 of its 400 pickups ({pickup})")
    assert "most are in 2011-01 (" in message
    assert list((tmp_path / "work").iterdir()) == []  # nothing handed on


def test_stray_trips_of_other_months_are_kept_for_the_quarantine(tmp_path):
    """A real month carries a few trips of other months (even years off): the file is that month's, and passes."""
    table = generate_month("yellow", "2021-01", 1000, 7)
    pickup, dropoff = PICKUP_DROPOFF["yellow"]
    stray = pa.array([datetime(2009, 1, 1, 0, 5)] * 10 + [datetime(2031, 1, 1, 0, 5)] * 10, table.schema.field(pickup).type)
    years_off = table.slice(0, 20).set_column(table.schema.get_field_index(pickup), pickup, stray)
    src = tmp_path / "yellow.parquet"
    pq.write_table(pa.concat_tables([table, years_off]), src)
    fetched = local(src).fetch_month("yellow", "2021-01", tmp_path / "work")
    assert fetched.num_rows == 1020
    years = pc.year(pq.read_table(fetched.path).column(pickup))
    assert {2009, 2031} <= set(years.to_pylist())  # handed on as published; clean quarantines them


def test_a_file_without_any_pickup_time_is_corrupt(tmp_path):
    table = generate_month("green", "2021-01", 50, 7)
    pickup = PICKUP_DROPOFF["green"][0]
    index = table.schema.get_field_index(pickup)
    table = table.set_column(index, pickup, pa.nulls(50, table.schema.field(pickup).type))
    src = tmp_path / "green.parquet"
    pq.write_table(table, src)
    with pytest.raises(CorruptFileError, match=rf"green 2021-01: {src} has no pickup time \({pickup}\) in any of its 50 rows"):
        local(src).fetch_month("green", "2021-01", tmp_path / "work")


@pytest.mark.parametrize("in_month, elsewhere, refused", [(3, 5, False), (1, 999, True)])
def test_the_line_is_one_percent_of_the_pickups(tmp_path, in_month, elsewhere, refused):
    """The TLC's real heads start with strays (yellow 2019-01: 5 of its first 8 rows are 2018 trips): kept. The next
    month's file, whose few strays fall in this month (0.1 %), is refused."""
    table = generate_month("yellow", "2021-01", in_month, 7)
    other = generate_month("yellow", "2021-02", elsewhere, 7)
    pickup = PICKUP_DROPOFF["yellow"][0]
    times = pa.array([datetime(2021, 1, 15, 12, 0)] * in_month + [datetime(2021, 2, 15, 12, 0)] * elsewhere,
                     table.schema.field(pickup).type)
    both = pa.concat_tables([table, other.cast(table.schema)])
    both = both.set_column(both.schema.get_field_index(pickup), pickup, times)
    src = tmp_path / "yellow.parquet"
    pq.write_table(both, src)
    if refused:
        with pytest.raises(WrongMonthError, match=r"only 1 of its 1000 pickups .* fall in 2021-01 \(less than 1%\); "
                                                  r"most are in 2021-02 \(99\.9%\)"):
            local(src).fetch_month("yellow", "2021-01", tmp_path / "work")
    else:
        assert local(src).fetch_month("yellow", "2021-01", tmp_path / "work").num_rows == in_month + elsewhere
