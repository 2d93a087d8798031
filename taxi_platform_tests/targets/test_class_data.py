"""The local driver's class-data archive (resources/class_data.py): which JVM options a local session gets, and that
the suite's own session (started after `make install` wrote the archive) maps it."""

import json
import os
import re
import shutil
import subprocess

import pytest

from taxi_platform.resources.class_data import ARCHIVE_ENV, default_archive, driver_java_options, main
from taxi_platform.resources.spark import SparkResource

USER_OPTIONS = "-Dtaxi.test=1"


def test_local_sessions_map_an_existing_archive_and_keep_the_users_java_options(tmp_path, monkeypatch):
    archive = tmp_path / "driver.jsa"
    archive.write_bytes(b"not checked here: the JVM checks it and starts without it when it does not fit")
    monkeypatch.setenv(ARCHIVE_ENV, str(archive))
    local = SparkResource(master="local[2]", spark_config={"spark.driver.extraJavaOptions": USER_OPTIONS})
    options = local.effective_config()["spark.driver.extraJavaOptions"].split()
    assert options[0] == f"-XX:SharedArchiveFile={archive}" and "-Xshare:auto" in options
    assert options[-1] == USER_OPTIONS
    standalone = SparkResource(target="standalone", master="spark://127.0.0.1:7077",
                               spark_config={"spark.driver.extraJavaOptions": USER_OPTIONS})
    assert standalone.effective_config()["spark.driver.extraJavaOptions"] == USER_OPTIONS  # only the local target


@pytest.mark.parametrize("setting", ["missing", "off"])
def test_no_archive_adds_no_option(tmp_path, monkeypatch, setting):
    monkeypatch.setenv(ARCHIVE_ENV, str(tmp_path / "absent.jsa") if setting == "missing" else "off")
    assert driver_java_options() == ""
    assert "spark.driver.extraJavaOptions" not in SparkResource(master="local[2]").effective_config()


def test_the_archive_key_follows_pyspark_and_java(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = default_archive()
    assert first.parent == tmp_path / "taxi_platform" and first.name.startswith("spark-driver-")
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on PATH: another key, never the same file
    assert default_archive() != first


def test_installing_prunes_the_archives_of_installs_that_are_gone_and_keeps_the_rest(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(ARCHIVE_ENV, raising=False)
    ours = default_archive()
    ours.parent.mkdir(parents=True)
    ours.write_bytes(b"present: main() does not rewrite it")
    java = shutil.which("java") or str(ours)  # a path that exists
    archives = {}
    for name, pyspark_folder, java_binary in [("gone-clone", tmp_path / "deleted" / "pyspark", java),
                                              ("gone-jdk", tmp_path, tmp_path / "old-jdk" / "java"),
                                              ("live-clone", tmp_path, java), ("no-sidecar", None, None),
                                              ("foreign-sidecar", "", "")]:
        archive = ours.parent / f"spark-driver-{name}.jsa"
        archive.write_bytes(b"x")
        if pyspark_folder == "":  # a sidecar this module did not write (no pyspark / java named): kept
            archive.with_suffix(".json").write_text(json.dumps({"note": "by hand"}))
        elif pyspark_folder is not None:
            archive.with_suffix(".json").write_text(json.dumps({"pyspark": str(pyspark_folder),
                                                                "java": str(java_binary)}))
        archives[name] = archive
    assert main([]) == 0
    left = sorted(p.name for p in ours.parent.iterdir())
    assert left == sorted([ours.name, "spark-driver-live-clone.jsa", "spark-driver-live-clone.json",
                           "spark-driver-no-sidecar.jsa", "spark-driver-foreign-sidecar.jsa",
                           "spark-driver-foreign-sidecar.json"])
    printed = capsys.readouterr().out
    assert str(archives["gone-clone"]) in printed and str(archives["gone-jdk"]) in printed and "present" in printed


@pytest.mark.spark
def test_the_suites_session_maps_the_archive_make_install_wrote(spark):
    archive = default_archive()
    if os.environ.get(ARCHIVE_ENV) or not archive.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"make install writes {archive} (python -m taxi_platform.resources.class_data); it is absent")
        pytest.skip(f"no class-data archive at {archive}: `python -m taxi_platform.resources.class_data` writes it")
    jvm = spark.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={archive}" in arguments, arguments
    # mapped, not only named (``-Xshare:auto`` falls back silently to the JDK's own ~13 MB base archive when this one
    # does not fit): the JVM's own report of the mapped archives, whose size then includes this archive's
    jcmd = shutil.which("jcmd")
    if jcmd is None:
        pytest.skip("no jcmd (a JRE without the JDK tools): the mapping itself is not observable")
    pid = jvm.java.lang.ProcessHandle.current().pid()
    info = subprocess.run([jcmd, str(pid), "VM.info"], capture_output=True, text=True, timeout=60).stdout
    mapped = re.search(r"CDS archive\(s\) mapped at: .*size (\d+)", info)
    assert mapped, info[:2000]
    assert int(mapped.group(1)) > archive.stat().st_size, mapped.group(0)
