"""Displays: from a presence report at a station to the station's display showing the
person's desktop, Makerhub's event-driven path against a 5 s polling automation, in one run.

Everything is real: ``hass`` (person, MQTT, the hub with a station in an area, the
desktops service configured), Mosquitto, the desktops service with one desktop per
project (Xvnc, Openbox, noVNC), and the display agent (``makerhub-display run``, a unit
announced and adopted like any other, its device in the station's area) with Debian's
Chromium on an Xvfb screen. Two people, each with their own user, token and project,
take turns at the station: the one arriving reports over ``POST /api/makerhub/presence``
(as their phone's app does), the one before reports leaving.

A switch is timed from just before the arriving person's report until the display's
screen (an X screenshot, polled every 20 ms) shows the *first frame of that person's
desktop*: each desktop's root window has its own colour (``xsetroot``), which only
noVNC, connected and painting its canvas, puts on the screen.

- **Makerhub**: the follow-me blueprint (``makerhub_follow_me_desktop``, triggered by
  presence's ``makerhub_station_changed`` event) calling ``makerhub.show_on_display``,
  which sets the display unit's inputs over MQTT. While that action is not in this
  checkout, an equivalent event-triggered automation written here stands in for it
  (``makerhub.desktop_url`` for the person's active project, then the display unit's
  ``text.…_target`` / ``select.…_show``); the table says which ran.
- **Baseline**: what people write without Makerhub's events: a ``time_pattern``
  automation every 5 s reading who is at the station (their station sensor) and, when
  that person's project is not the one shown, setting the same entities. Its switches
  start at a random phase of the 5 s cycle.

The two take turns in rounds (``--rounds``), only one automation enabled at a time, so
the machine's load weighs on both alike. Desktops are kept running (no suspension: the
resume is ``scripts/bench desktops``'s business).

Targets (issue 18): p95 <= 2 s end to end; Makerhub >= 3x faster than the baseline at p50.

Run as root (the desktops service makes a user per desktop):
``scripts/bench displays [--switches 50 --rounds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator, Sequence
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp

from custom_components.makerhub.core.presence.evaluation import percentile
from dev.processes.desktops_process import DesktopsServiceProcess, remove_desktop_users
from dev.processes.hass_process import HassApiError, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from tests.helpers.xvfb import VirtualScreen, xvfb

REPO = Path(__file__).resolve().parents[1]
SDK = REPO / "sdk" / "python"
BLUEPRINT = REPO / "blueprints" / "automation" / "makerhub" / "makerhub_follow_me_desktop.yaml"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
DESKTOPS_TOKEN = "bench-desktops-" + secrets.token_hex(8)
PASSWORD = "bench-" + secrets.token_hex(8)
STATION = "Bench A"
BEACON = {"uuid": "e2c56db5-dffb-48d2-b060-d0f5a71096e0", "major": 1, "minor": 1}
DISPLAY = "Bench display"
SHOW, TARGET = "select.bench_display_show", "text.bench_display_target"
POLL_PERIOD = 5.0
SWITCH_TIMEOUT = 60.0
FRAME_POLL = 0.02
TOLERANCE = 40
SAMPLES = ((0.85, 0.15), (0.85, 0.4), (0.85, 0.7), (0.7, 0.8))
"""Where the desktop's bare root window is on the kiosk's screen (noVNC scales the
1280x800 desktop into it: right of and below the terminal, above the panel), as fractions
of its size; most of them must show the colour."""
MIN_MATCHES = 3


@dataclass
class Person:
    """One of the two people taking turns, with their project and its desktop's colour."""

    name: str
    username: str
    project_name: str
    colour: tuple[int, int, int]
    colour_hex: str
    token: str = ""
    entity: str = ""
    project: str = ""
    station_sensor: str = ""
    project_select: str = ""


@dataclass
class Contender:
    """One way of switching the display, and its measured switches."""

    label: str
    automation: str
    times: list[float] = field(default_factory=list)
    failures: int = 0


# --- Home Assistant set-up ----------------------------------------------------------------


async def add_person(admin: HassClient, hass: HassProcess, person: Person) -> None:
    """Make the person's user, login, person entity, long-lived token and project."""
    user = await admin.ws(
        {"type": "config/auth/create", "name": person.name, "group_ids": ["system-users"]}
    )
    user_id = user["user"]["id"]
    await admin.ws(
        {
            "type": "config/auth_provider/homeassistant/create",
            "user_id": user_id,
            "username": person.username,
            "password": PASSWORD,
        }
    )
    created = await admin.ws({"type": "person/create", "name": person.name, "user_id": user_id})
    person.entity = f"person.{created['id']}"
    client = HassClient(hass)
    client.username, client.password = person.username, PASSWORD
    try:
        await client.login()
        person.token = await client.long_lived_token("bench presence app")
        await client.call_service("makerhub", "sign_agreement", {})
        made = await client.post("/api/makerhub/projects", {"name": person.project_name})
        person.project = made["id"]
    finally:
        await client.close()
    await admin.call_service(
        "makerhub", "set_active_project", {"person": person.entity, "project": person.project}
    )


async def entity_with(admin: HassClient, prefix: str, suffix: str, contains: str) -> str:
    """Return the one entity id ``prefix…contains…suffix`` (waiting for it to appear)."""
    found = await admin.wait_for(
        admin.states,
        lambda states: any(
            e.startswith(prefix) and e.endswith(suffix) and contains in e for e in states
        ),
        60,
        f"an entity {prefix}*{contains}*{suffix}",
    )
    return next(e for e in found if e.startswith(prefix) and e.endswith(suffix) and contains in e)


async def device_named(admin: HassClient, name: str) -> dict[str, Any]:
    """Return the device registry entry named ``name``."""
    devices = await admin.wait_for(
        lambda: admin.ws({"type": "config/device_registry/list"}),
        lambda devices: any(d["name"] == name for d in devices),
        60,
        f"the device {name}",
    )
    device: dict[str, Any] = next(d for d in devices if d["name"] == name)
    return device


async def put_in_area(admin: HassClient, device_name: str, area_id: str) -> None:
    """Put a device in an area (as Settings → Devices does)."""
    device = await device_named(admin, device_name)
    await admin.ws(
        {"type": "config/device_registry/update", "device_id": device["id"], "area_id": area_id}
    )


async def save_automation(admin: HassClient, automation_id: str, config: dict[str, Any]) -> str:
    """Save an automation through the automation editor's API; return its entity id."""
    await admin.post(f"/api/config/automation/config/{automation_id}", config)
    states = await admin.wait_for(
        admin.states,
        lambda states: any(
            s["entity_id"].startswith("automation.") and s["attributes"].get("id") == automation_id
            for s in states.values()
        ),
        60,
        f"the automation {automation_id}",
    )
    return next(
        e
        for e, s in states.items()
        if e.startswith("automation.") and s["attributes"].get("id") == automation_id
    )


def event_automation(people: Sequence[Person]) -> dict[str, Any]:
    """The stand-in for the follow-me blueprint: presence's event, the arriving person's
    active project, its desktop's connect URL onto the display's inputs."""
    selects = {p.entity: p.project_select for p in people}
    ids = {p.project_name: p.project for p in people}
    return {
        "alias": "Bench follow-me (event)",
        "description": "Makerhub path stand-in: event-triggered, as the blueprint is.",
        "mode": "queued",
        "triggers": [
            {
                "trigger": "event",
                "event_type": "makerhub_station_changed",
                "event_data": {"to": STATION},
            }
        ],
        "actions": [
            {
                "variables": {
                    "project": (
                        f"{{{{ {json.dumps(ids)}.get(states({json.dumps(selects)}"
                        "[trigger.event.data.person]), '') }}"
                    )
                }
            },
            {"condition": "template", "value_template": "{{ project != '' }}"},
            *show_desktop_actions("{{ project }}"),
        ],
    }


def show_desktop_actions(project: str) -> list[dict[str, Any]]:
    """Ask for a viewer URL of ``project``'s desktop and put it on the display."""
    return [
        {
            "action": "makerhub.desktop_url",
            "data": {"project": project, "role": "viewer"},
            "response_variable": "desktop",
        },
        {
            "action": "text.set_value",
            "target": {"entity_id": TARGET},
            "data": {"value": "{{ desktop.url }}"},
        },
        {
            "if": [
                {
                    "condition": "template",
                    "value_template": f"{{{{ states('{SHOW}') != 'desktop' }}}}",
                }
            ],
            "then": [
                {
                    "action": "select.select_option",
                    "target": {"entity_id": SHOW},
                    "data": {"option": "desktop"},
                }
            ],
        },
    ]


def polling_automation(people: Sequence[Person]) -> dict[str, Any]:
    """The baseline: every 5 s, whoever came last to the station; their project unless
    it is the one shown (remembered in an input_text)."""
    sensors = {p.station_sensor: p.project_select for p in people}
    ids = {p.project_name: p.project for p in people}
    here = (
        f"{{% set ns = namespace(last=none, project='') %}}"
        f"{{% for sensor, select in {json.dumps(sensors)}.items() %}}"
        f"{{% if is_state(sensor, '{STATION}') and (ns.last is none or "
        f"states[sensor].last_changed > ns.last) %}}"
        f"{{% set ns.last = states[sensor].last_changed %}}"
        f"{{% set ns.project = {json.dumps(ids)}.get(states(select), '') %}}"
        f"{{% endif %}}{{% endfor %}}{{{{ ns.project }}}}"
    )
    return {
        "alias": "Bench follow-me (polling)",
        "description": "Baseline: a time pattern every 5 s reading the station sensors.",
        "mode": "single",
        "triggers": [{"trigger": "time_pattern", "seconds": f"/{POLL_PERIOD:g}"}],
        "actions": [
            {"variables": {"project": here}},
            {
                "condition": "template",
                "value_template": (
                    "{{ project != '' and project != states('input_text.bench_shown') }}"
                ),
            },
            *show_desktop_actions("{{ project }}"),
            {
                "action": "input_text.set_value",
                "target": {"entity_id": "input_text.bench_shown"},
                "data": {"value": "{{ project }}"},
            },
        ],
    }


def blueprint_automation(area_id: str) -> dict[str, Any]:
    """The follow-me blueprint for the station's area (its leave delay long: the bench's
    person leaving must not send the display to idle)."""
    return {
        "alias": "Bench follow-me (blueprint)",
        "description": "Makerhub path: the follow-me desktop blueprint.",
        "use_blueprint": {
            "path": "makerhub/makerhub_follow_me_desktop.yaml",
            "input": {"leave_delay": {"hours": 1}, "stations": [area_id]},
        },
    }


# --- the display --------------------------------------------------------------------------


@contextlib.contextmanager
def display_agent(
    work: Path, broker: MosquittoBroker, screen: VirtualScreen, ha_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``makerhub-display run`` of this checkout on the virtual screen, as systemd runs it."""
    config = work / "display.json"
    config.write_text(
        json.dumps(
            {
                "mqtt_host": broker.host,
                "mqtt_port": broker.port,
                "announce_id": "bench-display",
                "name": DISPLAY,
                "ha_url": ha_url,
                "state_dir": str(work / "display-state"),
                "chromium": CHROMIUM,
                "chromium_args": CHROMIUM_ARGS,
                "power_path": str(work / "no-power-tools"),
            }
        )
    )
    (work / "no-power-tools").mkdir(exist_ok=True)
    env = {**screen.env, "PYTHONPATH": str(SDK)}
    with (work / "display.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "makerhub_display", "run", "--config", str(config)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def matches(screen: VirtualScreen, colour: tuple[int, int, int]) -> bool:
    """Return whether the screen shows ``colour`` at most sample points."""
    shot = screen.grab()
    hits = 0
    for fx, fy in SAMPLES:
        pixel = shot.getpixel((int(fx * (screen.width - 1)), int(fy * (screen.height - 1))))
        assert isinstance(pixel, tuple)
        if all(abs(pixel[i] - colour[i]) <= TOLERANCE for i in range(3)):
            hits += 1
    return hits >= MIN_MATCHES


def wait_for_colour(
    screen: VirtualScreen, colour: tuple[int, int, int], started: float, timeout: float
) -> float | None:
    """Return the seconds from ``started`` to the first screenshot showing ``colour``."""
    while time.monotonic() - started < timeout:
        if matches(screen, colour):
            return time.monotonic() - started
        time.sleep(FRAME_POLL)
    return None


# --- the run ------------------------------------------------------------------------------


async def report(session: aiohttp.ClientSession, url: str, person: Person, body: Any) -> None:
    """Send a presence report as the person's phone app does."""
    async with session.post(
        f"{url}/api/makerhub/presence",
        json=body,
        headers={"Authorization": f"Bearer {person.token}"},
    ) as response:
        if response.status != 200:
            raise HassApiError(f"presence report: {response.status} {await response.text()}")


async def switch(
    session: aiohttp.ClientSession,
    url: str,
    screen: VirtualScreen,
    arriving: Person,
    leaving: Person,
) -> float | None:
    """Time one switch: ``arriving`` reports the station; ``leaving`` then leaves."""
    started = time.monotonic()
    await report(session, url, arriving, {"beacon": BEACON, "distance": 0.6})
    seconds = await asyncio.to_thread(
        wait_for_colour, screen, arriving.colour, started, SWITCH_TIMEOUT
    )
    await report(session, url, leaving, {"exit": True})
    return seconds


async def paint_desktops(service: DesktopsServiceProcess, people: Sequence[Person]) -> None:
    """Give each person's desktop its own root colour (what tells them apart on screen)."""
    for person in people:
        status, record = service.call("GET", f"/api/desktops/{person.project}")
        if status != 200 or record.get("display") is None:
            raise RuntimeError(f"desktop of {person.project}: {status} {record}")
        home = service.data_dir / "homes" / person.project
        env = {
            "DISPLAY": f":{record['display']}",
            "XAUTHORITY": str(home / ".Xauthority"),
            "PATH": "/usr/bin:/bin",
        }
        subprocess.run(["xsetroot", "-solid", person.colour_hex], env=env, check=True, timeout=30)


async def run(args: argparse.Namespace, work: Path) -> tuple[list[Contender], dict[str, str]]:
    """Set everything up, measure both paths in turns; return them and notes."""
    notes: dict[str, str] = {}
    people = [
        Person("Ada", "ada", "Alpha", (0xC8, 0x28, 0x28), "#c82828"),
        Person("Bo", "bo", "Beta", (0x28, 0xA0, 0x3C), "#28a03c"),
    ]
    broker = MosquittoBroker(work / "mqtt")
    broker.start()
    root = work / "desktops"
    root.mkdir(mode=0o711)
    (root / "repos").mkdir()
    prefix = "b" + secrets.token_hex(3)[:5] + "-"
    service = DesktopsServiceProcess(
        root / "data",
        DESKTOPS_TOKEN,
        prefix,
        root / "repos",
        extra_args=("--suspend-after", "86400", "--stop-after", "86400"),
    )
    hass = HassProcess(
        work / "config",
        extra_config=(
            "person:\nautomation: !include automations.yaml\n"
            "input_text:\n  bench_shown:\n    name: Bench shown project\n"
        ),
    )
    (work / "config").mkdir()
    (work / "config" / "automations.yaml").write_text("[]\n")
    use_blueprint = args.makerhub == "blueprint"
    if use_blueprint:
        target = work / "config" / "blueprints" / "automation" / "makerhub"
        target.mkdir(parents=True)
        shutil.copy(BLUEPRINT, target / BLUEPRINT.name)
    try:
        service.start()
        hass.start()
        admin = HassClient(hass)
        session = aiohttp.ClientSession()
        try:
            await admin.login()
            await admin.wait_running()
            await admin.setup_mqtt(broker.host, broker.port)
            await admin.setup_makerhub(broker_host=broker.host, broker_port=broker.port)
            (entry,) = await admin.entries("makerhub")
            result = await admin.options_flow(
                entry["entry_id"],
                {"next_step_id": "desktops"},
                {"desktops_url": service.url, "desktops_token": DESKTOPS_TOKEN},
            )
            if result["type"] != "create_entry":
                raise HassApiError(f"desktops options: {result}")
            await admin.wait_running()
            await admin.call_service("makerhub", "sign_agreement", {})
            result = await admin.subentry_flow(
                entry["entry_id"],
                "station",
                {"name": STATION, **BEACON, "measured_power": -59},
            )
            if result["type"] != "create_entry":
                raise HassApiError(f"station: {result}")
            area = await admin.ws({"type": "config/area_registry/create", "name": STATION})
            await put_in_area(admin, STATION, area["area_id"])
            for person in people:
                await add_person(admin, hass, person)
            # Each person is placed once (their station sensor and active-project select
            # appear), then sent away.
            for person in people:
                await report(session, hass.url, person, {"exit": True})
            for person in people:
                slug = person.entity.removeprefix("person.")
                person.station_sensor = await entity_with(admin, "sensor.", "_station", slug)
                person.project_select = await entity_with(admin, "select.", "_active_project", slug)
                await admin.wait_for(
                    lambda p=person: admin.state(p.project_select),
                    lambda state: state is not None and state["state"] != "none",
                    60,
                    f"{person.name}'s active project",
                )
            for person in people:
                await admin.service_response(
                    "makerhub", "start_desktop", {"project": person.project}
                )
            await paint_desktops(service, people)

            with xvfb() as screen, display_agent(work, broker, screen, hass.url):
                flows = await admin.wait_for(
                    admin.discovered_units,
                    lambda flows: any(
                        f["context"]["title_placeholders"]["name"] == DISPLAY for f in flows
                    ),
                    120,
                    "the display to announce itself",
                )
                flow = next(
                    f for f in flows if f["context"]["title_placeholders"]["name"] == DISPLAY
                )
                await admin.adopt(flow["flow_id"], DISPLAY)
                await put_in_area(admin, DISPLAY, area["area_id"])
                for entity in (SHOW, TARGET):
                    await admin.wait_for(
                        lambda e=entity: admin.state(e),
                        lambda state: state is not None and state["state"] != "unavailable",
                        120,
                        entity,
                    )
                ours = Contender(
                    "makerhub (blueprint)" if use_blueprint else "makerhub (event automation)",
                    await save_automation(
                        admin,
                        "bench_makerhub",
                        blueprint_automation(area["area_id"])
                        if use_blueprint
                        else event_automation(people),
                    ),
                )
                theirs = Contender(
                    f"baseline (polling every {POLL_PERIOD:g} s)",
                    await save_automation(admin, "bench_polling", polling_automation(people)),
                )
                notes["makerhub path"] = ours.label
                await measure(args, admin, session, hass.url, screen, people, ours, theirs)
                notes["hass problems"] = str(len(hass.makerhub_problems()))
                return [ours, theirs], notes
        finally:
            await session.close()
            await admin.close()
    finally:
        hass.stop()
        service.stop()
        remove_desktop_users(prefix)
        broker.stop()


async def enable(admin: HassClient, on: str, off: str) -> None:
    """Turn one automation on and the other off."""
    await admin.call_service("automation", "turn_off", {"entity_id": off})
    await admin.call_service("automation", "turn_on", {"entity_id": on})


async def measure(
    args: argparse.Namespace,
    admin: HassClient,
    session: aiohttp.ClientSession,
    url: str,
    screen: VirtualScreen,
    people: list[Person],
    ours: Contender,
    theirs: Contender,
) -> None:
    """Alternate the people at the station: ``--rounds`` turns of each path."""
    rng = random.Random(args.seed)
    await enable(admin, ours.automation, theirs.automation)
    # The first arrival: the display goes from idle to the first desktop.
    first = await switch(session, url, screen, people[0], people[1])
    if first is None:
        shot = Path(args.keep or tempfile.gettempdir()) / "displays-first.png"
        screen.grab().save(shot)
        raise RuntimeError(f"the first desktop never reached the screen (see {shot})")
    here, away = people
    per_round = max(1, args.switches // args.rounds)
    for round_number in range(args.rounds):
        for path in (ours, theirs) if round_number % 2 == 0 else (theirs, ours):
            other = theirs if path is ours else ours
            await enable(admin, path.automation, other.automation)
            if path is theirs:
                await admin.call_service(
                    "input_text",
                    "set_value",
                    {"entity_id": "input_text.bench_shown", "value": here.project},
                )
            for _ in range(per_round):
                here, away = away, here
                if path is theirs:  # a random phase of the polling cycle
                    phase = rng.uniform(0, POLL_PERIOD)
                    await asyncio.sleep((phase - time.time()) % POLL_PERIOD)
                else:
                    await asyncio.sleep(rng.uniform(0.2, 0.6))
                seconds = await switch(session, url, screen, here, away)
                if seconds is None:
                    path.failures += 1
                    # Put the screen right before going on: the next switch starts clean.
                    await asyncio.to_thread(
                        wait_for_colour, screen, here.colour, time.monotonic(), SWITCH_TIMEOUT
                    )
                else:
                    path.times.append(seconds)
            print(
                f"  round {round_number + 1}/{args.rounds} {path.label}: "
                f"{len(path.times)} switches, {path.failures} failed",
                flush=True,
            )


def ratio(ours: float, theirs: float) -> str:
    """Return theirs / ours (how many times faster Makerhub is) as text."""
    return "n/a" if ours <= 0 else f"{theirs / ours:.1f}x"


def print_table(paths: list[Contender], notes: dict[str, str]) -> None:
    """Print the table and the targets."""
    ours, theirs = paths
    rows = [
        ("switches timed", float(len(ours.times)), float(len(theirs.times)), ""),
        ("switches failed (no desktop in 60 s)", float(ours.failures), float(theirs.failures), ""),
    ]
    for label, fraction in (("p50 s", 0.5), ("p95 s", 0.95), ("max s", 1.0)):
        a, b = percentile(ours.times, fraction), percentile(theirs.times, fraction)
        rows.append((f"report → desktop on screen, {label}", a, b, ratio(a, b)))
    a, b = min(ours.times, default=0.0), min(theirs.times, default=0.0)
    rows.append(("report → desktop on screen, min s", a, b, ratio(a, b)))
    width = max(len(r[0]) for r in rows)
    print()
    print(f"Makerhub path: {notes.get('makerhub path')}; baseline: {theirs.label}")
    print(f"{'metric':<{width}}  {'makerhub':>9}  {'baseline':>9}  {'faster':>7}")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 9}  {'-' * 7}")
    for label, a, b, faster in rows:
        print(f"{label:<{width}}  {a:>9.2f}  {b:>9.2f}  {faster:>7}")
    p50, p95 = percentile(ours.times, 0.5), percentile(ours.times, 0.95)
    base50 = percentile(theirs.times, 0.5)
    enough = len(ours.times) >= 50 and len(theirs.times) >= 50
    print()
    print(
        f"Target p95 <= 2 s end to end: {'met' if p95 <= 2.0 and enough else 'NOT met'} "
        f"({p95:.2f} s over {len(ours.times)} switches)"
    )
    faster = base50 / p50 if p50 > 0 else float("nan")
    print(
        f"Target >= 3x faster than the baseline at p50: "
        f"{'met' if faster >= 3.0 and enough else 'NOT met'} ({faster:.1f}x)"
    )
    print(f"Makerhub errors in Home Assistant's log: {notes.get('hass problems')}")


def has_show_on_display() -> bool:
    """Return whether this checkout has the ``makerhub.show_on_display`` action."""
    services = REPO / "custom_components" / "makerhub" / "services.yaml"
    return "show_on_display:" in services.read_text() and BLUEPRINT.exists()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=50, help="timed switches per path")
    parser.add_argument("--rounds", type=int, default=5, help="turns of each path")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--makerhub",
        choices=("auto", "blueprint", "event"),
        default="auto",
        help="the Makerhub path: the blueprint with show_on_display, or the stand-in",
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder here")
    args = parser.parse_args(argv)
    if args.makerhub == "auto":
        args.makerhub = "blueprint" if has_show_on_display() else "event"
    if os.geteuid() != 0:
        parser.error("run as root: the desktops service makes a user per desktop")
    work = Path(tempfile.mkdtemp(prefix="makerhub-bench-displays-", dir=args.keep))
    work.chmod(0o711)
    print(
        f"Displays: {args.switches} switches per path in {args.rounds} rounds; "
        f"Makerhub path: {args.makerhub}; work folder {work}",
        flush=True,
    )
    try:
        paths, notes = asyncio.run(run(args, work))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print_table(paths, notes)


if __name__ == "__main__":
    main()
