"""What Dataproc runs: the job script plus the taxi_platform zip built exactly as docs/dataproc.md says."""

import subprocess
import sys
import textwrap

import pytest

from ..conftest import REPO_ROOT

# docs/dataproc.md, "1. Package the code": the same command.
ZIP_COMMAND = "import shutil; shutil.make_archive('dist/taxi_platform', 'zip', '.', 'taxi_platform')"

BLOCK_DAGSTER = textwrap.dedent("""
    import sys
    class _NotOnTheCluster:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("dagster", "dagster_pyspark", "dagster_gcp", "dagster_shared", "pydantic"):
                raise ImportError(f"{name} is not installed on a stock Dataproc image")
    sys.meta_path.insert(0, _NotOnTheCluster())
""")


@pytest.fixture(scope="module")
def py_zip(tmp_path_factory):
    work = tmp_path_factory.mktemp("pkg")
    (work / "taxi_platform").symlink_to(REPO_ROOT / "taxi_platform", target_is_directory=True)
    (work / "dist").mkdir()
    subprocess.run([sys.executable, "-c", ZIP_COMMAND], cwd=work, check=True, timeout=60)
    return work / "dist" / "taxi_platform.zip"


def test_the_zip_puts_the_job_modules_on_the_pythonpath(py_zip, tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(py_zip)!r})
        import taxi_platform.transforms.conform, taxi_platform.transforms.quarantine
        import taxi_platform.transforms.revenue, taxi_platform.transforms.trips, taxi_platform.spark_jobs.revenue_report as r
        assert r.__file__.startswith({str(py_zip)!r}), r.__file__
        from taxi_platform.reference import MAX_ZONE_ID  # the job's only use of the zone lookup: a constant
        assert MAX_ZONE_ID == 265
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]


def test_job_script_imports_nothing_a_stock_dataproc_image_lacks(py_zip, tmp_path):
    code = BLOCK_DAGSTER + textwrap.dedent(f"""
        sys.path.insert(0, {str(py_zip)!r})
        from taxi_platform.spark_jobs import revenue_report as r
        r.parse_args(["--input_green=gs://b/g", "--input_yellow=gs://b/y", "--output=gs://b/o", "--months=2021-01"])
        import taxi_platform.transforms.conform, taxi_platform.transforms.quarantine
        import taxi_platform.transforms.revenue, taxi_platform.transforms.trips
        from taxi_platform.spark_settings import BASE_CONFIG
        from taxi_platform.reference import load_zone_lookup
        assert load_zone_lookup().num_rows == 265  # package data read from inside the zip
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]
