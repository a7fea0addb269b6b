"""Benchmark: Makerhub's health tracking against one template sensor per unit.

N units report their state every P seconds (real time, spread evenly) into a real Home
Assistant core running in this process. Each report does what a unit's report does in
Home Assistant: a state write of the unit's *last report* entity, and the unit runtime's
``STATE`` notification (what Makerhub's entities and health listen to). On top of that
stream, in the same run, three set-ups are measured one after the other:

* **stream only**: nobody watches (the cost both trackers share, subtracted below);
* **Makerhub**: the health feature's ``HubHealth`` (the real one: every unit an item
  depending on the broker, period P, grace G; one timer at the monitor's next deadline);
* **baseline**: the do-it-yourself approach, one template binary sensor per unit,
  ``{{ now() - states.sensor.unit_N_last_report.last_updated > P + G }}``, tracked the
  way Home Assistant's template entities track theirs (``async_track_template_result``).

Measured for each tracker: Home Assistant's CPU for tracking (process CPU over the
window minus the stream-only run's), the time from a unit's missed heartbeat plus its
grace to the tracker saying so (the problem entity's write for Makerhub, the template's
result for the baseline), and how many alerts a broker outage of every unit raises (the
MQTT connection dropped and every report stopped).

Run: ``scripts/bench health [--units 1000 --period 2 --grace 2 --seconds 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator, Mapping
import contextlib
from dataclasses import dataclass, field
import math
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components.mqtt.const import MQTT_CONNECTION_STATE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import TrackTemplate, async_track_template_result
from homeassistant.helpers.template import Template
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.core.health import HealthStatus
from custom_components.makerhub.core.protocol import UnitTopics
from custom_components.makerhub.core.schema import parse_makerhub_json
from custom_components.makerhub.core.unit import STATE, UnitIdentity, UnitRuntime
from custom_components.makerhub.health.manager import (
    CONF_HEALTH_TIMING,
    EVENT_HEALTH_PROBLEM,
    HubHealth,
    unit_item_id,
)

SCHEMA = parse_makerhub_json({"name": "Bench unit", "outputs": {"t": {"type": "float"}}})


@dataclass
class FakeHub:
    """The units' side health reads (``units.hub.MakerhubHub``'s protocol)."""

    units: dict[str, UnitRuntime]
    subentry_ids: dict[str, str] = field(default_factory=dict)
    restarts: int = 0

    def device_info(self, unit: UnitRuntime) -> DeviceInfo:
        """Return a unit's device."""
        return DeviceInfo(identifiers={(DOMAIN, unit.uid)}, name=unit.identity.name)

    async def async_send_command(self, unit: UnitRuntime, cmd: str, **fields: Any) -> None:
        """Count restart commands."""
        self.restarts += 1


def make_units(count: int) -> dict[str, UnitRuntime]:
    """Return ``count`` online units."""
    units = {}
    for n in range(count):
        uid = f"{n:012x}"
        units[uid] = UnitRuntime(
            identity=UnitIdentity(uid, f"Unit {n}", None, None, SCHEMA),
            topics=UnitTopics("makerhub", uid),
            watch_started=0.0,
            status="online",
            available=True,
        )
    return units


def last_report_entity(n: int) -> str:
    """Return the entity a unit's reports are written to."""
    return f"sensor.unit_{n}_last_report"


class Stream:
    """Every unit reports every ``period`` seconds, spread evenly over the period."""

    def __init__(self, hass: HomeAssistant, units: Mapping[str, UnitRuntime], period: float):
        """Prepare; :meth:`run` reports until stopped."""
        self.hass = hass
        self.units = list(units.values())
        self.period = period
        self.silent: set[int] = set()
        """Units that stopped reporting."""
        self.last_report: dict[int, float] = {}
        self.stopped = False

    def report(self, n: int) -> None:
        """One state report of unit ``n``."""
        now = time.time()
        self.last_report[n] = now
        self.hass.states.async_set(last_report_entity(n), str(now))
        self.units[n].notify(STATE)

    async def run(self) -> None:
        """Report until :attr:`stopped`."""
        count = len(self.units)
        slot = self.period / count
        start = time.monotonic()
        tick = 0
        while not self.stopped:
            due = start + tick * slot
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            n = tick % count
            if n not in self.silent:
                self.report(n)
            tick += 1


@dataclass
class Result:
    """What one set-up measured."""

    name: str
    cpu: float = math.nan
    latency: float = math.nan
    alerts: int = 0
    detected: dict[int, float] = field(default_factory=dict)
    """When the tracker flagged each unit (wall clock)."""
    alerts_seen: list[Any] = field(default_factory=list)


@contextlib.contextmanager
def mqtt_connected() -> Iterator[None]:
    """Let health read Home Assistant's MQTT connection as up (no MQTT client here)."""
    with patch("homeassistant.components.mqtt.is_connected", return_value=True):
        yield


async def measure(
    name: str,
    units_count: int,
    period: float,
    grace: float,
    seconds: float,
    tracker: Callable[[HomeAssistant, dict[str, UnitRuntime], Result], Callable[[], None]] | None,
) -> Result:
    """Run the stream for ``seconds`` with ``tracker`` (None: stream only); then silence
    one unit, then all (a broker outage), and count what the tracker says."""
    result = Result(name)
    async with async_test_home_assistant() as hass:
        units = make_units(units_count)
        stream = Stream(hass, units, period)
        for n in range(units_count):
            stream.report(n)
        stop = tracker(hass, units, result) if tracker is not None else None
        task = hass.async_create_background_task(stream.run(), "stream")
        await asyncio.sleep(period + grace)  # settled: every unit reported since
        cpu = time.process_time()
        wall = time.monotonic()
        await asyncio.sleep(seconds)
        result.cpu = (time.process_time() - cpu) / (time.monotonic() - wall)
        if tracker is not None:
            result.latency = await one_silent_unit(hass, stream, result, period, grace)
            result.alerts = await outage(hass, stream, result, period, grace)
        stream.stopped = True
        await task
        if stop is not None:
            stop()
        await hass.async_stop(force=True)
    return result


async def one_silent_unit(
    hass: HomeAssistant, stream: Stream, result: Result, period: float, grace: float
) -> float:
    """Silence unit 7; return seconds from its deadline (last report + period + grace)
    until the tracker flagged it."""
    detected = result.detected
    detected.clear()
    stream.silent.add(7)
    await asyncio.sleep(0)
    deadline = 120.0
    started = time.monotonic()
    while 7 not in detected and time.monotonic() - started < deadline:
        await asyncio.sleep(0.05)
    if 7 not in detected:
        return math.inf
    return detected[7] - (stream.last_report[7] + period + grace)


async def outage(
    hass: HomeAssistant, stream: Stream, result: Result, period: float, grace: float
) -> int:
    """Stop every report and drop the MQTT connection; return the alerts raised over the
    next period + grace + 65 s (a template with ``now()`` renders once a minute)."""
    alerts = result.alerts_seen
    alerts.clear()
    stream.silent.update(range(len(stream.units)))
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, False)
    await asyncio.sleep(period + grace + 65)
    return len(alerts)


def makerhub(period: float, grace: float) -> Callable[..., Callable[[], None]]:
    """Return the set-up of Makerhub's health tracking."""

    def setup(
        hass: HomeAssistant, units: dict[str, UnitRuntime], result: Result
    ) -> Callable[[], None]:
        timing = {unit_item_id(uid): {"period": period, "grace": grace} for uid in units}
        entry = MockConfigEntry(domain=DOMAIN, options={CONF_HEALTH_TIMING: timing})
        entry.add_to_hass(hass)
        hub = FakeHub(units)
        health = HubHealth(
            hass,
            entry,
            hub,
            telemetry_connected=None,
            telemetry_coordinator=None,
            firmware=None,
            firmware_env=None,
            desktops=None,
        )

        async def start() -> None:
            with mqtt_connected():  # async_start reads it after loading its store
                await health.async_start()

        hass.async_create_task(start(), eager_start=True)
        detected = result.detected
        index = {unit_item_id(uid): n for n, uid in enumerate(units)}
        alerts = result.alerts_seen

        @callback
        def listen_item(item_id: str) -> Callable[[], None]:
            @callback
            def on_change() -> None:  # what the problem entity's write does
                item = health.health(item_id)
                if item is not None and item.status is HealthStatus.PROBLEM:
                    detected.setdefault(index[item_id], time.time())

            return on_change

        for uid in units:
            health.add_item_listener(unit_item_id(uid), listen_item(unit_item_id(uid)))
        undo = hass.bus.async_listen(EVENT_HEALTH_PROBLEM, alerts.append)
        return lambda: (undo(), health.async_stop())

    return setup


def templates(period: float, grace: float) -> Callable[..., Callable[[], None]]:
    """Return the set-up of one template binary sensor per unit."""

    def setup(
        hass: HomeAssistant, units: dict[str, UnitRuntime], result: Result
    ) -> Callable[[], None]:
        detected = result.detected
        alerts = result.alerts_seen
        undo = []
        for n in range(len(units)):
            template = Template(
                "{{ (now() - states." + last_report_entity(n) + ".last_updated)"
                f".total_seconds() > {period + grace} }}}}",
                hass,
            )
            state = {"on": False}

            @callback
            def on_result(
                event: Any, updates: Any, n: int = n, state: dict[str, bool] = state
            ) -> None:
                value = updates[-1].result
                is_on = value is True or str(value) == "True"
                if is_on and not state["on"]:
                    detected.setdefault(n, time.time())
                    alerts.append(n)  # an automation on each sensor turning on
                state["on"] = is_on

            info = async_track_template_result(hass, [TrackTemplate(template, None)], on_result)
            info.async_refresh()
            undo.append(info.async_remove)
        return lambda: [remove() for remove in undo] and None

    return setup


async def main_async(args: argparse.Namespace) -> list[Result]:
    """Run the three set-ups."""
    results = []
    for name, tracker in (
        ("stream only", None),
        ("Makerhub health", makerhub(args.period, args.grace)),
        ("template sensor per unit", templates(args.period, args.grace)),
    ):
        print(f"… {name}", flush=True)
        results.append(
            await measure(name, args.units, args.period, args.grace, args.seconds, tracker)
        )
    return results


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--period", type=float, default=2.0, help="seconds between reports")
    parser.add_argument("--grace", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="CPU window")
    args = parser.parse_args()
    stream, ours, baseline = asyncio.run(main_async(args))
    ours_cpu = ours.cpu - stream.cpu
    base_cpu = baseline.cpu - stream.cpu
    print()
    print(
        f"{args.units} units reporting every {args.period:g} s (grace {args.grace:g} s), "
        f"CPU over {args.seconds:g} s"
    )
    print(f"{'':28} {'tracking CPU':>14} {'detection late by':>18} {'alerts, broker down':>20}")
    print(f"{'stream only (subtracted)':28} {stream.cpu * 100:13.2f}% {'':>18} {'':>20}")
    for result, cpu in ((ours, ours_cpu), (baseline, base_cpu)):
        print(f"{result.name:28} {cpu * 100:13.2f}% {result.latency:17.2f}s {result.alerts:>20}")
    ratio = ours_cpu / base_cpu if base_cpu > 0 else math.nan
    print()
    print(f"Makerhub / baseline tracking CPU: {ratio:.3f} (target ≤ 0.1)")
    print(f"Makerhub detection within grace + 1 s: {ours.latency <= 1.0}")
    print(f"Makerhub alerts for the broker outage: {ours.alerts} (target 1)")


if __name__ == "__main__":
    main()
