"""End-to-end fixtures: a real hass process (with Mosquitto from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import os
from pathlib import Path
import signal
import subprocess
import sys

import pytest

from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker

pytestmark = pytest.mark.e2e
SDK = Path(__file__).resolve().parents[2] / "sdk" / "python"


@pytest.fixture
def hass_process(tmp_path: Path) -> Iterator[HassProcess]:
    """A Home Assistant process with this repository's integration (started by the test)."""
    process = HassProcess(tmp_path / "config")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def hass_api(
    socket_enabled: None, hass_process: HassProcess, mosquitto: MosquittoBroker
) -> AsyncIterator[HassClient]:
    """Home Assistant running, onboarded, with MQTT (on the test's broker) and the hub."""
    hass_process.start()
    client = HassClient(hass_process)
    try:
        await client.login()
        await client.wait_running()
        await client.setup_mqtt(mosquitto.host, mosquitto.port)
        await client.setup_makerhub()
        yield client
    finally:
        await client.close()


class Fleet:
    """makerhub-sim as a separate process, as users run it."""

    def __init__(self, broker: MosquittoBroker, state_dir: Path, *args: str) -> None:
        """Start the simulator with extra command-line ``args``."""
        self.log = state_dir.with_suffix(".log")
        state_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "makerhub_unit.sim",
                "--host", broker.host, "--port", str(broker.port),
                "--state-dir", str(state_dir), *args,
            ],
            env={**os.environ, "PYTHONPATH": str(SDK)},  # this checkout's SDK
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop cleanly (units publish offline)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)

    def kill(self) -> None:
        """Kill without warning (the broker publishes each unit's Last Will)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)


@pytest.fixture
def start_fleet(tmp_path: Path, mosquitto: MosquittoBroker) -> Iterator[type[Fleet]]:
    """Start simulator processes; all are killed at the end of the test."""
    fleets: list[Fleet] = []

    def start(*args: str) -> Fleet:
        fleet = Fleet(mosquitto, tmp_path / f"fleet{len(fleets)}", *args)
        fleets.append(fleet)
        return fleet

    yield start  # type: ignore[misc]
    for fleet in fleets:
        fleet.kill()
