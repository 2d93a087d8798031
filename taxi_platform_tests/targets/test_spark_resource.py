"""The Spark resource's target switch: config validation, settings per target, clear errors (no JVM, no cluster)."""

import time

import pytest

from taxi_platform.resources.deployments import resources_for
from taxi_platform.resources.spark import SparkConnectUnreachableError, SparkResource, SparkTargetError
from taxi_platform_tests.clusters import free_port


@pytest.mark.parametrize(
    "settings,message",
    [
        (dict(target="standalone", master="local[2]"),
         r"target 'standalone' needs master spark://HOST:PORT .*got 'local\[2\]'"),
        (dict(target="local", master="spark://127.0.0.1:7077"),
         r"target 'local' needs master local.*got 'spark://127.0.0.1:7077' \(use target='standalone'"),
        (dict(target="connect"), r"target 'connect' needs remote='sc://HOST:PORT'"),
        (dict(target="connect", remote="http://127.0.0.1:15002"), r"needs remote sc://HOST:PORT; got 'http://"),
        (dict(target="connect", remote="sc://127.0.0.1:15002", jars=["/x/gcs.jar"]),
         r"jars \['/x/gcs.jar'\] must be on the Spark Connect server"),
        (dict(target="connect", remote="sc://127.0.0.1:15002", spark_config={"spark.executor.memory": "1g"}),
         r"spark_config \['spark.executor.memory'\] are not runtime SQL settings; set them on the Spark Connect server"),
        (dict(target="local", master="local[2]", executor_memory="1g"),
         r"executor_memory apply to target 'standalone' only"),
    ],
)
def test_invalid_settings_fail_early_with_the_reason(settings, message):
    resource = SparkResource(**settings)
    with pytest.raises(SparkTargetError, match=message):
        resource.validate_config()
    with pytest.raises(SparkTargetError, match=message):
        resource.get_session()  # refused before any JVM or connection


def test_standalone_settings_executor_sizes_jars_and_passthrough():
    resource = SparkResource(
        target="standalone", master="spark://10.0.0.5:7077", executor_memory="3g", executor_cores=2,
        jars=["/opt/jars/gcs-connector.jar"],
        spark_config={"spark.jars": "/opt/jars/extra.jar", "spark.sql.shuffle.partitions": 64, "spark.foo": "bar"},
    )
    config = resource.effective_config()
    assert config["spark.executor.memory"] == "3g" and config["spark.executor.cores"] == "2"
    assert config["spark.jars"] == "/opt/jars/gcs-connector.jar,/opt/jars/extra.jar"  # the resource adds jars
    assert config["spark.sql.shuffle.partitions"] == "64" and config["spark.foo"] == "bar"
    assert config["spark.sql.session.timeZone"] == "UTC"
    assert config["spark.hadoop.fs.file.impl"] == "org.apache.hadoop.fs.RawLocalFileSystem"
    # a real cluster's executors must reach the driver: no loopback-only driver address outside local mode
    assert "spark.driver.host" not in config and "spark.driver.bindAddress" not in config
    local = SparkResource(master="local[2]", jars=["/opt/jars/gcs-connector.jar"]).effective_config()
    assert local["spark.driver.host"] == "127.0.0.1" and local["spark.jars"] == "/opt/jars/gcs-connector.jar"


def test_connect_sends_only_runtime_sql_settings():
    resource = SparkResource(target="connect", remote="sc://127.0.0.1:15002",
                             spark_config={"spark.sql.shuffle.partitions": "4"})
    config = resource.effective_config()
    assert all(key.startswith("spark.sql.") for key in config)
    assert config["spark.sql.session.timeZone"] == "UTC" and config["spark.sql.shuffle.partitions"] == "4"


def test_unreachable_connect_server_fails_fast_naming_the_address():
    port = free_port()  # nothing listens there
    resource = SparkResource(target="connect", remote=f"sc://127.0.0.1:{port}/;token=s3cret")
    started = time.monotonic()
    with pytest.raises(SparkConnectUnreachableError,
                       match=f"Spark Connect server at sc://127.0.0.1:{port} is not reachable") as error:
        resource.get_session()
    assert time.monotonic() - started < 10  # pyspark alone would retry for about a minute
    assert "s3cret" not in str(error.value)


def test_code_that_needs_rdds_says_connect_has_none():
    resource = SparkResource(target="connect", remote="sc://127.0.0.1:15002")
    with pytest.raises(SparkTargetError, match=r"needs the SparkContext/RDD API, which Spark target 'connect' "
                                               r"\(sc://127.0.0.1:15002\) does not have"):
        resource.spark_context
    with pytest.raises(SparkTargetError, match=r"the hourly RDD report needs the SparkContext/RDD API"):
        resource.require_spark_context("the hourly RDD report")


def test_dataproc_is_not_a_spark_target_of_the_resource():
    """Dataproc runs the job script (resources/dataproc/ submits it): the in-process Spark resource has no such
    target, and TAXI_SPARK_TARGET=dataproc keeps a local Spark resource for the steps that still run here."""
    with pytest.raises(ValueError, match="target"):
        SparkResource(target="dataproc")
    env = {"TAXI_SPARK_TARGET": "dataproc", "TAXI_DATAPROC_PROJECT": "p", "TAXI_DATAPROC_REGION": "europe-west4",
           "TAXI_DATAPROC_CLUSTER": "c", "TAXI_DATAPROC_JOB_SCRIPT": "gs://b/code/revenue_report.py",
           "TAXI_DATAPROC_LAKE_ROOT": "gs://b/lake"}
    assert resources_for(env=env)["spark"].target == "local"


def test_target_is_chosen_by_env_in_the_local_deployment():
    standalone = resources_for(env={"TAXI_SPARK_MASTER": "spark://127.0.0.1:7077", "TAXI_SPARK_EXECUTOR_MEMORY": "2g",
                                    "TAXI_SPARK_EXECUTOR_CORES": "1", "TAXI_SPARK_JARS": "/a.jar, /b.jar"})["spark"]
    assert (standalone.target, standalone.executor_memory, standalone.executor_cores) == ("standalone", "2g", 1)
    assert standalone.jars == ["/a.jar", "/b.jar"]
    connect = resources_for(env={"TAXI_SPARK_TARGET": "connect", "TAXI_SPARK_REMOTE": "sc://127.0.0.1:15002"})["spark"]
    assert (connect.target, connect.remote) == ("connect", "sc://127.0.0.1:15002")
    assert resources_for(env={})["spark"].target == "local"
    with pytest.raises(SparkTargetError, match="target 'connect' needs remote"):
        resources_for(env={"TAXI_SPARK_TARGET": "connect"})
    with pytest.raises(ValueError, match="TAXI_SPARK_TARGET='moon' is not a Spark target"):
        resources_for(env={"TAXI_SPARK_TARGET": "moon"})
