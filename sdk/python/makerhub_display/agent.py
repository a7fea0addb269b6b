"""The display agent: a Makerhub unit whose inputs say what the kiosk shows.

Unit callbacks run on the unit's network thread; they only queue the change, and one
worker thread applies changes in order (navigating takes a while) and watches the broker
connection: offline longer than ``offline_idle_after`` seconds, it shows the idle page.

What is already on the screen is not loaded again: Home Assistant sends ``target`` then
``show`` (and the follow-me blueprint sends the same desktop again as people move), so an
address the kiosk already shows only reports ``showing`` again. Loading it again would
drop a desktop's noVNC connection and mint a new one. A noVNC page whose connection has
ended is the exception: the same order loads it again (a fresh connect token).
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
import queue
import threading
import time
from typing import Any, Protocol

from makerhub_unit import Value

from .browser import BrowserError
from .idle import reachable
from .power import PowerError, PowerMethod, switch
from .targets import Show, Sources, TargetError, hub_page, idle_url, resolve

_LOGGER = logging.getLogger(__name__)

DROPPED_SESSION = "!!document.getElementById('noVNC_connect_dlg')?.classList.contains('noVNC_open')"
"""Whether the page is noVNC with its connection ended: noVNC (autoconnecting) opens its
connect dialog only then; ``reconnect`` is off, so an ended session stays ended."""
POWER_METHODS = ["ddcci", "cec", "dpms", "overlay"]
MAKERHUB_JSON: dict[str, Any] = {
    "name": "Makerhub display",
    "platforms": ["python"],
    "inputs": {
        "show": {"type": "enum", "options": [s.value for s in Show]},
        "target": {"type": "str"},
        "screen": {"type": "bool"},
        "brightness": {"type": "int", "min": 0, "max": 100, "unit": "%"},
    },
    "outputs": {
        "showing": {"type": "enum", "options": [s.value for s in Show]},
        "screen_on": {"type": "bool"},
        "power_method": {"type": "enum", "options": POWER_METHODS},
        "touch": {"type": "str"},
    },
}


class Screen(Protocol):
    """What the agent needs from the kiosk."""

    def navigate(self, url: str) -> None: ...

    def evaluate(self, expression: str) -> Any: ...


class UnitLike(Protocol):
    """What the agent needs from its :class:`makerhub_unit.Unit`."""

    @property
    def connected(self) -> bool: ...

    def wait_ready(self, timeout: float | None = None) -> bool: ...

    def on_input(self, name: str, callback: Callable[[Value], None]) -> None: ...

    def publish(self, name: str, value: Value) -> None: ...

    def log(self, level: str, text: str) -> None: ...


@dataclass
class AgentCounters:
    """What went wrong, counted (bad targets, failed power switches, offline fallbacks)."""

    refused_targets: int = 0
    power_failures: int = 0
    offline_fallbacks: int = 0
    connection_checks: int = 0


class DisplayAgent:
    """Ties a unit's inputs to a kiosk and a power method; reports what happens."""

    def __init__(
        self,
        unit: UnitLike,
        kiosk: Screen,
        power: PowerMethod,
        sources: Sources,
        fallback_idle_url: str,
        *,
        offline_idle_after: float = 300.0,
        check_interval: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        idle_reachable: Callable[[str], bool] = reachable,
    ) -> None:
        """Wire the unit's inputs; :meth:`start` runs the worker."""
        self.unit, self.kiosk, self.power, self.sources = unit, kiosk, power, sources
        self.fallback_idle_url = fallback_idle_url
        self.offline_idle_after = offline_idle_after
        self.check_interval = check_interval
        self._monotonic, self._now, self._idle_reachable = monotonic, now, idle_reachable
        self.counters = AgentCounters()
        self.show = Show.IDLE.value
        self.target = ""
        self.showing: str | None = None
        self.url: str | None = None
        self._offline_since: float | None = None
        self._ready = False
        self._outputs: dict[str, Value] = {}
        """The last value of each output, sent again whenever the unit is (re)adopted."""
        self._changes: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        for name, apply in (
            ("show", self._apply_show),
            ("target", self._apply_target),
            ("screen", self._apply_screen),
            ("brightness", self._apply_brightness),
        ):
            unit.on_input(name, self._queued(apply))

    def start(self) -> None:
        """Show idle, report the power method and start the worker."""
        self._changes.put(self._show_now)
        self._changes.put(lambda: self._publish("power_method", self.power.name))
        self._thread = threading.Thread(target=self._work, name="makerhub-display", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the worker (the kiosk keeps what it shows)."""
        self._changes.put(None)
        if self._thread is not None:
            self._thread.join(30)

    def touched(self) -> None:
        """Report input activity on the screen (the kiosk calls it, from its reader thread)."""
        stamp = self._now().isoformat(timespec="seconds")
        self._changes.put(lambda: self._publish("touch", stamp))

    # changes

    def _queued(self, apply: Callable[[Value], None]) -> Callable[[Value], None]:
        return lambda value: self._changes.put(lambda: apply(value))

    def _apply_show(self, value: Value) -> None:
        self.show = str(value)
        self._show_now()

    def _apply_target(self, value: Value) -> None:
        self.target = str(value)
        page = hub_page(self.target)
        if page is not None and page.value != self.show:
            return  # Home Assistant's page for another show: the show input follows
        if self.show != Show.IDLE.value or page is Show.IDLE:
            self._show_now()

    def _show_now(self, show: str | None = None) -> None:
        show = show or self.show
        try:
            url = resolve(show, self.target, self.sources)
        except TargetError as err:
            self.counters.refused_targets += 1
            _LOGGER.warning("not shown: %s", err)
            self._log("error", f"not shown: {err}")
            return
        if url is None:
            ha_idle = idle_url(self.sources, self.target if self.show == Show.IDLE.value else "")
            url = ha_idle if ha_idle and self._idle_reachable(ha_idle) else self.fallback_idle_url
        if url == self.url and show == self.showing and not self._session_dropped():
            self._publish("showing", show)  # already on the screen: not loaded again
            return
        try:
            self.kiosk.navigate(url)
        except BrowserError as err:
            _LOGGER.warning("showing %s failed: %s", show, err)
            self._log("error", f"showing {show} failed: {err}")
            return
        self.url = url
        self.showing = show
        self._publish("showing", show)

    def _session_dropped(self) -> bool:
        try:
            return bool(self.kiosk.evaluate(DROPPED_SESSION))
        except BrowserError:
            return True  # the page cannot say: loading it again is the safe side

    def _apply_screen(self, value: Value) -> None:
        try:
            state = switch(self.power, bool(value))
        except (PowerError, BrowserError) as err:
            self.counters.power_failures += 1
            self._log("error", f"screen {'on' if value else 'off'} failed: {err}")
            return
        if state != bool(value):  # the tool said yes, the screen did not follow: say so
            self.counters.power_failures += 1
            self._log(
                "error",
                f"screen {'on' if value else 'off'}: {self.power.name} switched it, the screen"
                f" still reads {'on' if state else 'off'}",
            )
        self._publish("screen_on", state)

    def _apply_brightness(self, value: Value) -> None:
        try:
            done = self.power.set_brightness(int(value))
        except PowerError as err:
            self.counters.power_failures += 1
            self._log("error", f"brightness failed: {err}")
            return
        if not done:
            self._log("warning", f"brightness: {self.power.name} cannot set it")

    # the worker

    def _work(self) -> None:
        while True:
            try:
                change = self._changes.get(timeout=self.check_interval)
            except queue.Empty:
                change = self._check_connection
            if change is None:
                return
            try:
                change()
            except Exception:
                _LOGGER.exception("display change failed")

    def _check_connection(self) -> None:
        self.counters.connection_checks += 1
        ready = self.unit.wait_ready(0)
        if ready and not self._ready:  # what was sent while offline was dropped: again
            for name, value in list(self._outputs.items()):
                self._publish(name, value)
        self._ready = ready
        if self.unit.connected:
            self._offline_since = None
            return
        now = self._monotonic()
        if self._offline_since is None:
            self._offline_since = now
        elif (
            now - self._offline_since >= self.offline_idle_after and self.showing != Show.IDLE.value
        ):
            _LOGGER.warning("offline for %.0f s: showing idle", now - self._offline_since)
            self.counters.offline_fallbacks += 1
            self._show_now(Show.IDLE.value)

    def _publish(self, name: str, value: Value) -> None:
        self._outputs[name] = value
        with contextlib.suppress(ValueError):  # an output the schema lacks: a bug, logged
            self.unit.publish(name, value)
            return
        _LOGGER.error("output %s=%r was refused", name, value)

    def _log(self, level: str, text: str) -> None:
        with contextlib.suppress(ValueError, RuntimeError):
            self.unit.log(level, text)
