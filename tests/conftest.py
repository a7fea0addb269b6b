"""Test-wide set-up.

Imports this repository's ``custom_components`` before Home Assistant's loader looks for
it: the harness ships its own ``custom_components`` package that would shadow ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import custom_components.makerhub  # noqa: F401  (see the module docstring)
from dev.processes.mosquitto import MosquittoBroker


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """Start a real Mosquitto on a free port for one test."""
    broker = MosquittoBroker(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
