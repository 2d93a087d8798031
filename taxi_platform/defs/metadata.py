"""Definition metadata the assets share."""

from dagster import TableColumn, TableSchema


def column_schema(contract) -> TableSchema:
    """A (name, Spark type) contract as the asset's `dagster/column_schema`: shown in the UI, and the types an IO manager
    that cannot keep Spark's (BigQuery) casts back to on load."""
    return TableSchema(columns=[TableColumn(name=name, type=kind) for name, kind in contract])
