"""Small numpy -> pyarrow helpers shared by the generators (no per-row Python)."""

from __future__ import annotations

from functools import lru_cache
from typing import Optional, Sequence

import numpy as np
import pyarrow as pa

_TS_SCALE = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


class Sampler:
    """Fast categorical sampling through a lookup table: each category owns a share of 2**bits slots proportional
    to its weight (largest remainder; a category with any weight keeps at least one slot), and a draw is one random
    slot. Several times faster than inverse-CDF search; probabilities are exact to 2**-bits."""

    def __init__(self, weights: Sequence[float], values: Optional[np.ndarray] = None, bits: int = 16) -> None:
        w = np.asarray(weights, dtype=float)
        size = 1 << bits
        share = w / w.sum() * size
        counts = np.floor(share).astype(np.int64)
        counts[(w > 0) & (counts == 0)] = 1
        short = size - counts.sum()
        if short > 0:
            counts[np.argsort(counts - share)[:short]] += 1
        while counts.sum() > size:  # the minimum-one rule overflowed: take slots back from the largest
            counts[np.argmax(counts)] -= counts.sum() - size
        labels = np.arange(w.size) if values is None else np.asarray(values)
        self.table = np.repeat(labels, counts)
        self.bits = bits

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        kind = np.uint16 if self.bits <= 16 else np.uint32
        return self.table[rng.integers(0, 1 << self.bits, n, dtype=kind)]


def choose(rng: np.random.Generator, n: int, probabilities: Sequence[float]) -> np.ndarray:
    """Category indices 0..k-1 drawn with the given probabilities (normalised)."""
    return _sampler(tuple(probabilities))(rng, n)


@lru_cache(maxsize=256)
def _sampler(probabilities: tuple[float, ...]) -> Sampler:
    return Sampler(probabilities, np.arange(len(probabilities), dtype=np.int16))


def uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    """n uniforms in [0, 1) as float32 (enough for thresholds and small factors, and faster to draw)."""
    return rng.random(n, dtype=np.float32)


def column(values: np.ndarray, kind: pa.DataType, mask: Optional[np.ndarray] = None) -> pa.Array:
    """A numeric array of ``kind`` (True in ``mask`` = null)."""
    if pa.types.is_null(kind):
        return pa.nulls(len(values))
    if pa.types.is_floating(kind):
        values = values.astype(np.float64, copy=False)
    elif pa.types.is_integer(kind):
        values = values.astype(kind.to_pandas_dtype(), copy=False)
    return pa.array(values, type=kind, mask=mask if mask is not None and mask.any() else None)


def money(cents: np.ndarray, kind: pa.DataType = pa.float64(), mask: Optional[np.ndarray] = None) -> pa.Array:
    """Dollars (double) from integer cents, so every value is exactly the nearest double of a cent amount."""
    return column(cents / 100.0, kind, mask)


def timestamps(seconds: np.ndarray, kind: pa.DataType, mask: Optional[np.ndarray] = None) -> pa.Array:
    """Naive timestamps of ``kind`` (timestamp[ns|us]) from int64 epoch seconds."""
    scaled = seconds.astype(np.int64, copy=False) * _TS_SCALE[kind.unit]
    return pa.array(scaled, type=kind, mask=mask if mask is not None and mask.any() else None)


def as_published(values: dict, schema: pa.Schema) -> pa.Table:
    """The table of ``schema`` from {column: () -> array}: each array cast to its published type (``large_string``
    text, int64 or double codes and locations), an all-null column of arrow type ``null`` where the era has one."""
    arrays = []
    for field in schema:
        array = values[field.name]()
        if pa.types.is_null(field.type):
            array = pa.nulls(len(array))
        elif array.type != field.type:
            array = array.cast(field.type)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)


def strings(labels: Sequence[str], idx: np.ndarray, mask: Optional[np.ndarray] = None) -> pa.Array:
    """A string array taking ``labels[idx]`` (True in ``mask`` = null).

    Labels of one byte length (flags "N"/"Y", licenses "HV0003", bases "B02764") are laid out directly as Arrow
    buffers (offsets = i * width), several times faster than a take."""
    mask = mask if mask is not None and mask.any() else None
    idx = idx.view(np.int8) if idx.dtype == bool else idx
    encoded = [label.encode() for label in labels]
    width = len(encoded[0])
    if any(len(label) != width for label in encoded) or (idx.size + 1) * width >= 2**31:
        indices = pa.array(idx.astype(np.int32, copy=False), mask=mask)
        return pa.array(list(labels), type=pa.string()).take(indices)
    n = idx.size
    table = np.frombuffer(b"".join(encoded), dtype=np.uint8).reshape(len(encoded), width)
    data = table[idx].ravel()
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    validity = None if mask is None else pa.py_buffer(np.packbits(~mask, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                 null_count=-1 if mask is None else int(mask.sum()))
