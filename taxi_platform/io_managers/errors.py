"""The lake's errors (no Dagster, no Spark): every message names the dataset, the month and what is wrong."""


class LakeError(Exception):
    """A lake read or write that cannot be done; the message names the dataset, the month and the path."""


class MissingPartitionError(LakeError):
    """A month (or an unpartitioned dataset) that was never written."""


class CommitError(LakeError):
    """A write that was refused before or while publishing; the months it names keep their previous version."""
