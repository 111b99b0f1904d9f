"""Benchmarks against the shared corpora (never needed by the package or its test suite)."""
