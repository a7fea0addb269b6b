"""scripts/develop's display (dev.sample_display, dev.processes.display_process) against a
real ``hass``, a real Mosquitto, Xvnc, websockify and the display agent with Chromium.

The sample's stations are made, the display started as develop starts it; then the
display is adopted and it and the Workbench station are in the area Workbench, and the
automations are made from the blueprints, each only once (develop run twice adds
nothing). The display's screen is served by noVNC.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import urllib.request

import pytest

from dev.processes.display_process import DisplayProcess
from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from dev.processes.ports import free_port
from dev.sample import Sample
from dev.sample_display import (
    AUTOMATIONS,
    BLUEPRINTS,
    DISPLAY_ANNOUNCE_ID,
    DISPLAY_NAME,
    device_named,
    ensure_automations,
    ensure_blueprints,
    ensure_display,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_blueprints_are_copied_once_and_again_when_changed(tmp_path: Path) -> None:
    names = sorted(path.name for path in BLUEPRINTS.glob("*.yaml"))
    assert "makerhub_follow_me_desktop.yaml" in names
    assert ensure_blueprints(tmp_path) == names
    target = tmp_path / "blueprints" / "automation" / "makerhub"
    assert sorted(path.name for path in target.iterdir()) == names
    assert ensure_blueprints(tmp_path) == []
    (target / names[0]).write_text("changed\n")
    assert ensure_blueprints(tmp_path) == [names[0]]
    assert (target / names[0]).read_text() == (BLUEPRINTS / names[0]).read_text()


@pytest.fixture
def hass_process(tmp_path: Path) -> Iterator[HassProcess]:
    """Home Assistant configured as dev/configuration.yaml is (people, automations.yaml)."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "automations.yaml").write_text("[]\n")
    process = HassProcess(config, extra_config="person:\nautomation: !include automations.yaml\n")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def display(tmp_path: Path, mosquitto: MosquittoBroker) -> Iterator[DisplayProcess]:
    """The display as develop runs it (started by the test, once Home Assistant runs)."""
    process = DisplayProcess(
        tmp_path / "display",
        mosquitto.host,
        mosquitto.port,
        "",
        name=DISPLAY_NAME,
        announce_id=DISPLAY_ANNOUNCE_ID,
        vnc_port=free_port(),
        web_port=free_port(),
    )
    try:
        yield process
    finally:
        process.stop()


async def test_the_display_is_adopted_into_the_station_area_with_its_automations(
    hass_api: HassClient,
    hass_process: HassProcess,
    mosquitto: MosquittoBroker,
    display: DisplayProcess,
    tmp_path: Path,
) -> None:
    client = hass_api
    ensure_blueprints(hass_process.config_dir)
    sample = Sample(client, tmp_path, "", "", mosquitto.host, mosquitto.port)
    (entry,) = await client.entries("makerhub")
    sample.entry_id = entry["entry_id"]
    await sample.ensure_stations()
    display.ha_url = client.url
    display.start()

    area_id = await ensure_display(client)
    areas = await client.ws({"type": "config/area_registry/list"})
    assert [area["name"] for area in areas if area["area_id"] == area_id] == ["Workbench"]
    adopted = await device_named(client, DISPLAY_NAME)
    station = await device_named(client, "Workbench")
    assert adopted is not None
    assert station is not None
    assert (adopted["area_id"], station["area_id"]) == (area_id, area_id)
    assert station["model"] == "Station"
    # The agent runs: it shows Home Assistant's idle page, as adopted displays do.
    await client.wait_for(
        lambda: client.state("sensor.workbench_display_showing"),
        lambda state: state is not None and state["state"] == "idle",
        120,
        "the display showing idle",
    )
    # Run again (develop's second start): the same area, nothing adopted or moved.
    assert await ensure_display(client) == area_id
    assert len(await client.ws({"type": "config/area_registry/list"})) == len(areas)

    assert await ensure_automations(client) == list(AUTOMATIONS)  # no camera here
    for key, (blueprint, inputs) in AUTOMATIONS.items():
        config = await client.get(f"/api/config/automation/config/{key}")
        assert config["use_blueprint"] == {"path": f"makerhub/{blueprint}", "input": inputs}
        state = await client.state(f"automation.{key}")
        assert state is not None
        assert state["state"] == "on"
    assert await ensure_automations(client) == []

    # The screen is served by noVNC (its page, Xvnc behind websockify).
    with urllib.request.urlopen(display.url, timeout=30) as page:
        assert b"noVNC" in page.read()
