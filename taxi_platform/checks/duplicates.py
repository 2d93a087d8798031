"""``likely_duplicates`` (WARN): the share of clean trips of a month that share the course's key
(VendorID, pickup, dropoff, PULocationID, DOLocationID) with another trip of the month.

Exact copies never reach clean (quarantined as ``duplicate_row``); rows sharing the key but differing elsewhere (an
amount, a flag) are likely one trip published twice, and the revenue would count it twice. They are not set aside (a
real second trip with the same minute, zones and vendor is possible), but a month above
``MAX_LIKELY_DUPLICATE_SHARE`` warns, with the count and share of every month in the metadata.
"""

from dagster import AssetCheckExecutionContext, AssetCheckSeverity, AssetKey, MetadataValue, asset_check

from taxi_platform.checks.results import check_months, month_results
from taxi_platform.partitions import monthly_partitions

MAX_LIKELY_DUPLICATE_SHARE = 0.001  # 0.1 % of a month's clean trips


def build_likely_duplicates_check(asset_key: AssetKey, max_share: float = MAX_LIKELY_DUPLICATE_SHARE):
    @asset_check(
        asset=asset_key,
        name="likely_duplicates",
        description=f"WARN when more than {max_share:.1%} of a month's clean trips share the course's key "
        "(VendorID, pickup, dropoff, PULocationID, DOLocationID) with another trip.",
        partitions_def=monthly_partitions,
    )
    def _check(context: AssetCheckExecutionContext, data):
        from taxi_platform.transforms.quarantine import likely_duplicates_by_month

        by_month = likely_duplicates_by_month(data)
        empty = {"rows": 0, "likely_duplicates": 0, "share": 0.0}
        per_month = {}
        for month in check_months(context):
            found = by_month.get(month, empty)
            per_month[month] = (found["share"] <= max_share, {
                "rows": found["rows"],
                "likely_duplicates": found["likely_duplicates"],
                "share": MetadataValue.float(round(found["share"], 6)),
            })
        yield from month_results(context, per_month, {"by_month": MetadataValue.json(by_month)},
                                 severity=AssetCheckSeverity.WARN)

    return _check
