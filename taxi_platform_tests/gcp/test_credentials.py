"""Credentials: the keyfile path never on a process command line (the real driver JVM's /proc/<pid>/cmdline is
scanned), and a keyfile that cannot be used is a clear error that never shows its path."""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from taxi_platform.resources.gcp import KEYFILE_HADOOP_KEY, GcpCredentialsError, GcpResource
from taxi_platform_tests.conftest import REPO_ROOT
from taxi_platform_tests.dataproc.fakes import write_service_account_keyfile

# A run process of its own: a session of the gcp deployment's Spark resource (a real keyfile, no emulator), then it
# reports its driver JVM's pid and what the running session's Hadoop configuration holds, and waits to be released.
SESSION = textwrap.dedent("""
    import json, sys
    from taxi_platform.resources.gcp import GcpResource, KEYFILE_HADOOP_KEY
    from taxi_platform.resources.spark import SparkResource
    spark = SparkResource(master="local[1]", driver_memory="512m", spark_config={"spark.ui.enabled": "false"},
                          gcp=GcpResource(project="taxi-cmdline", keyfile_env_var="TAXI_CMDLINE_KEYFILE"))
    session = spark.get_session()
    jvm = session.sparkContext._jvm
    print("SESSION " + json.dumps({
        "jvm_pid": int(jvm.java.lang.ProcessHandle.current().pid()),
        "hadoop_keyfile": session.sparkContext._jsc.hadoopConfiguration().get(KEYFILE_HADOOP_KEY),
        "spark_conf": dict(session.sparkContext.getConf().getAll()),
    }), flush=True)
    sys.stdin.readline()
    session.stop()
""")


def process_tree(root: int) -> dict[int, str]:
    """{pid: command line} of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            children.setdefault(int(text[text.rindex(")") + 2:].split()[1]), []).append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    found, pending = {}, [root]
    while pending:
        pid = pending.pop()
        try:
            found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        pending.extend(children.get(pid, []))
    return found


@pytest.mark.spark
def test_the_keyfile_path_is_on_no_command_line_of_the_run(tmp_path):
    secret_dir = tmp_path / f"cmdline-secret-{uuid.uuid4().hex[:8]}"
    secret_dir.mkdir()
    keyfile = write_service_account_keyfile(secret_dir / "sa-key-cmdline.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAXI_", "PYSPARK_", "SPARK_REMOTE"))}
    env.update({"TAXI_CMDLINE_KEYFILE": keyfile, "SPARK_LOCAL_IP": "127.0.0.1", "NO_GCE_CHECK": "True"})
    process = subprocess.Popen([sys.executable, "-c", SESSION], cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("SESSION "), process.stderr.read() if process.poll() is not None else line
        session = json.loads(line.split(" ", 1)[1])
        tree = process_tree(process.pid)
    finally:
        if process.poll() is None:
            process.stdin.write("\n")
            process.stdin.flush()
        out, err = process.communicate(timeout=120)
    # the scan saw the run's driver JVM (a child of the run process, started by spark-submit), with its settings
    jvm = tree.get(session["jvm_pid"], "")
    assert "java" in jvm and "SparkSubmit" in jvm and "spark.hadoop.fs.gs.impl" in jvm, tree
    for pid, cmdline in tree.items():
        assert keyfile not in cmdline and secret_dir.name not in cmdline, (pid, cmdline)
    # ...and the connector still gets the keyfile: on the live session's Hadoop configuration, not in the Spark conf
    assert session["hadoop_keyfile"] == keyfile
    assert not [k for k, v in session["spark_conf"].items() if keyfile in v]
    assert session["spark_conf"]["spark.hadoop.google.cloud.auth.service.account.enable"] == "true"
    assert process.returncode == 0, err[-3000:]
    assert secret_dir.name not in out + err


@pytest.mark.parametrize("content, expected", [
    ("[1, 2]", "is not a service-account key: it holds a JSON array, not an object with type, private_key, client_email"),
    ('"just a string"', "it holds a JSON string"),
    ("{not json", "is not readable JSON (line 1, column 2)"),
    ('{"type": "authorized_user", "private_key": "k", "client_email": "e"}', "its type is 'authorized_user'"),
    ('{"type": "service_account", "client_email": "e"}', "is not a service-account key: it lacks private_key"),
    ('{"type": "service_account", "private_key": 7, "client_email": "e"}', "it lacks private_key"),
])
def test_a_keyfile_of_the_wrong_shape_is_a_clear_error(tmp_path, monkeypatch, content, expected):
    path = tmp_path / "hidden-dir-5150" / "key.json"
    path.parent.mkdir()
    path.write_text(content)
    monkeypatch.setenv("TAXI_SHAPE_KEYFILE", str(path))
    resource = GcpResource(project="p", keyfile_env_var="TAXI_SHAPE_KEYFILE")
    with pytest.raises(GcpCredentialsError) as info:
        resource.hadoop_gcs_config()
    message = str(info.value)
    assert message.startswith("the keyfile named by $TAXI_SHAPE_KEYFILE ") and expected in message, message
    assert "hidden-dir-5150" not in message


def test_no_secret_in_the_spark_settings_with_a_keyfile(tmp_path, monkeypatch):
    keyfile = write_service_account_keyfile(tmp_path / "k.json")
    monkeypatch.setenv("TAXI_SETTINGS_KEYFILE", keyfile)
    gcp = GcpResource(project="p", keyfile_env_var="TAXI_SETTINGS_KEYFILE")
    assert not [k for k, v in gcp.hadoop_gcs_config().items() if keyfile in v]
    assert gcp.hadoop_gcs_secrets() == {KEYFILE_HADOOP_KEY: keyfile}
    emulated = GcpResource(project="p", keyfile_env_var="TAXI_SETTINGS_KEYFILE", gcs_endpoint="http://127.0.0.1:1")
    assert emulated.hadoop_gcs_secrets() == {}
