"""Benchmarks: the warehouse against bare DuckDB and at national scale (see BENCHMARKS.md)."""
