"""A power cut: Home Assistant, Mosquitto and a unit killed together, then started again.

A dimmer is set to 42; right after the unit acts on it, all three processes get SIGKILL
(nothing is saved on the way out). After the restart the entity shows 42 and the unit is
back at 42. Twice: with the broker configured as ``docs/broker.md`` advises (it saved the
retained value at once), and with Mosquitto's default autosave (it had saved nothing, so
only the hub's stored set-point brings the value back).
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import threading
import time
from typing import Any

import pytest

from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from tests.e2e.conftest import Fleet

pytestmark = pytest.mark.e2e

LEVEL = "number.cut_dimmer_level"
LEVEL_ACTUAL = "sensor.cut_dimmer_level_actual"
FLEET_ARGS = (
    "--units", "1", "--kinds", "dimmer", "--rate", "4", "--state-interval", "1",
    "--id-prefix", "cut",
)  # fmt: skip


@pytest.fixture(params=[True, False], ids=["broker-saves-at-once", "broker-saved-nothing"])
def mosquitto(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MosquittoBroker]:
    """The test's broker, with prompt autosave or Mosquitto's default (every 30 min)."""
    broker = MosquittoBroker(tmp_path / "mosquitto", prompt_autosave=request.param)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def state_is(value: str) -> Any:
    """Return a check that an entity's state is ``value``."""
    return lambda state: state is not None and state["state"] == value


class DiskWatch(threading.Thread):
    """Polls the set-points file from the moment of the service call; records when the
    value first appears in it (a measurement, printed; the test asserts only the file's
    content after the kill)."""

    def __init__(self, path: Path, level: int) -> None:
        """Watch ``path`` for the level set-point ``level``."""
        super().__init__(daemon=True)
        self.path = path
        self.level = level
        self.started_at = time.monotonic()
        self.seen_after: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        """Poll every half millisecond, for at most 10 s."""
        while not self.stop.is_set() and time.monotonic() - self.started_at < 10:
            if stored_levels(self.path) == [self.level]:
                self.seen_after = time.monotonic() - self.started_at
                return
            time.sleep(0.0005)


def stored_levels(path: Path) -> list[Any]:
    """Return the ``level`` set-points in the hub's storage file."""
    try:
        units = json.loads(path.read_text())["data"]["units"]
    except (OSError, ValueError, KeyError):
        return []
    return [inputs["level"] for inputs in units.values() if "level" in inputs]


async def test_setpoint_survives_power_cut(
    hass_api: HassClient,
    hass_process: HassProcess,
    mosquitto: MosquittoBroker,
    tmp_path: Path,
) -> None:
    """Set 42, kill -9 everything, start everything: 42 on the entity and on the unit."""
    client = hass_api
    fleet = Fleet(mosquitto, tmp_path / "fleet", *FLEET_ARGS)
    try:
        (flow,) = await client.wait_for(
            client.discovered_units, lambda flows: len(flows) == 1, 30, "the dimmer"
        )
        await client.adopt(flow["flow_id"], "Cut dimmer")
        await client.wait_for(
            lambda: client.state(LEVEL_ACTUAL), state_is("0"), 30, "the dimmer at 0"
        )
        assert (await client.state(LEVEL))["state"] == "unknown"  # nobody set it yet

        setpoints = hass_process.config_dir / ".storage" / "makerhub.setpoints"
        watch = DiskWatch(setpoints, 42)
        watch.start()
        await client.call_service("number", "set_value", {"entity_id": LEVEL, "value": 42})
        await client.wait_for(
            lambda: client.state(LEVEL_ACTUAL), state_is("42"), 30, "the dimmer at 42"
        )
        # The power cut, as soon as the unit acted on the value.
        hass_process.kill()
        mosquitto.kill()
        fleet.kill()
        watch.stop.set()
        watch.join()
        print(  # the measurement this test reports (pytest -s shows it)
            f"set-point on disk {watch.seen_after * 1000:.1f} ms after the service call"
            if watch.seen_after is not None
            else "set-point not seen on disk before the kill"
        )
        assert stored_levels(setpoints) == [42]
        await client.close()

        mosquitto.start()
        retained = mosquitto.retained("makerhub/+/in/level")
        assert list(retained.values()) == (["42"] if mosquitto.prompt_autosave else [])
        fleet = Fleet(mosquitto, tmp_path / "fleet", *FLEET_ARGS)  # the same unit
        client = await HassClient.start(hass_process)
        await client.wait_for(lambda: client.state(LEVEL), state_is("42.0"), 60, "42 shown")
        await client.wait_for(
            lambda: client.state(LEVEL_ACTUAL), state_is("42"), 60, "the dimmer back at 42"
        )
        assert list(mosquitto.retained("makerhub/+/in/level").values()) == ["42"]
    finally:
        await client.close()
        fleet.kill()
    assert hass_process.stop() == 0
    assert hass_process.makerhub_problems() == []
