"""Re-materializing a month on the GCS lake (fake-gcs-server): the same rows, exactly one copy of each file, nothing
staged left. (The BigQuery side of a re-run, no duplicate rows and other months untouched, is tested in
test_gcp_deployment.py::test_rerun_and_second_month and test_bigquery_reports.py.)"""

import uuid

import pyarrow.parquet as pq
import pytest
from dagster import AssetSelection, materialize

from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.reference.zones import taxi_zones
from taxi_platform.defs.revenue.definitions import revenue_assets
from taxi_platform.io_managers.gcs_store import MANIFEST, GcsStore
from taxi_platform.resources.deployments import resources_for

all_assets = [taxi_zones, *revenue_assets]  # the local green/yellow graph + the zone lookup

pytestmark = [pytest.mark.spark, pytest.mark.gcp]

MONTHLY = [a for a in all_assets if a is not taxi_zones]
MONTH = "2021-01"
DATASETS = ("raw/green_trips", "raw/yellow_trips", "clean/green_trips", "clean/yellow_trips",
            "quarantine/green_trips", "quarantine/yellow_trips", "core/trips")


def lake_state(store: GcsStore, client) -> dict[str, dict]:
    """Per dataset month: the manifest's files, every parquet object in the folder, the rows (sorted), raw md5s."""
    state = {}
    for dataset in DATASETS:
        folder = store.join(store.root.uri, dataset, f"month={MONTH}")
        named = [uri.rsplit("/", 1)[-1] for uri in store.files(folder)]
        prefix = f"{store.root.prefix}/{dataset}/month={MONTH}/"
        listed = {b.name[len(prefix):]: b.md5_hash for b in client.list_blobs(store.root.bucket, prefix=prefix)
                  if b.name.endswith(".parquet")}
        rows = []
        for uri in store.files(folder):
            with store.open(uri) as handle:
                rows += pq.read_table(handle).to_pylist()
        state[dataset] = {"named": sorted(named), "listed": listed,
                          "rows": sorted((tuple(sorted(r.items())) for r in rows), key=repr)}
    return state


def test_rematerializing_a_month_on_gcs_leaves_the_same_rows_once(fake_gcs, local_bigquery, gcp):
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    gcp.storage_client().create_bucket(bucket)
    env = {
        "TAXI_PLATFORM_DEPLOYMENT": "gcp", "TAXI_GCP_PROJECT": gcp.project, "TAXI_LAKE_ROOT": f"gs://{bucket}/lake",
        "TAXI_GCS_ENDPOINT": fake_gcs.endpoint, "TAXI_BIGQUERY_ENDPOINT": local_bigquery.endpoint,
        "TAXI_SPARK_MASTER": "local[2]", "TAXI_SAMPLE_ROWS": "1500", "TAXI_SAMPLE_VOLUMES": "equal", "TAXI_SAMPLE_SEED": "11",
    }
    selection = AssetSelection.groups("raw", "clean", "core")
    client = gcp.storage_client()
    store = GcsStore(env["TAXI_LAKE_ROOT"], client)
    states = []
    for _ in range(2):
        # (no checks: the gcp deployment's checks are run in test_gcp_deployment.py)
        result = materialize(MONTHLY, resources=resources_for(env=env), partition_key=MONTH, selection=selection)
        assert result.success
        states.append(lake_state(store, client))

    first, second = states
    for dataset in DATASETS:
        assert second[dataset]["rows"] == first[dataset]["rows"], dataset  # row-identical
        assert len(second[dataset]["rows"]) > 0, dataset
        # exactly one copy: the folder holds the files its manifest names, and no others (the first write's are gone)
        assert sorted(second[dataset]["listed"]) == second[dataset]["named"], dataset
        assert not set(second[dataset]["named"]) & set(first[dataset]["named"]), dataset
    for taxi_type in ("green", "yellow"):  # raw months are the published bytes: the same object content both times
        dataset = f"raw/{taxi_type}_trips"
        assert sorted(second[dataset]["listed"].values()) == sorted(first[dataset]["listed"].values())
    names = [b.name for b in client.list_blobs(bucket)]
    assert not [n for n in names if "/_staging/" in n]
    assert sum(n.endswith(MANIFEST) for n in names) == len(DATASETS)
