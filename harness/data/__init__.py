"""Benchmark data on disk: where it lives, how it is fetched, and how a copy is verified."""
