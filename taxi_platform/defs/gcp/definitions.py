"""What only the gcp deployment has: uploading an existing local lake to the GCS lake is one job away."""

from dagster import Definitions

from taxi_platform.defs.gcp.upload_lake import upload_lake_to_gcs


def gcp_defs() -> Definitions:
    return Definitions(jobs=[upload_lake_to_gcs])
