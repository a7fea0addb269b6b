"""Run Home Assistant with Makerhub and a simulated fleet, for local development.

Idempotent: the first run onboards Home Assistant (login dev / makerhub), sets up MQTT
and the Makerhub hub through their config flows and adopts the simulated units; later
runs reuse all of it from ``.dev/``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys

from dev.processes.hass_process import DEV_PASSWORD, DEV_USER, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker

SDK = Path(__file__).resolve().parents[1] / "sdk" / "python"
REPO = Path(__file__).resolve().parents[1]
STATE = REPO / ".dev"
HASS_PORT = 8123
BROKER_PORT = 1884
FLEET_KINDS = "thermometer,relay,door,dimmer"


def port_in_use(port: int) -> bool:
    """Return whether something listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


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


async def run(units: int, rate: float) -> int:
    """Start everything, print where to go, and wait for Ctrl-C."""
    for port, what in ((HASS_PORT, "Home Assistant"), (BROKER_PORT, "Mosquitto")):
        if port_in_use(port):
            print(f"error: port {port} (for {what}) is in use; stop what runs there first")
            return 1
    STATE.mkdir(exist_ok=True)
    config_dir = STATE / "config"
    if not (config_dir / "configuration.yaml").exists():
        config_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "dev" / "configuration.yaml", config_dir / "configuration.yaml")
        (config_dir / "automations.yaml").write_text("[]\n")
    broker = MosquittoBroker(STATE / "mosquitto", port=BROKER_PORT)
    broker.start()
    hass = HassProcess(config_dir, port=HASS_PORT)
    fleet: subprocess.Popen[bytes] | None = None
    client = HassClient(hass)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print(f"Starting Home Assistant on {hass.url} (log: {hass.log_path})")
        hass.start()
        await client.login()
        await client.wait_running()
        await client.setup_mqtt("127.0.0.1", BROKER_PORT)
        await client.setup_makerhub()
        first_run = not (STATE / "fleet").exists()
        fleet = start_fleet(units, rate)
        if first_run:
            print("Adopting the simulated fleet")
            await adopt_fleet(client, leave=1)
        print(
            f"\nReady: {hass.url}  (login {DEV_USER} / {DEV_PASSWORD})\n"
            f"  MQTT broker for units: 127.0.0.1:{BROKER_PORT}\n"
            f"  fleet: {units} simulated units (log: {STATE / 'fleet.log'})\n"
            "  Settings → Devices & services → Makerhub shows the units; one waits under"
            " Discovered.\nCtrl-C stops everything."
        )
        await stop.wait()
        return 0
    finally:
        print("Stopping")
        await client.close()
        if fleet is not None:
            fleet.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                fleet.wait(timeout=10)
        hass.stop()
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
