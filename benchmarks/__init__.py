"""Benchmarks for microtensor: `python3 -m benchmarks` runs the suite (benchmarks.run),
`python3 -m benchmarks.engine` the per-op overhead and 2-5-5-1 step benchmark."""
