"""The course's base_id UDF on fhvhv's dispatching_base_num, as a Python UDF and as native Spark expressions.

base_id(dispatching_base_num): num = int(the text after its first character), then
    "s/" + f"{num:03x}"   if num % 7 == 0
    "a/" + f"{num:03x}"   elif num % 3 == 0
    "e/" + f"{num:03x}"   otherwise
(e.g. B02764 -> num 2764 -> 2764 % 7 == 6, 2764 % 3 == 1 -> "e/acc"). The hex is at least 3 lowercase digits and
never truncated: B99999 -> "e/1869f".

Null or malformed base numbers give a null base_id in both implementations (the course's UDF would raise and fail
the whole job). Malformed means: null, shorter than 2 characters, or the text after the first character is not a
plain non-negative decimal integer of at most 9 digits (ASCII digits only: no sign, spaces, decimal point or
exponent). Both implementations apply exactly this definition, so they agree on every input (a test checks it).

The native version runs inside the JVM (no Python worker round trip per row); ``bench/base_ids.py`` times the two.
"""

from __future__ import annotations

import re
from typing import Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

IMPLEMENTATIONS = ("native", "udf")
MAX_DIGITS = 9  # fits a 32-bit int whatever the digits; TLC base numbers have 5
_DIGITS = re.compile(r"[0-9]{1,%d}" % MAX_DIGITS)
# Java regex: \A..\z (a "$" would also match before a trailing newline, which Python's fullmatch rejects).
_DIGITS_SQL = r"\A[0-9]{1,%d}\z" % MAX_DIGITS


def base_id(dispatching_base_num: Optional[str]) -> Optional[str]:
    """The course's function (plain Python), with null for null or malformed base numbers."""
    if dispatching_base_num is None:
        return None
    digits = dispatching_base_num[1:]
    if not _DIGITS.fullmatch(digits):
        return None
    num = int(digits)
    if num % 7 == 0:
        return f"s/{num:03x}"
    if num % 3 == 0:
        return f"a/{num:03x}"
    return f"e/{num:03x}"


def _base_id_row(dispatching_base_num):
    # No type hints here: pyspark would try to infer a pandas/Arrow UDF from them; this is a plain row-at-a-time UDF.
    return base_id(dispatching_base_num)


# The Python UDF: every row is shipped to a Python worker and back.
# StringType() rather than "string": a DDL string is parsed at definition, which needs a running session.
base_id_udf = F.udf(_base_id_row, StringType())


def base_id_native(dispatching_base_num: Column) -> Column:
    """The same function as native Spark column expressions (no Python per row)."""
    digits = F.substring(dispatching_base_num, 2, 2**31 - 1)  # the text after the first character
    valid = digits.rlike(_DIGITS_SQL)
    num = F.when(valid, digits.cast("int"))
    h = F.lower(F.hex(num))
    # lpad would truncate a hex longer than 3 digits; f"{num:03x}" only pads.
    padded = F.when(F.length(h) < 3, F.lpad(h, 3, "0")).otherwise(h)
    prefix = (
        F.when(F.pmod(num, F.lit(7)) == 0, F.lit("s/"))
        .when(F.pmod(num, F.lit(3)) == 0, F.lit("a/"))
        .otherwise(F.lit("e/"))
    )
    return F.when(num.isNotNull(), F.concat(prefix, padded))


def with_base_ids(df: DataFrame, implementation: str = "native") -> DataFrame:
    """Add base_id (of dispatching_base_num), pickup_date and dropoff_date (to_date of the timestamps)."""
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, not {implementation!r}")
    column = F.col("dispatching_base_num")
    base = base_id_native(column) if implementation == "native" else base_id_udf(column)
    return (
        df.withColumn("base_id", base)
        .withColumn("pickup_date", F.to_date("pickup_datetime"))
        .withColumn("dropoff_date", F.to_date("dropoff_datetime"))
    )
