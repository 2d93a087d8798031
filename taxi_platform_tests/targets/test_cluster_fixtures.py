"""The cluster fixtures' own guarantees: a failed start says why (log tails) and leaves no process behind."""

import pytest

from taxi_platform_tests.clusters import ClusterStartError, ConnectServer

pytestmark = pytest.mark.cluster


def test_a_server_that_cannot_start_fails_with_its_log_and_leaves_nothing(tmp_path):
    server = ConnectServer(tmp_path, master="bogus://nowhere")
    try:
        with pytest.raises(ClusterStartError) as error:
            server.start(timeout=90)
        assert "bogus://nowhere" in str(error.value)  # the tail of the server's log, with Spark's own reason
        assert "last" in str(error.value) and str(server.logs) in str(error.value)
    finally:
        server.stop()
    assert server.leftover_processes() == []
