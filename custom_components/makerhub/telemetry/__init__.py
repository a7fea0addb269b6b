"""Telemetry: unit values recorded in PostgreSQL, and what is read back from it."""
