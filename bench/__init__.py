"""Benchmarks of Pruner against hand-written SQL floors. Run with `python -m bench`."""
