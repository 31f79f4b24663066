"""The Dagster code location of the pension operations warehouse."""
