"""Loaders for the standard instruction-editing benchmarks (data fetched by ``ieval data fetch``)."""
