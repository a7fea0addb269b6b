"""Run Home Assistant with Makerhub and every feature showing live data, for development.

Idempotent: the first run onboards Home Assistant (login dev / makerhub), sets up MQTT
and the Makerhub hub through their config flows, adopts the simulated fleet, and sets up
the sample space (:mod:`dev.sample`): the firmware service with a sample repository and a
unit made from it, telemetry into the local PostgreSQL, a project, two stations and a
phone walking between them, the desktops service (the project's desktop, as root) and the
recorder service recording a test camera, both connected to the hub. Later runs reuse all
of it from ``.dev/``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from datetime import UTC, datetime
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from .processes.desktops_process import DesktopsServiceProcess
from .processes.display_process import DisplayProcess
from .processes.firmware_processes import FirmwareServiceProcess, LauncherUnit
from .processes.hass_process import DEV_PASSWORD, DEV_USER, HassApiError, HassClient, HassProcess
from .processes.mosquitto import MosquittoBroker
from .processes.recorder_process import RecorderServiceProcess
from .processes.rtsp_camera import RtspCamera
from .sample import (
    PHONE_STATION,
    PROJECT,
    PROJECT_TODO,
    REPO_DIR,
    REPO_NAME,
    UNIT_NAME,
    UNIT_TEMPERATURE,
    Sample,
    run_phone,
)
from .sample_display import (
    DISPLAY_ANNOUNCE_ID,
    DISPLAY_NAME,
    ensure_automations,
    ensure_blueprints,
    ensure_camera_at_station,
    ensure_display,
)

SDK = Path(__file__).resolve().parents[1] / "sdk" / "python"
REPO = Path(__file__).resolve().parents[1]
STATE = REPO / ".dev"
HASS_PORT = 8123
BROKER_PORT = 1884
FIRMWARE_PORT = 8099
FIRMWARE_TOKEN = "makerhub-dev-firmware-token"  # a local service, dev only
RECORDER_PORT = 8101
RECORDER_TOKEN = "makerhub-dev-recorder-token"  # a local service, dev only
CAMERA_PORT = 8554
FLEET_KINDS = "thermometer,relay,door,dimmer"
DESKTOPS_PORT = 8100
DESKTOPS_TOKEN = "makerhub-dev-desktops-token"  # a local service, dev only
DISPLAY_VNC_PORT = 5960
DISPLAY_WEB_PORT = 6080
DESKTOPS_USER_PREFIX = "mhdev-"
"""The dev desktops' operating-system users (``mhdev-<project id>``), kept across runs."""


def port_in_use(port: int) -> bool:
    """Return whether something listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_desktops() -> DesktopsServiceProcess | None:
    """Start the desktops service (None, saying why, when it cannot run here).

    It creates a user per desktop, so it runs only as root; its data (homes, workspaces)
    stays in ``.dev/desktops`` across runs.
    """
    if os.geteuid() != 0:
        print("  desktops: skipped — the desktops service must run as root (it creates a user")
        print("  per desktop); run scripts/develop as root to have the Desktops panel live")
        return None
    if port_in_use(DESKTOPS_PORT):
        print(f"  desktops: skipped — port {DESKTOPS_PORT} is in use")
        return None
    desktops = DesktopsServiceProcess(
        STATE / "desktops",
        DESKTOPS_TOKEN,
        user_prefix=DESKTOPS_USER_PREFIX,
        file_root=STATE / "repos",
        port=DESKTOPS_PORT,
    )
    desktops.start()
    return desktops


def stop_desktops(desktops: DesktopsServiceProcess) -> None:
    """Stop every running desktop (home and workspace kept), then the service."""
    with contextlib.suppress(OSError):
        _, listing = desktops.call("GET", "/api/desktops")
        for desktop in listing or []:
            if desktop["state"] not in ("stopped", "error"):
                desktops.call("POST", f"/api/desktops/{desktop['project']}/stop")
    desktops.stop()


def start_display(ha_url: str) -> DisplayProcess | None:
    """Start the Workbench station's display agent on a virtual screen watched through
    noVNC (None, saying why, when its ports are taken)."""
    for port in (DISPLAY_VNC_PORT, DISPLAY_WEB_PORT):
        if port_in_use(port):
            print(f"  display: skipped — port {port} is in use")
            return None
    display = DisplayProcess(
        STATE / "display",
        "127.0.0.1",
        BROKER_PORT,
        ha_url,
        name=DISPLAY_NAME,
        announce_id=DISPLAY_ANNOUNCE_ID,
        vnc_port=DISPLAY_VNC_PORT,
        web_port=DISPLAY_WEB_PORT,
    )
    display.start()
    return display


def start_fleet(units: int, rate: float) -> subprocess.Popen[bytes]:
    """Start makerhub-sim against the dev broker."""
    return subprocess.Popen(
        [
            sys.executable, "-m", "makerhub_unit.sim",
            "--host", "127.0.0.1", "--port", str(BROKER_PORT),
            "--units", str(units), "--kinds", FLEET_KINDS, "--rate", str(rate),
            "--state-interval", "10", "--state-dir", str(STATE / "fleet"), "--id-prefix", "dev",
        ],
        env={**os.environ, "PYTHONPATH": str(SDK)},  # this checkout's SDK
        stdout=(STATE / "fleet.log").open("ab"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


async def adopt_fleet(client: HassClient, leave: int) -> None:
    """Adopt discovered simulator units, leaving ``leave`` to try adoption by hand."""
    flows = await client.wait_for(client.discovered_units, bool, 30, "the fleet to announce")
    await asyncio.sleep(2)  # let the rest of the fleet announce too
    flows = await client.discovered_units()
    flows.sort(key=lambda flow: flow["context"]["title_placeholders"]["name"])
    for flow in flows[: max(0, len(flows) - leave)]:
        name = flow["context"]["title_placeholders"]["name"]
        await client.adopt(flow["flow_id"], name)
        print(f"  adopted {name}")


def write_config(config_dir: Path) -> None:
    """Copy the dev configuration on first run; give an older copy what presence needs."""
    config = config_dir / "configuration.yaml"
    if not config.exists():
        config_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "dev" / "configuration.yaml", config)
        (config_dir / "automations.yaml").write_text("[]\n")
    elif not any(line.startswith("person:") for line in config.read_text().splitlines()):
        with config.open("a") as file:
            file.write("person:\n")  # presence places people


LIVE = {
    "the unit made from the repository": UNIT_TEMPERATURE,
    "the project's to-do list": PROJECT_TODO,
    "the telemetry database": "binary_sensor.makerhub_telemetry_database",
    "the phone's station": PHONE_STATION,
}


async def report_live(client: HassClient, started: float) -> None:
    """Print when each feature shows live data, counted from the start of this run."""
    since = datetime.now(UTC).isoformat()

    def state_of(entity_id: str) -> Callable[[], Awaitable[Any]]:
        return lambda: client.state(entity_id)

    async def telemetry_count() -> float:
        response = await client.service_response(
            "makerhub",
            "get_history",
            {"entity_id": UNIT_TEMPERATURE, "aggregation": "count", "start": since},
        )
        return float(sum(point["value"] for point in response["points"]))

    checks: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[Any], bool]]] = [
        (what, state_of(entity_id), has_value) for what, entity_id in LIVE.items()
    ]
    checks.append(("the unit's new values in the telemetry database", telemetry_count, bool))
    for what, fetch, ready in checks:
        try:
            await client.wait_for(fetch, ready, 300, what)
        except HassApiError as err:
            print(f"  no live data yet: {err}")
        else:
            print(f"  live after {time.monotonic() - started:5.1f} s: {what}")


def has_value(state: dict[str, Any] | None) -> bool:
    """Return whether an entity exists with a value (for a person: at a station)."""
    return state is not None and state["state"] not in ("unknown", "unavailable", "away")


async def run(units: int, rate: float) -> int:
    """Start everything, print where to go, and wait for Ctrl-C."""
    started = time.monotonic()
    ports = (
        (HASS_PORT, "Home Assistant"), (BROKER_PORT, "Mosquitto"), (FIRMWARE_PORT, "firmware"),
        (RECORDER_PORT, "recorder"), (CAMERA_PORT, "test camera"),
    )  # fmt: skip
    for port, what in ports:
        if port_in_use(port):
            print(f"error: port {port} (for {what}) is in use; stop what runs there first")
            return 1
    STATE.mkdir(exist_ok=True)
    config_dir = STATE / "config"
    write_config(config_dir)
    if copied := ensure_blueprints(config_dir):
        print(f"  blueprints copied to {config_dir / 'blueprints'}: {', '.join(copied)}")
    broker = MosquittoBroker(STATE / "mosquitto", port=BROKER_PORT)
    broker.start()
    firmware = FirmwareServiceProcess(STATE / "firmware", FIRMWARE_TOKEN, port=FIRMWARE_PORT)
    hass = HassProcess(config_dir, port=HASS_PORT)
    camera = RtspCamera(port=CAMERA_PORT)
    recorder = RecorderServiceProcess(STATE / "recorder", RECORDER_TOKEN, port=RECORDER_PORT)
    fleet: subprocess.Popen[bytes] | None = None
    desktops: DesktopsServiceProcess | None = None
    display: DisplayProcess | None = None
    launchers: list[LauncherUnit] = []
    background: list[asyncio.Task[None]] = []
    client = HassClient(hass)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print(f"Starting Home Assistant on {hass.url} (log: {hass.log_path})")
        hass.start()
        await asyncio.to_thread(firmware.start)
        await asyncio.to_thread(camera.start)
        await asyncio.to_thread(recorder.start)
        await asyncio.to_thread(
            recorder.call,
            "POST",
            "/api/cameras",
            {"source": camera.url, "name": "Workbench camera"},
        )
        await client.login()
        await client.wait_running()
        await client.setup_mqtt("127.0.0.1", BROKER_PORT)
        await client.setup_makerhub(broker_host="127.0.0.1", broker_port=BROKER_PORT)
        sample = Sample(client, STATE, firmware.url, FIRMWARE_TOKEN, broker.host, BROKER_PORT)
        await sample.ensure_hub()
        first_run = not (STATE / "fleet").exists()
        fleet = start_fleet(units, rate)
        if first_run:
            print("Adopting the simulated fleet")
            await adopt_fleet(client, leave=1)
        print("Setting up the sample space")
        await sample.ensure_telemetry()
        launchers = await sample.ensure_firmware()
        await sample.ensure_person()
        await sample.ensure_stations()
        await sample.ensure_project()
        desktops = await asyncio.to_thread(start_desktops)
        if desktops is not None:
            await sample.ensure_service("desktops", desktops.url, DESKTOPS_TOKEN)
        await sample.ensure_service("cameras", recorder.url, RECORDER_TOKEN)
        await ensure_camera_at_station(client)
        display = await asyncio.to_thread(start_display, hass.url)
        if display is not None:
            await ensure_display(client)
        for key in await ensure_automations(client):
            print(f"  automation.{key}")
        phone_token = await sample.phone_token()
        background.append(asyncio.create_task(run_phone(client, phone_token)))
        repo = STATE / "repos" / REPO_DIR
        print(
            f"\nReady after {time.monotonic() - started:.1f} s: {hass.url}"
            f"  (login {DEV_USER} / {DEV_PASSWORD})\n"
            f"  MQTT broker for units: 127.0.0.1:{BROKER_PORT}\n"
            f"  fleet: {units} simulated units (log: {STATE / 'fleet.log'}); one waits under"
            " Discovered\n"
            f"  firmware service: {firmware.url} (log: {firmware.log_path})\n"
            f"  recorder service: {recorder.url} (log: {recorder.log_path}), recording the"
            f" test camera {camera.url}\n"
            f"  repository {REPO_NAME}: {repo} — its unit {UNIT_NAME} runs under the launcher"
            f" (log: {STATE / 'units'}/<uid>.log)\n"
            f"  telemetry: PostgreSQL 127.0.0.1:5432, database makerhub_dev\n"
            f"  project {PROJECT['name']}; stations Workbench and Laser cutter; a simulated"
            " phone reports the Developer's station every 10 s\n"
            "Ctrl-C stops everything."
        )
        if desktops is not None:
            print(
                f"  desktops service: {desktops.url} (log: {desktops.log_path}); the project's"
                f" desktop opens from {hass.url}/makerhub-desktops"
            )
        if display is not None:
            print(
                f"  {DISPLAY_NAME}: the agent's screen at {display.url} (VNC"
                f" 127.0.0.1:{DISPLAY_VNC_PORT}; log: {display.log_path}); walk up with the"
                " phone and it shows the project's desktop"
            )
        background.append(asyncio.create_task(report_live(client, started)))
        await stop.wait()
        return 0
    finally:
        print("Stopping")
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await client.close()
        for launcher in launchers:
            await asyncio.to_thread(launcher.stop)
        if fleet is not None:
            fleet.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                fleet.wait(timeout=10)
        if display is not None:
            await asyncio.to_thread(display.stop)
        hass.stop()
        if desktops is not None:
            await asyncio.to_thread(stop_desktops, desktops)
        recorder.stop()
        camera.kill()
        firmware.stop()
        broker.stop()


def main() -> int:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=8, help="simulated units (default 8)")
    parser.add_argument("--rate", type=float, default=0.5, help="messages/s per unit")
    args = parser.parse_args()
    return asyncio.run(run(args.units, args.rate))


if __name__ == "__main__":
    sys.exit(main())
