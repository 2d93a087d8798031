"""Shared asset-check BUILDERS (contracts, reconciliations, per-month results); each pipeline in ``defs/`` builds its own."""

import warnings

from dagster import PreviewWarning

# Partitioned asset checks (checks that look at exactly the months of a run) are a Dagster preview feature.
warnings.filterwarnings("ignore", category=PreviewWarning, message=".*partitions_def.*")
