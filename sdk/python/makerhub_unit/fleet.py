"""A fleet of simulated units in one process, all driven by one asyncio loop.

Each simulated unit is a real self-describing unit: its own MQTT connection, its own Last
Will, the library's own :class:`~makerhub_unit.session.UnitSession` (announce, adoption,
``schema.json`` kept in the state directory). Only the network thread is shared: one loop
watches every socket through paho's external-loop API, and one ticker produces every
unit's periodic outputs, so a thousand units need no thousand threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
import contextlib
from dataclasses import dataclass, field
import json
import logging
from pathlib import Path
import random
import threading
import time
from typing import Any, Final

from . import __version__
from .env import BrokerSettings
from .link import LinkPool
from .session import SessionOptions, UnitSession
from .sim_kinds import KINDS, SimDevice
from .unit import build_announcing_session

_LOGGER = logging.getLogger(__name__)
TICK: Final = 0.05
"""Seconds between two rounds of periodic outputs."""
CONNECT_BATCH: Final = 50
"""Units connecting per loop turn at start-up, so the loop keeps serving the ones up."""


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """What to simulate and where; mirrors the ``makerhub-sim`` options."""

    host: str = "127.0.0.1"
    port: int = 1883
    prefix: str = "makerhub"
    units: int = 10
    kinds: Sequence[str] = ("thermometer", "relay", "door", "dimmer")
    rate: float = 1.0
    """Periodic output messages per second per unit."""
    state_interval: float = 30.0
    state_dir: Path = Path(".makerhub-sim")
    id_prefix: str = "sim"
    seed: int = 0
    duration: float = 0.0
    """Seconds to run; 0 runs until stopped."""
    qos: int = 0
    username: str | None = None
    password: str | None = None
    values_log: Path | None = None
    queue_limit: int = 1000
    stream_after: float = 0.0
    """Seconds the units only connect and report state before outputs start."""
    stream_seconds: float = 0.0
    """Stop publishing outputs this many seconds after they started (0 = never); units stay
    online."""

    def __post_init__(self) -> None:
        """Refuse a configuration that cannot run."""
        unknown = [kind for kind in self.kinds if kind not in KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"unknown kinds {unknown}; choose from {', '.join(KINDS)}")
        if self.stream_seconds < 0 or self.stream_after < 0:
            raise ValueError("stream_after and stream_seconds must be >= 0")
        if self.units < 0 or self.rate < 0 or self.duration < 0 or self.state_interval <= 0:
            raise ValueError("units, rate and duration must be >= 0, state_interval > 0")
        if self.qos not in (0, 1):
            raise ValueError("qos must be 0 or 1")

    def plan(self) -> list[tuple[str, str]]:
        """Return ``(announce_id, kind)`` per unit: kinds round-robin, ids ``P-kind-n``."""
        kinds = [self.kinds[index % len(self.kinds)] for index in range(self.units)]
        return [(f"{self.id_prefix}-{kind}-{n}", kind) for n, kind in enumerate(kinds, start=1)]


@dataclass(slots=True)
class SimUnit:
    """One simulated unit: its device model and its protocol session."""

    announce_id: str
    device: SimDevice
    session: UnitSession
    credit: float = 0.0
    """Periodic messages owed; the ticker pays them out as whole messages."""

    @property
    def kind(self) -> str:
        """Return the device kind."""
        return self.device.kind


@dataclass(slots=True)
class FleetSummary:
    """What a fleet run did."""

    units: int
    adopted: int
    published: int
    dropped: int
    dropped_offline: int
    dropped_queue_full: int
    queued: int
    seconds: float
    cpu_seconds: float
    per_kind: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """Return the one-line summary the command prints on exit."""
        rate = self.published / self.seconds if self.seconds > 0 else 0.0
        return (
            f"makerhub-sim: {self.units} units ({self.adopted} adopted), "
            f"{self.published} messages published ({rate:.0f}/s), {self.dropped} dropped "
            f"({self.dropped_offline} offline qos0, {self.dropped_queue_full} queue full), "
            f"{self.queued} still queued, {self.seconds:.1f} s, cpu {self.cpu_seconds:.1f} s"
        )


class Fleet:
    """Simulated units on one event loop: ``await run()``, or ``start()``/``stop()``."""

    def __init__(
        self,
        config: FleetConfig,
        on_stream_end: Callable[[FleetSummary], None] | None = None,
        on_stream_start: Callable[[], None] | None = None,
    ) -> None:
        """Build every unit; nothing connects before :meth:`run`.

        ``on_stream_start`` is called (on the fleet's loop) when outputs start, after
        ``stream_after``; ``on_stream_end`` when ``stream_seconds`` have passed since and
        outputs stop, with the summary so far; the values log is written then.
        """
        self.config = config
        self._on_stream_end = on_stream_end
        self._on_stream_start = on_stream_start
        self._cpu_started = 0.0
        broker = BrokerSettings(config.host, config.port, config.username, config.password)
        self.units: list[SimUnit] = []
        for index, (announce_id, kind) in enumerate(config.plan()):
            rng = random.Random(f"{config.seed}-{index}")  # noqa: S311  (simulation, not secrets)
            device = KINDS[kind](rng)
            session = build_announcing_session(
                announce_id,
                broker,
                schema=device.schema,
                state_dir=config.state_dir,
                name=f"Sim {kind} {index + 1}",
                model=f"makerhub-sim {kind}",
                prefix=config.prefix,
                options=SessionOptions(
                    version=f"makerhub-sim {__version__}",
                    state_interval=config.state_interval,
                    default_qos=config.qos,
                    queue_limit=config.queue_limit,
                    state_extras=device.state_extras,
                ),
                rng=rng,
            )
            device.bind(session.on_input, session.publish)
            self.units.append(SimUnit(announce_id, device, session, credit=rng.random()))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_requested = False
        self._thread: threading.Thread | None = None
        self._summary: FleetSummary | None = None
        self._error: BaseException | None = None
        self._started = threading.Event()

    # running

    async def run(self) -> FleetSummary:
        """Run until :meth:`request_stop` or the configured duration; return the summary."""
        loop = asyncio.get_running_loop()
        self._loop, self._stop = loop, asyncio.Event()
        if self._stop_requested:
            self._stop.set()
        started, cpu_started = time.monotonic(), time.process_time()
        self._cpu_started = cpu_started
        ensure_file_limit(len(self.units) + 64)
        pool = LinkPool(loop)
        ticker = loop.create_task(self._tick_outputs())
        try:
            for first in range(0, len(self.units), CONNECT_BATCH):
                for unit in self.units[first : first + CONNECT_BATCH]:
                    unit.session.start(pool)
                await asyncio.sleep(0)
            self._started.set()
            duration = self.config.duration or None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), duration)
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            await asyncio.gather(*(unit.session.stop() for unit in self.units))
        self._summary = self._summarize(
            time.monotonic() - started, time.process_time() - cpu_started
        )
        if self.config.values_log is not None:
            self.write_values_log(self.config.values_log)
        return self._summary

    def request_stop(self) -> None:
        """Ask a running fleet to stop (from any thread, or a signal handler)."""
        self._stop_requested = True
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)

    def start(self, timeout: float = 30.0) -> None:
        """Run the fleet on a thread of its own (for tests and benchmarks)."""
        if self._thread is not None:
            raise RuntimeError("the fleet was already started")
        self._thread = threading.Thread(target=self._run_thread, name="makerhub-sim", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError("the fleet did not start its units in time")
        if self._error is not None:
            raise RuntimeError("the fleet failed to start") from self._error

    def stop(self, timeout: float = 30.0) -> FleetSummary:
        """Stop a fleet started with :meth:`start`: every unit goes ``offline``."""
        thread = self._thread
        if thread is None:
            raise RuntimeError("the fleet was not started")
        self.request_stop()
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the fleet did not stop within {timeout} s")
        if self._summary is None:
            raise RuntimeError("the fleet ended without a summary") from self._error
        return self._summary

    def _run_thread(self) -> None:
        try:
            with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
                runner.run(self.run())
        except BaseException as err:  # noqa: BLE001  (handed to the thread that waits)
            self._error = err
        finally:
            self._started.set()

    async def _tick_outputs(self) -> None:
        rate = self.config.rate
        if rate <= 0:
            return
        loop = asyncio.get_running_loop()
        if self.config.stream_after:
            await asyncio.sleep(self.config.stream_after)
        if self._on_stream_start is not None:
            self._on_stream_start()
        last = started = loop.time()
        most = max(1.0, rate)  # owe at most a second of messages after a stall
        stream_end = started + self.config.stream_seconds if self.config.stream_seconds else None
        while True:
            await asyncio.sleep(TICK)
            now = loop.time()
            if stream_end is not None and now >= stream_end:
                self._end_stream(now - started)
                return
            owed, last = rate * (now - last), now
            for unit in self.units:
                session = unit.session
                if not session.established:
                    continue  # not yet online under a uid: nothing to report
                credit = min(unit.credit + owed, most)
                while credit >= 1.0:
                    credit -= 1.0
                    name, value = unit.device.next_output()
                    session.publish(name, value)
                unit.credit = credit

    def _end_stream(self, seconds: float) -> None:
        if self.config.values_log is not None:
            self.write_values_log(self.config.values_log)
        if self._on_stream_end is not None:
            self._on_stream_end(self._summarize(seconds, time.process_time() - self._cpu_started))

    # results

    @property
    def adopted(self) -> int:
        """Return how many units have a uid."""
        return sum(1 for unit in self.units if unit.session.uid is not None)

    @property
    def ready(self) -> int:
        """Return how many units are connected under their uid."""
        return sum(1 for unit in self.units if unit.session.ready)

    def _summarize(self, seconds: float, cpu_seconds: float) -> FleetSummary:
        per_kind: dict[str, int] = {}
        for unit in self.units:
            per_kind[unit.kind] = per_kind.get(unit.kind, 0) + unit.session.stats.published
        stats = [unit.session.stats for unit in self.units]
        return FleetSummary(
            units=len(self.units),
            adopted=self.adopted,
            published=sum(s.published for s in stats),
            dropped=sum(s.dropped for s in stats),
            dropped_offline=sum(s.dropped_offline for s in stats),
            dropped_queue_full=sum(s.dropped_queue_full for s in stats),
            queued=sum(len(unit.session.outbox) for unit in self.units),
            seconds=seconds,
            cpu_seconds=cpu_seconds,
            per_kind=per_kind,
        )

    def final_values(self) -> list[dict[str, Any]]:
        """Return each unit's identity and the last value of each output it published."""
        return [
            {
                "announce_id": unit.announce_id,
                "kind": unit.kind,
                "uid": unit.session.uid,
                "outputs": dict(unit.session.last_values),
            }
            for unit in self.units
        ]

    def write_values_log(self, path: Path) -> None:
        """Append one JSON line per unit with its last published outputs."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            for record in self.final_values():
                log.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def ensure_file_limit(needed: int) -> None:
    """Raise this process's open-file limit towards ``needed`` (one socket per unit)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < needed:
            _LOGGER.warning("only %d open files allowed; %d units need more", target, needed)
