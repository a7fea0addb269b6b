"""Displays end to end: a real ``hass``, a real Mosquitto, the real desktops service and
the display agent as systemd runs it (``makerhub-display run``), its Chromium on a
virtual screen (Xvfb) whose pixels the test reads.

The agent is adopted and its device put in the workbench's area; before any order the
kiosk shows its built-in idle page (Home Assistant refuses the unsigned idle page).
``makerhub.show_on_display`` for the station shows Home Assistant's signed idle page,
then the project's desktop (noVNC connected as a viewer, the desktop's frame on the
screen); Chromium killed, the restarted one opens the desktop again with a fresh connect
token; a ``javascript:`` target is refused and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from dev.processes.desktops_process import DesktopsServiceProcess
from dev.processes.hass_process import HassApiError, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from makerhub_display.config import DisplayConfig
from tests.e2e.desktop_project import hub_with_a_project
from tests.helpers.desktops_service import bare_repo, desktops_service, git_http_server
from tests.helpers.xvfb import VirtualScreen, xvfb

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
BUILT_IN_IDLE = (0x10, 0x14, 0x1C)
"""The agent's built-in idle page's background (makerhub_display.idle)."""
HA_IDLE = (0x0D, 0x21, 0x37)
"""Home Assistant's idle page's background (displays/idle_page.py)."""
SHOW = "select.workbench_display_show"
SHOWING = "sensor.workbench_display_showing"


@pytest.fixture
def service(socket_enabled: None) -> Iterator[DesktopsServiceProcess]:
    """The real desktops service, cloning over HTTP from 127.0.0.1."""
    with desktops_service(allow_http=True) as running:
        yield running


@pytest.fixture
def screen() -> Iterator[VirtualScreen]:
    """The display's screen."""
    with xvfb() as virtual:
        yield virtual


async def wait_until(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    """Poll ``check`` until it returns something true; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if result := check():
            return result
        last = result
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


def top_colour(screen: VirtualScreen) -> tuple[int, int, int]:
    """Return the colour of the screen's pixel near the top (below the kiosk window's
    black edge), in the middle."""
    colour = screen.grab().getpixel((screen.width // 2, 60))
    assert isinstance(colour, tuple)
    return colour[0], colour[1], colour[2]


def many_colours(screen: VirtualScreen) -> bool:
    """Return whether the screen shows a desktop's frame (its panel, windows), not a page
    of one colour."""
    return len(screen.grab().getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20


def viewers(service: DesktopsServiceProcess, project: str) -> int:
    status, record = service.call("GET", f"/api/desktops/{project}")
    return int(record["viewers"]) if status == 200 else -1


def chromium_pid(state_dir: Path) -> int | None:
    """Return the kiosk's Chromium (its profile lock names it: ``<host>-<pid>``)."""
    try:
        pid = int(str((state_dir / "chromium" / "SingletonLock").readlink()).rsplit("-", 1)[1])
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def start_agent(
    screen: VirtualScreen, mosquitto: MosquittoBroker, ha_url: str, tmp_path: Path
) -> subprocess.Popen[bytes]:
    """Run ``makerhub-display run`` on the virtual screen (no power tools: the black cover)."""
    no_tools = tmp_path / "no-power-tools"
    no_tools.mkdir()
    DisplayConfig(
        mqtt_host=mosquitto.host,
        mqtt_port=mosquitto.port,
        announce_id="workbench",
        name="Workbench",
        ha_url=ha_url,
        state_dir=str(tmp_path / "display"),
        chromium=shutil.which("chromium") or "chromium",
        chromium_args=CHROMIUM_ARGS,
        power_path=str(no_tools),
    ).save(tmp_path / "display.json")
    env = dict(screen.env, PYTHONPATH=str(REPO / "sdk" / "python"))
    return subprocess.Popen(
        [sys.executable, "-m", "makerhub_display", "run", "--config",
         str(tmp_path / "display.json")],
        env=env, stdout=(tmp_path / "display.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


async def test_show_on_display_puts_idle_then_a_desktop_on_the_kiosk(
    hass_process: HassProcess,
    mosquitto: MosquittoBroker,
    service: DesktopsServiceProcess,
    screen: VirtualScreen,
    tmp_path: Path,
) -> None:
    assert shutil.which("chromium"), "chromium is missing: scripts/lib/bootstrap.sh installs it"
    bare_repo(service)
    with git_http_server(service.file_root) as repos:
        project = await hub_with_a_project(hass_process, mosquitto, service, repos)
        agent = start_agent(screen, mosquitto, hass_process.url, tmp_path)
        client = HassClient(hass_process)
        try:
            await client.login()
            await client.wait_running()
            await shows_idle_then_the_desktop(client, service, screen, project, tmp_path)
        finally:
            await client.close()
            if agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
                agent.wait(60)
    assert hass_process.makerhub_problems() == []


async def shows_idle_then_the_desktop(
    client: HassClient,
    service: DesktopsServiceProcess,
    screen: VirtualScreen,
    project: str,
    tmp_path: Path,
) -> None:
    (flow,) = await client.wait_for(
        client.discovered_units, lambda flows: len(flows) == 1, 120, "the display announced"
    )
    assert (await client.adopt(flow["flow_id"], "Workbench display"))["reason"] == "unit_adopted"
    await client.wait_for(
        lambda: client.state(SHOWING), lambda s: bool(s) and s["state"] == "idle", 120, "idle"
    )
    # Home Assistant refuses the unsigned idle page: the kiosk shows its built-in one.
    await wait_until(lambda: top_colour(screen) == BUILT_IN_IDLE, "the built-in idle page")

    # The display's device goes in the workbench station's area.
    area = await client.ws({"type": "config/area_registry/create", "name": "Workbench"})
    devices = await client.ws({"type": "config/device_registry/list"})
    (device,) = [d for d in devices if d["name"] == "Workbench display"]
    await client.ws(
        {
            "type": "config/device_registry/update",
            "device_id": device["id"],
            "area_id": area["area_id"],
        }
    )

    # Idle, for the station: Home Assistant's signed idle page, live.
    answer = await client.service_response(
        "makerhub", "show_on_display", {"station": area["area_id"], "what": "idle"}
    )
    assert [d["name"] for d in answer["displays"]] == ["Workbench display"]
    await wait_until(lambda: top_colour(screen) == HA_IDLE, "Home Assistant's idle page")
    screen.grab().save(tmp_path / "display-idle.png")

    # The project's desktop, as a viewer (the display is not interactive).
    answer = await client.service_response(
        "makerhub",
        "show_on_display",
        {"display": device["id"], "what": "desktop", "target": "clock"},
    )
    assert answer["displays"][0]["role"] == "viewer"
    await wait_until(lambda: viewers(service, project) == 1, "noVNC connected", timeout=180)
    await wait_until(lambda: many_colours(screen), "the desktop's frame on the screen")
    assert (await client.state(SHOWING))["state"] == "desktop"
    screen.grab().save(tmp_path / "display-desktop.png")

    # Chromium dies: the agent starts it again on the same hub page, which mints a new
    # connect token (the first one is used up), and the desktop is back.
    first = await wait_until(lambda: chromium_pid(tmp_path / "display"), "the kiosk's Chromium")
    os.killpg(first, signal.SIGKILL)
    await wait_until(
        lambda: chromium_pid(tmp_path / "display") not in (None, first), "a new Chromium"
    )
    await wait_until(lambda: viewers(service, project) == 1, "noVNC connected again", 180)
    await wait_until(lambda: many_colours(screen), "the desktop again")

    # A forbidden scheme: refused (as the frontend calls it, over the WebSocket, which
    # carries the translated error); the display keeps its desktop.
    with pytest.raises(HassApiError, match="scheme javascript: is not allowed"):
        await client.ws(
            {
                "type": "call_service",
                "domain": "makerhub",
                "service": "show_on_display",
                "service_data": {
                    "display": device["id"],
                    "what": "url",
                    "target": "javascript:alert(1)",
                },
            }
        )
    assert (await client.state(SHOW))["state"] == "desktop"
    assert viewers(service, project) == 1
