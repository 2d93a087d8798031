"""The benchmark's input volumes: the default even split, and the TLC's real monthly trips (``--volumes real``)."""

import pytest

from bench.data import month_keys, raw_months


def test_real_volumes_are_the_tlc_monthly_trips_of_each_type(tmp_path):
    real = raw_months(tmp_path, 1_100_000, 42, "real")
    months = month_keys("2019-01", 12)
    assert real.rows_for("yellow", "2019-01") == 7_696_617 and real.rows_for("green", "2019-01") == 672_105
    assert real.rows_for("yellow", "2019-07") == 7_049_370 and real.rows_for("green", "2019-07") == 615_594
    assert real.rows(months) == 7_696_617 + 672_105 + 11 * (7_049_370 + 615_594) == 92_683_326
    even = raw_months(tmp_path, 1_100_000, 42)
    assert even.rows(months) == 13_200_000 and even.rows_for("green", "2019-01") == 550_000
    assert real.root != even.root  # never one cache for two volumes


def test_an_unknown_volume_is_refused(tmp_path):
    with pytest.raises(ValueError, match="volumes must be one of"):
        raw_months(tmp_path, 1000, 1, "huge")
