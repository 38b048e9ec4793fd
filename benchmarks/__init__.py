"""Benchmarks for microtensor (run `python3 -m benchmarks.engine --help`)."""
