"""The deploy tests' shared fixtures: the installed stack in a staging root, and the
units' command lines started from it (defined with the tests that started them)."""

from __future__ import annotations

from .test_units_run import root, started

__all__ = ["root", "started"]
