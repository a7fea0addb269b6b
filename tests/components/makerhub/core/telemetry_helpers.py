"""Shared helpers of the telemetry tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from custom_components.makerhub.core.telemetry import WriterSettings
from dev.processes.mosquitto import MosquittoBroker

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

FAST = WriterSettings(
    batch_size=1000,
    flush_interval=0.1,
    buffer_limit=5000,
    retry_min=0.05,
    retry_max=0.2,
    connect_timeout=5.0,
)
"""Small batches and quick retries, so tests take seconds."""


def at(seconds: float) -> datetime:
    """Return T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


async def wait_for(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.02)


async def stored(conn: asyncpg.Connection, order: str = "time") -> list[tuple[object, ...]]:
    """Return every sample row as tuples (time, unit, variable, value, text_value)."""
    rows = await conn.fetch(
        f"SELECT time, unit, variable, value, text_value FROM samples ORDER BY {order}"
    )
    return [tuple(row) for row in rows]


@contextmanager
def unit_client(broker: MosquittoBroker, client_id: str = "unit") -> Iterator[mqtt.Client]:
    """A unit's MQTT client on ``broker``, its network loop running."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()
