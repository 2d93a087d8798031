"""The sample's per-type volumes: each type scaled to the yellow knob by the real monthly ratio of its era."""

import pyarrow.parquet as pq
import pytest

from taxi_platform.resources.deployments import resources_for
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sample.volumes import sample_rows


def test_rows_follow_the_real_monthly_ratios_of_each_era():
    # 2021-01 files: yellow 1,369,769, green 76,518, fhv 1,154,112, fhvhv 11,908,468 trips
    assert {t: sample_rows(t, "2021-01", 1_369_769) for t in ("yellow", "green", "fhv", "fhvhv")} == {
        "yellow": 1_369_769, "green": 76_518, "fhv": 1_154_112, "fhvhv": 11_908_468}
    assert {t: sample_rows(t, "2021-01", 137_000) for t in ("green", "fhv", "fhvhv")} == {
        "green": 7_653, "fhv": 115_431, "fhvhv": 1_191_048}
    # 2019-01: yellow 7,696,617, green 672,105 (parquet; the course's CSV has 630,918)
    assert sample_rows("green", "2019-01", 7_696_617) == 672_105
    # a month between two rows takes the older row: 2020-06 is counted as 2019-02 (green 615,594 / yellow 7,049,370)
    assert sample_rows("green", "2020-06", 70_000) == sample_rows("green", "2019-02", 70_000) == 6_113
    assert sample_rows("green", "2024-05", 3_070) == 68
    assert sample_rows("green", "2021-01", 1) == 1 and sample_rows("green", "2021-01", 0) == 0
    with pytest.raises(ValueError, match="unknown taxi type"):
        sample_rows("blue", "2021-01", 10)
    with pytest.raises(ValueError, match="yellow_rows must be a non-negative int"):
        sample_rows("green", "2021-01", -1)


def test_the_sample_source_publishes_yellow_far_above_green_and_equal_on_request(tmp_path):
    realistic = TaxiSourceResource(kind="sample", sample_rows_per_month=2_740, sample_seed=3)
    files = {t: realistic.fetch_month(t, "2021-01", tmp_path / t) for t in ("yellow", "green")}
    rows = {t: pq.ParquetFile(f.path).metadata.num_rows for t, f in files.items()}
    assert rows == {"yellow": 2_740, "green": 153}
    green_revenue = sum(v for v in pq.read_table(files["green"].path, columns=["total_amount"]).column(0).to_pylist()
                        if v is not None)
    yellow_revenue = sum(v for v in pq.read_table(files["yellow"].path, columns=["total_amount"]).column(0).to_pylist()
                         if v is not None)
    assert yellow_revenue > 10 * green_revenue  # the demo's report: yellow revenue far above green, as in reality

    equal = TaxiSourceResource(kind="sample", sample_rows_per_month=300, sample_volumes="equal")
    assert equal.fetch_month("green", "2021-01", tmp_path / "equal").num_rows == 300
    assert resources_for(env={"TAXI_SAMPLE_VOLUMES": "equal"})["sources"].sample_volumes == "equal"
    assert resources_for(env={})["sources"].sample_volumes == "realistic"
