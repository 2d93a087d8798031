"""Benchmarks of the platform against the same work in bare PySpark, the course's minimal script and DuckDB.

    make bench                      # or: python -m bench --help

``run.py`` drives everything; ``data.py`` caches the generated raw months; ``procs.py`` runs each variant in a fresh
process and samples the memory of its process tree; ``variants/`` holds one module per variant (each also runs alone:
``python -m bench.variants.bare_spark --help``). ``generator.py`` and ``base_ids.py`` are the older single-purpose
benchmarks (the sample generator's throughput, base_id native vs UDF).
"""
