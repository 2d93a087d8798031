"""raw/{type}_trips: each month's file exactly as the configured source publishes it.

The source (TLC parquet, the course's CSV backup, local files, or the offline sample generator) is the ``sources``
resource; these assets never know which one is configured. No Spark here: a month is fetched, verified and stored.

Retries come at two levels:

1. Inside one fetch (``sources/download.py``): ``max_attempts`` requests with ``backoff_seconds * 2**n`` (+ jitter)
   between them, for a blip of seconds (a reset connection, a 503, a 429 with Retry-After, a cut body).
2. The step (``RAW_RETRY_POLICY``, Dagster's RetryPolicy): when a fetch still gives up on a transient error
   (``TransientSourceError``: connection errors, timeouts, HTTP 408/429/5xx), Dagster re-runs the whole raw step
   after ``delay``, ``3 * delay``, ``7 * delay`` seconds (exponential, +/- ``delay`` jitter), for an outage of
   minutes. Each step attempt makes up to ``max_attempts`` requests per month, so a month is asked for at most
   ``max_attempts * (max_retries + 1)`` times. The run's log shows each ``STEP_UP_FOR_RETRY``.

Anything else (404, a corrupt or empty file, the wrong taxi type, a bad setting, a body still cut short after every
attempt) is permanent: the step fails at once with ``Failure(allow_retries=False)`` caused by the source's error.
Nothing half-written is left by a failed attempt: months are fetched into a private work folder that is removed on
any failure, and the lake IO manager only ever sees a complete set of verified months (returned, never yielded
early). The in-process executor the platform uses honours RetryPolicy (retries are enabled by default).
"""


import tempfile
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Backoff,
    BackfillPolicy,
    Failure,
    Jitter,
    MetadataValue,
    Output,
    RetryPolicy,
    asset,
)

from taxi_platform.defs.revenue.sources import source_key
from taxi_platform.io_managers.lake import LAYOUT_KEY, MONTH_FILES_LAYOUT
from taxi_platform.io_managers.month_files import MonthFiles
from taxi_platform.partitions import monthly_partitions
from taxi_platform.resources.sources import TaxiSourceResource
from taxi_platform.sources.base import TransientSourceError

RAW_TAXI_TYPES = ("green", "yellow")

# Step-level retries for transient source errors: waits of about 20, 60 and 140 s (+/- 20 s), after the fetch's own
# retries gave up. Tests pass a short policy to build_raw_asset.
RAW_RETRY_POLICY = RetryPolicy(max_retries=3, delay=20, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


def raw_key(taxi_type: str) -> AssetKey:
    return AssetKey(["raw", f"{taxi_type}_trips"])


def build_raw_asset(
    taxi_type: str,
    group_name: str = "raw",
    retry_policy: RetryPolicy | None = RAW_RETRY_POLICY,
    source: AssetKey | None = None,
):
    """raw/{taxi_type}_trips; ``group_name`` lets datasets outside the revenue job (fhv, fhvhv) live in their own group;
    ``retry_policy`` re-runs the step on transient source errors only (module docstring); ``source``: the observed
    source asset it is fetched from (its months' data versions drive the automation, ``sources.py``)."""

    @asset(
        key=raw_key(taxi_type),
        deps=[source] if source is not None else None,
        partitions_def=monthly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        io_manager_key="lake_io_manager",
        metadata={LAYOUT_KEY: MONTH_FILES_LAYOUT},
        group_name=group_name,
        kinds={"parquet"},
        description=f"The {taxi_type} taxi trips of each month, exactly as the configured source publishes them.",
        retry_policy=retry_policy,
    )
    def _raw(context: AssetExecutionContext, sources: TaxiSourceResource) -> Output[MonthFiles]:
        import pyarrow.parquet as pq  # at run time only: not a cost of loading the definitions

        workdir = Path(tempfile.mkdtemp(prefix=f"taxi_platform-raw-{taxi_type}-"))
        files: dict[str, Path] = {}
        by_month: dict[str, dict] = {}
        try:
            for month in context.partition_keys:
                fetched = sources.fetch_month(taxi_type, month, workdir)
                files[month] = fetched.path
                schema = pq.read_schema(fetched.path)
                by_month[month] = {
                    "source": fetched.source_uri,
                    "rows": fetched.num_rows,
                    "bytes": fetched.num_bytes,
                    "published_schema": {f.name: str(f.type) for f in schema},
                }
                context.log.info(f"{taxi_type} {month}: {fetched.num_rows} rows from {fetched.source_uri}")
        except TransientSourceError as error:
            MonthFiles(files, workdir).cleanup()
            context.log.warning(f"{error} (transient: the step's retry policy decides whether to try again)")
            raise
        except Exception as error:
            MonthFiles(files, workdir).cleanup()
            raise Failure(
                description=f"{type(error).__name__}: {error}",
                metadata={"error": type(error).__name__, "transient": False},
                allow_retries=False,  # a 404, a bad file or a bad setting will not get better by waiting
            ) from error
        except BaseException:
            MonthFiles(files, workdir).cleanup()
            raise
        return Output(
            MonthFiles(files=files, workdir=workdir),
            metadata={
                "source": MetadataValue.json(sources.describe()),
                "months": MetadataValue.json(by_month),
            },
        )

    _raw.__name__ = f"raw_{taxi_type}_trips"
    return _raw


raw_assets = [build_raw_asset(t, source=source_key(t)) for t in RAW_TAXI_TYPES]
