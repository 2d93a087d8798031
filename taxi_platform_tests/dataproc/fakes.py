"""Fakes of google-cloud-dataproc's JobControllerClient / BatchControllerClient: they record every call and answer with
real ``google.cloud.dataproc_v1`` Job / Batch protos whose states follow a script (e.g. RUNNING -> DONE)."""

from __future__ import annotations

from google.cloud.dataproc_v1 import Batch, Job, JobStatus, RuntimeInfo
from google.longrunning import operations_pb2

from taxi_platform.resources.dataproc import DataprocResource

JOB_DRIVER_OUTPUT = "gs://dataproc-staging-us-central1-1234/google-cloud-dataproc-metainfo/cluster-uuid/jobs/{job_id}/driveroutput"
BATCH_OUTPUT = "gs://dataproc-staging-us-central1-1234/google-cloud-dataproc-metainfo/batches/{batch_id}/driveroutput"


class FakeJobController:
    """submit_job -> PENDING; each get_job returns the next scripted state (the last one repeats)."""

    def __init__(self, states=("RUNNING", "DONE"), details: str = ""):
        self.states = list(states)
        self.details = details
        self.calls: list[tuple[str, object]] = []
        self.submitted = None

    def _job(self, state: str) -> Job:
        job_id = self.submitted.job.reference.job_id
        st = JobStatus.State[state]
        return Job(
            reference=self.submitted.job.reference,
            placement=self.submitted.job.placement,
            status=JobStatus(state=st, details=self.details if st == JobStatus.State.ERROR else ""),
            driver_output_resource_uri=JOB_DRIVER_OUTPUT.format(job_id=job_id),
            job_uuid="0f1e2d3c-aaaa-bbbb-cccc-000000000001",
            done=st in (JobStatus.State.DONE, JobStatus.State.ERROR, JobStatus.State.CANCELLED),
        )

    def submit_job(self, request=None, **kwargs):
        self.calls.append(("submit_job", request))
        self.submitted = request
        return self._job("PENDING")

    def get_job(self, project_id=None, region=None, job_id=None, **kwargs):
        self.calls.append(("get_job", {"project_id": project_id, "region": region, "job_id": job_id}))
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return self._job(state)

    def cancel_job(self, project_id=None, region=None, job_id=None, **kwargs):
        self.calls.append(("cancel_job", {"project_id": project_id, "region": region, "job_id": job_id}))
        return self._job("CANCEL_PENDING")


class FakeBatchController:
    """create_batch -> an operation; each get_batch returns the next scripted state (the last one repeats)."""

    def __init__(self, states=("PENDING", "RUNNING", "SUCCEEDED"), state_message: str = ""):
        self.states = list(states)
        self.state_message = state_message
        self.calls: list[tuple[str, object]] = []
        self.created = None

    def create_batch(self, request=None, **kwargs):
        self.calls.append(("create_batch", request))
        self.created = request
        return operations_pb2.Operation(name="projects/p/regions/us-central1/operations/op-123", done=False)

    def get_batch(self, name=None, **kwargs):
        self.calls.append(("get_batch", {"name": name}))
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        st = Batch.State[state]
        return Batch(
            name=name,
            uuid="batch-uuid-1",
            state=st,
            state_message=self.state_message if st == Batch.State.FAILED else "",
            runtime_info=RuntimeInfo(output_uri=BATCH_OUTPUT.format(batch_id=self.created.batch_id)),
        )

    def cancel_operation(self, request=None, **kwargs):
        self.calls.append(("cancel_operation", request))


def with_fake_client(fake, **config) -> DataprocResource:
    """A DataprocResource whose clients are ``fake``. Like the real ones, it reads the credentials first (so a
    configured keyfile is really loaded), then hands out the fake instead of a Google client."""

    def client(self):
        self.credentials()
        return fake

    cls = type("FakeClientDataprocResource", (DataprocResource,),
               {"job_controller_client": client, "batch_controller_client": client})
    return cls(**config)


def write_service_account_keyfile(path) -> str:
    """A syntactically real service-account keyfile with a fresh RSA key (never valid at Google)."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "taxi-test", "private_key_id": "k1", "private_key": pem,
        "client_email": "dagster-runner@taxi-test.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }))
    return str(path)
