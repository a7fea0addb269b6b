"""One adopted unit at run time: its schema, latest values, state and availability."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from .protocol import STATUS_OFFLINE, STATUS_ONLINE, LogRecord, UnitState, UnitTopics
from .schema import Direction, UnitSchema, Value

type Listener = Callable[[], None]
type ListenerKey = str | tuple[Direction, str]

AVAILABILITY: Final = "availability"
STATE: Final = "state"

LOG_BUFFER = 50
"""How many of a unit's recent log records are kept for diagnostics."""


@dataclass(frozen=True, slots=True)
class UnitIdentity:
    """What the hub stores about a unit (the rest is learned from the wire)."""

    uid: str
    name: str
    model: str | None
    announce_id: str | None
    schema: UnitSchema


@dataclass
class UnitRuntime:
    """Live state of one unit, fed by the hub's MQTT callbacks, read by entities.

    Entities register listeners: per variable for values, and per unit for state and
    availability (see :meth:`add_listener`). Listeners are plain callables, so this class
    stays free of Home Assistant.
    """

    identity: UnitIdentity
    topics: UnitTopics
    watch_started: float
    """Monotonic time the hub began watching; the offline timeout counts from here."""
    status: str | None = None
    state: UnitState | None = None
    last_state_at: float | None = None
    available: bool = False
    outputs: dict[str, Value] = field(default_factory=dict)
    inputs: dict[str, Value] = field(default_factory=dict)
    _logs: deque[LogRecord] | None = None
    """Created with the first record: most units never log, and an empty deque costs 0.6 KiB."""
    _listeners: dict[ListenerKey, list[Listener]] = field(default_factory=dict)

    @property
    def uid(self) -> str:
        """Return the hub-assigned unit id."""
        return self.identity.uid

    @property
    def logs(self) -> Sequence[LogRecord]:
        """Return the unit's recent log records, oldest first (at most ``LOG_BUFFER``)."""
        return self._logs if self._logs is not None else ()

    def add_logs(self, records: Iterable[LogRecord]) -> None:
        """Keep ``records``, dropping the oldest beyond ``LOG_BUFFER``."""
        if self._logs is None:
            self._logs = deque(maxlen=LOG_BUFFER)
        self._logs.extend(records)

    def compute_available(self, now: float, timeout: float) -> bool:
        """Return whether the unit counts as reachable at monotonic time ``now``.

        Unavailable when its status is ``offline``, or when no state arrived within
        ``timeout`` (counted from when the hub started watching, if none arrived yet).
        A unit with no status yet is available only once a state has arrived.
        """
        if self.status == STATUS_OFFLINE:
            return False
        if self.status != STATUS_ONLINE and self.last_state_at is None:
            return False
        since = self.last_state_at if self.last_state_at is not None else self.watch_started
        return now - since <= timeout

    def refresh_availability(self, now: float, timeout: float) -> bool:
        """Recompute availability; notify and return True when it changed."""
        available = self.compute_available(now, timeout)
        if available == self.available:
            return False
        self.available = available
        self.notify(AVAILABILITY)
        return True

    def add_listener(self, key: ListenerKey, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on changes of ``key``; return the function that stops it.

        Keys: ``AVAILABILITY``, ``STATE``, or ``(direction, name)`` of a variable.
        """
        listeners = self._listeners.setdefault(key, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    def notify(self, key: ListenerKey) -> None:
        """Call the listeners of ``key``."""
        for listener in self._listeners.get(key, ()):
            listener()

    def set_value(self, direction: Direction, name: str, value: Value) -> None:
        """Store a decoded value and notify the entities showing it."""
        (self.outputs if direction is Direction.OUTPUT else self.inputs)[name] = value
        for listener in self._listeners.get((direction, name), ()):
            listener()
