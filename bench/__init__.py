"""Benchmarks: `make bench` (CPU) and `python -m bench.gpu` (one GPU)."""
