"""One module per benchmark variant; each is run in a fresh interpreter (``python -m bench.variants.NAME``), reads
the cached raw months, writes its outputs under ``--out`` and a small JSON of its own timings to ``--result``."""
