"""The displays' blueprints end to end: a real ``hass`` with the repository's blueprints
copied into its config folder (the documented import without internet) and automations
created from them over the REST API, a real Mosquitto, the real desktops service, and the
real display agent (``python -m makerhub_display run``: Debian's Chromium in kiosk mode on
a virtual screen), adopted and put in the station's area.

A custom app reports the person at the station: the display shows the desktop of their
active project (the kiosk connects to it: the desktops service counts the viewer); they
switch project: the display follows; they leave: after the delay the display is idle, and
after the space's off-delay its screen is off; a tap on the dark screen (a real X input
event) wakes it, and with nobody there it goes dark again; they come back: the screen is
on again and shows their desktop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import ctypes
from datetime import datetime
from pathlib import Path
import shutil
import subprocess
import sys
from typing import Any

import pytest

from dev.processes.desktops_process import DesktopsServiceProcess
from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from makerhub_display.config import DisplayConfig
from tests.helpers.blueprints import BLUEPRINTS
from tests.helpers.desktops_service import TOKEN, desktops_service
from tests.helpers.xvfb import VirtualScreen, xvfb

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"
BEACON = {"uuid": UUID, "major": 1, "minor": 1}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
LEAVE_DELAY = 4
OFF_DELAY = 6
SHOWING = "sensor.workbench_display_showing"
TARGET = "text.workbench_display_target"
SCREEN = "switch.workbench_display_screen"
SCREEN_ON = "binary_sensor.workbench_display_screen_on"
TOUCH = "sensor.workbench_display_touch"
STAY_ON = 5
SPACE = "binary_sensor.makerhub_space_active"


@pytest.fixture
def hass_process(tmp_path: Path) -> Iterator[HassProcess]:
    """Home Assistant with people, automations from ``automations.yaml`` (what the
    automation editor writes), and this repository's blueprints in its config folder."""
    config = tmp_path / "config"
    config.mkdir()
    shutil.copytree(BLUEPRINTS, config / "blueprints")
    (config / "automations.yaml").write_text("[]\n")
    process = HassProcess(config, extra_config="person:\nautomation: !include automations.yaml\n")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def service(socket_enabled: None) -> Iterator[DesktopsServiceProcess]:
    """The real desktops service."""
    with desktops_service() as running:
        yield running


@pytest.fixture
def screen() -> Iterator[VirtualScreen]:
    """The display computer's screen."""
    with xvfb() as virtual:
        yield virtual


@pytest.fixture
def start_agent(screen: VirtualScreen, mosquitto: MosquittoBroker, tmp_path: Path) -> Iterator[Any]:
    """Start the display agent as its systemd unit would; it is stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(ha_url: str) -> subprocess.Popen[bytes]:
        no_tools = tmp_path / "no-power-tools"  # the black cover: no DDC/CI, CEC or DPMS
        no_tools.mkdir()
        config = DisplayConfig(
            mqtt_host=mosquitto.host,
            mqtt_port=mosquitto.port,
            announce_id="workbench",
            name="Workbench display",
            ha_url=ha_url,
            state_dir=str(tmp_path / "agent"),
            chromium=shutil.which("chromium"),
            chromium_args=CHROMIUM_ARGS,
            power_path=str(no_tools),
        )
        config.save(tmp_path / "display.json")
        agent = subprocess.Popen(
            [sys.executable, "-m", "makerhub_display", "run", "--config",
             str(tmp_path / "display.json")],
            env=dict(screen.env, PYTHONPATH=str(REPO / "sdk" / "python")),
            stdout=(tmp_path / "agent.log").open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(agent)
        return agent

    yield start
    for agent in started:
        if agent.poll() is None:
            agent.terminate()
            try:
                agent.wait(30)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait(10)


def is_state(value: str) -> Any:
    """Return a check that an entity's state is ``value``."""
    return lambda state: state is not None and state["state"] == value


def changed_at(state: dict[str, Any]) -> datetime:
    """Return when an entity's state last changed (Home Assistant's clock)."""
    return datetime.fromisoformat(state["last_changed"])


async def report(client: HassClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a presence report as a custom app does; return the answer."""
    async with client.session.post(
        f"{client.url}/api/makerhub/presence",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer


def tap(screen: VirtualScreen) -> None:
    """Click in the middle of the screen through the X server (XTest, as a touch screen's
    input arrives), with Xlib and libXtst from Chromium's own dependencies."""
    x11 = ctypes.CDLL("libX11.so.6")
    xtst = ctypes.CDLL("libXtst.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    display = x11.XOpenDisplay(screen.display.encode())
    assert display, f"cannot open {screen.display}"
    handle = ctypes.c_void_p(display)
    try:
        xtst.XTestFakeMotionEvent(handle, -1, screen.width // 2, screen.height // 2, 0)
        xtst.XTestFakeButtonEvent(handle, 1, True, 0)
        xtst.XTestFakeButtonEvent(handle, 1, False, 0)
        x11.XFlush(handle)
    finally:
        x11.XCloseDisplay(handle)


def white_pixels(screen: VirtualScreen) -> int:
    """Return how many pixels of the screen are white (the desktop's terminal window is;
    noVNC's "Connecting…" page, dark with a line of text, is not)."""
    counts = screen.grab().getcolors(maxcolors=1 << 24) or []
    return next((count for count, colour in counts if colour == (255, 255, 255)), 0)


def viewers(service: DesktopsServiceProcess, project: str) -> int:
    """Return how many are connected to the project's desktop as viewers."""
    status, record = service.call("GET", f"/api/desktops/{project}")
    return int(record["viewers"]) if status == 200 else 0


async def wait_until(check: Any, what: str, timeout: float = 180) -> None:
    """Poll ``check`` (sync) until it is true; fail saying ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)


async def create_automation(client: HassClient, key: str, blueprint: str, inputs: Any) -> None:
    """Create an automation from a blueprint as the automation editor does; wait until on."""
    await client.post(
        f"/api/config/automation/config/{key}",
        {
            "alias": key.replace("_", " "),
            "description": "",
            "use_blueprint": {"path": f"makerhub/{blueprint}", "input": inputs},
        },
    )
    await client.wait_for(
        lambda: client.state(f"automation.{key}"), is_state("on"), 60, f"automation {key}"
    )


async def test_the_display_follows_a_person_their_project_and_the_empty_space(
    hass_api: HassClient,
    service: DesktopsServiceProcess,
    start_agent: Any,
    hass_process: HassProcess,
    screen: VirtualScreen,
    tmp_path: Path,
) -> None:
    client = hass_api
    (entry,) = await client.entries("makerhub")
    result = await client.options_flow(
        entry["entry_id"],
        {"next_step_id": "desktops"},
        {"desktops_url": service.url, "desktops_token": TOKEN},
    )
    assert result["type"] == "create_entry", result

    # The dev user's person, their projects (a member signs the agreement first).
    users = await client.ws({"type": "config/auth/list"})
    dev = next(user for user in users if user["username"] == "dev")
    people = (await client.ws({"type": "person/list"}))["storage"]
    if not any(person.get("user_id") == dev["id"] for person in people):
        await client.ws({"type": "person/create", "name": "Dev", "user_id": dev["id"]})
    await client.call_service("makerhub", "sign_agreement", {})
    clock = (await client.post("/api/makerhub/projects", {"name": "Clock"}))["id"]
    lamp = (await client.post("/api/makerhub/projects", {"name": "Lamp"}))["id"]

    # The station in the area Workbench, and the display agent adopted into it.
    area = (await client.ws({"type": "config/area_registry/create", "name": "Workbench"}))[
        "area_id"
    ]
    result = await client.subentry_flow(
        entry["entry_id"],
        "station",
        {"name": "Bench A", "uuid": UUID, "major": 1, "minor": 1, "measured_power": -59,
         "area_id": area},
    )  # fmt: skip
    assert result["type"] == "create_entry", result
    agent = start_agent(client.url)
    flows = await client.wait_for(
        client.discovered_units, lambda flows: len(flows) == 1, 90, "the display to announce"
    )
    await client.adopt(flows[0]["flow_id"], "Workbench display")
    await client.wait_for(lambda: client.state(SHOWING), is_state("idle"), 120, "idle shown")
    devices = await client.ws({"type": "config/device_registry/list"})
    display = next(d for d in devices if d["name"] == "Workbench display")
    await client.ws(
        {"type": "config/device_registry/update", "device_id": display["id"], "area_id": area}
    )

    for key, blueprint, inputs in (
        ("follow_me", "makerhub_follow_me_desktop.yaml", {"leave_delay": {"seconds": LEAVE_DELAY}}),
        ("follow_switch", "makerhub_follow_project_switch.yaml", {}),
        ("screens_off", "makerhub_screens_off_when_empty.yaml",
         {"off_delay": {"seconds": OFF_DELAY}}),
        ("wake_on_touch", "makerhub_wake_on_touch.yaml",
         {"touch_sensors": [TOUCH], "stay_on": {"seconds": STAY_ON}}),
    ):  # fmt: skip
        await create_automation(client, key, blueprint, inputs)

    token = await client.long_lived_token("bench app")
    person = (await report(client, token, {"exit": True}))["person"]
    station_sensor = f"sensor.makerhub_{person.removeprefix('person.')}_station"
    await client.call_service(
        "makerhub", "set_active_project", {"person": person, "project": clock}
    )

    # Arrives: the display shows the desktop of their active project, and connects to it.
    await report(client, token, {"beacon": BEACON, "distance": 0.6})
    await client.wait_for(lambda: client.state(SHOWING), is_state("desktop"), 120, "a desktop")
    target = await client.state(TARGET)
    assert target is not None
    assert f"project={clock}" in target["state"]
    await wait_until(lambda: viewers(service, clock) == 1, "the kiosk on the Clock desktop")

    # Switches project: the display follows.
    await client.call_service("makerhub", "set_active_project", {"person": person, "project": lamp})
    await client.wait_for(
        lambda: client.state(TARGET),
        lambda state: state is not None and f"project={lamp}" in state["state"],
        60,
        "the Lamp desktop's page",
    )
    await wait_until(lambda: viewers(service, lamp) == 1, "the kiosk on the Lamp desktop")
    await wait_until(lambda: viewers(service, clock) == 0, "the kiosk off the Clock desktop")
    # The screen shows the desktop: its terminal window, not noVNC's "Connecting…" page.
    await wait_until(lambda: white_pixels(screen) > 50_000, "the desktop's frame on the screen")
    screen.grab().save(tmp_path / "display-lamp-desktop.png")  # what a person sees there

    # Leaves: idle after the delay, the screen off after the space's off-delay.
    await report(client, token, {"exit": True})
    idle = await client.wait_for(lambda: client.state(SHOWING), is_state("idle"), 120, "idle")
    away = await client.state(station_sensor)
    assert away is not None
    assert away["state"] == "away"
    assert (changed_at(idle) - changed_at(away)).total_seconds() >= LEAVE_DELAY
    screen_off = await client.wait_for(
        lambda: client.state(SCREEN_ON), is_state("off"), 120, "the screen off"
    )
    switch = await client.state(SCREEN)
    assert switch is not None
    assert switch["state"] == "off"
    inactive = await client.state(SPACE)
    assert inactive is not None
    assert inactive["state"] == "off"
    assert (changed_at(switch) - changed_at(inactive)).total_seconds() >= OFF_DELAY
    assert changed_at(screen_off) >= changed_at(switch)

    # A touch on the dark screen wakes it; untouched, in the empty space, it sleeps again.
    async def touched_awake() -> bool:
        tap(screen)
        deadline = asyncio.get_running_loop().time() + 5
        while asyncio.get_running_loop().time() < deadline:
            if is_state("on")(await client.state(SCREEN_ON)):
                return True
            await asyncio.sleep(0.25)
        return False

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while not await touched_awake():  # tapped again until reported, as the kiosk test does
        assert loop.time() < deadline, "timed out waiting for the touch to wake the screen"
    asleep = await client.wait_for(
        lambda: client.state(SCREEN), is_state("off"), 120, "the woken screen off again"
    )
    touch = await client.state(TOUCH)  # the last of the taps
    assert touch is not None
    assert (changed_at(asleep) - changed_at(touch)).total_seconds() >= STAY_ON
    await client.wait_for(lambda: client.state(SCREEN_ON), is_state("off"), 60, "dark again")

    # Comes back: the screen is on and shows their desktop again.
    await report(client, token, {"beacon": BEACON, "distance": 0.6})
    await client.wait_for(lambda: client.state(SCREEN_ON), is_state("on"), 120, "screen on")
    await client.wait_for(lambda: client.state(SHOWING), is_state("desktop"), 120, "desktop")
    target = await client.state(TARGET)
    assert target is not None
    assert f"project={lamp}" in target["state"]
    await wait_until(lambda: viewers(service, lamp) == 1, "the kiosk back on the Lamp desktop")

    assert agent.poll() is None
    assert hass_process.makerhub_problems() == []
