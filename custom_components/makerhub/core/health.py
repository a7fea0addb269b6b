"""Fleet health: what should run against what runs, root causes, and restarts with backoff.

:class:`HealthMonitor` keeps the list of expected items (units, the broker, the telemetry
database, the services, and whatever a feature registers later), each with a heartbeat
period and a grace time and at most one parent it depends on (a unit on the broker, a
camera on the recorder service). It is driven by heartbeats, explicit up/down reports and
:meth:`HealthMonitor.tick` at :meth:`HealthMonitor.next_deadline`; time is always passed
in (seconds, any epoch), so it runs the same under a test's frozen clock.

Deadlines live in one heap with a single entry per item: a heartbeat only moves the
item's deadline, and a popped entry whose item's deadline moved is pushed again. A
heartbeat is thus O(1) and a check O(log n) per item per period, for any fleet size.

What an item is:

- **healthy**: its own last word is good and no parent is down;
- **problem**: its own heartbeat is late or it reported a failure, and no parent is
  down: it is a root cause, and a ``problem`` :class:`HealthEvent` is emitted once;
- **down because of** a parent: an ancestor is down. Its own state is still tracked but
  no event is emitted for it; when the parent recovers, its own verdict starts over
  (a fresh deadline, at least :data:`RECOVERY_SETTLE`), since a child cannot report while
  its parent is down;
- **pending**: registered, not heard from yet, within its first deadline.

A problem whose event was emitted resolves with a ``recovered`` event as soon as the
item's own state is good again, whatever its parents.

What must outlive a restart of the hub (an announced problem, when it began, the last
failure, the restarts made) is read with :meth:`HealthMonitor.snapshot` and given back with
:meth:`HealthMonitor.restore`: a unit that was already dead is not announced again.
:class:`IntervalLearner` learns how often an item really reports.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import heapq
import math
from typing import Any, Final

DEFAULT_GRACE: Final = 30.0
"""Seconds after a missed heartbeat before an item counts as failing (when none is given)."""
RESTART_DELAYS: Final = (0.0, 60.0, 300.0)
"""Seconds after a restartable item fails before each restart attempt (then it gives up)."""
RECOVERY_SETTLE: Final = 60.0
"""Seconds at least that children get to report again once their parent is back (units
reconnect to a restarted broker with their own backoff)."""
CRASH_LOOP_WINDOW: Final = 3600.0
CRASH_LOOP_FAILURES: Final = 3
"""An item that failed this many times within the window is crash-looping."""
LEARN_SAMPLES: Final = 8
"""How many of an item's latest report gaps its learned interval is the median of."""
LEARN_MIN_SAMPLES: Final = 3
LEARN_CHANGE: Final = 0.2
"""A learned interval replaces the one in use when they differ by more than this share."""
LEARNED_MIN: Final = 2.0
LEARNED_MAX: Final = 3600.0
"""Bounds (seconds) of a learned interval, whatever the reports say."""


class IntervalLearner:
    """Learn how often an item really reports from the times its reports arrive.

    The interval is the median of the last :data:`LEARN_SAMPLES` gaps (a reconnect's
    extra report or one lost report does not move it), bounded to
    [:data:`LEARNED_MIN`, :data:`LEARNED_MAX`]. :meth:`observe` returns a new interval
    only when it differs by more than :data:`LEARN_CHANGE` from ``current``.
    """

    __slots__ = ("_gaps", "_last")

    def __init__(self) -> None:
        """Start with nothing observed."""
        self._last: float | None = None
        self._gaps: deque[float] = deque(maxlen=LEARN_SAMPLES)

    def observe(self, at: float, current: float | None) -> float | None:
        """Take a report at ``at``; return the interval to use if it should change."""
        last, self._last = self._last, at
        if last is None or at <= last:
            return None
        self._gaps.append(at - last)
        learned = self.interval
        if learned is None or (
            current is not None and abs(learned - current) <= LEARN_CHANGE * current
        ):
            return None
        return learned

    @property
    def interval(self) -> float | None:
        """Return the learned interval (None: too few reports yet)."""
        gaps = self._gaps
        if len(gaps) < LEARN_MIN_SAMPLES:
            return None
        ordered = sorted(gaps)
        middle = len(ordered) // 2
        median = (
            ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        )
        return min(max(median, LEARNED_MIN), LEARNED_MAX)

    def forget(self) -> None:
        """Start over (the item was silent: the next gap is no interval)."""
        self._last = None


class HealthStatus(StrEnum):
    """What an item is, seen from the hub."""

    PENDING = "pending"
    HEALTHY = "healthy"
    PROBLEM = "problem"
    DOWN_BECAUSE = "down_because"
    """An ancestor it depends on is down (see :attr:`ItemHealth.root_cause`)."""


class HealthEventKind(StrEnum):
    """What a :class:`HealthEvent` says."""

    PROBLEM = "problem"
    RECOVERED = "recovered"


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """One thing that should run.

    ``period`` is how often it proves it is alive (a unit's state interval, a poll
    interval); None when it only reports changes (a connection that says when it drops).
    ``grace`` is how late a heartbeat may be. ``restartable``: the hub can restart it, so
    a problem gets restart requests (see :meth:`HealthMonitor.tick`).
    """

    id: str
    name: str
    kind: str
    period: float | None = None
    grace: float = DEFAULT_GRACE
    parent: str | None = None
    restartable: bool = False

    def __post_init__(self) -> None:
        """Refuse timings that would make no sense."""
        if self.period is not None and not (math.isfinite(self.period) and self.period > 0):
            raise ValueError(f"{self.id}: period must be a positive number of seconds")
        if not (math.isfinite(self.grace) and self.grace >= 0):
            raise ValueError(f"{self.id}: grace must be zero or more seconds")
        if self.parent == self.id:
            raise ValueError(f"{self.id}: an item cannot depend on itself")


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """A root cause's problem, or the end of a problem that was announced."""

    kind: HealthEventKind
    item: str
    name: str
    item_kind: str
    root_cause: str
    root_cause_name: str
    message: str
    at: float
    since: float
    """When the problem began (for ``recovered``: how long it lasted is ``at - since``)."""
    test: bool = False

    def as_dict(self) -> dict[str, object]:
        """Return the event's data as documented in ``docs/health.md``."""
        return {
            "item": self.item,
            "name": self.name,
            "kind": self.item_kind,
            "root_cause": self.root_cause,
            "root_cause_name": self.root_cause_name,
            "message": self.message,
            "at": self.at,
            "since": self.since,
            "test": self.test,
        }


@dataclass(frozen=True, slots=True)
class RestartRequest:
    """The hub should restart an item now (``attempt`` of ``limit``)."""

    item: str
    attempt: int
    limit: int


@dataclass(slots=True)
class Changes:
    """What one call changed: events to fire, restarts to try, items whose state moved."""

    events: list[HealthEvent] = field(default_factory=list)
    restarts: list[RestartRequest] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Item:
    spec: ItemSpec
    registered: float
    own_ok: bool | None = None
    """None: not heard from yet."""
    reason: str = ""
    last_seen: float | None = None
    deadline: float = math.inf
    """When the item's heartbeat is late (inf: no heartbeat expected)."""
    due: float = math.inf
    """When :meth:`HealthMonitor.tick` must look at it (deadline or next restart)."""
    queued: float = math.inf
    """The time of its entry in the heap (inf: none)."""
    status: HealthStatus = HealthStatus.PENDING
    root_cause: str | None = None
    failed_since: float | None = None
    up_since: float | None = None
    last_failure: float | None = None
    announced: bool = False
    """A problem event was emitted and no recovered event yet."""
    restarts: int = 0
    next_restart: float | None = None
    failures: deque[float] | None = None
    """When it recently failed (for crash-loop detection); made with the first failure."""
    carried: bool = False
    """Its announced problem was restored from before a restart and it has not been
    heard from since: failing again continues that problem."""


@dataclass(frozen=True, slots=True)
class ItemHealth:
    """An item's health, read by entities and diagnostics."""

    id: str
    name: str
    kind: str
    parent: str | None
    status: HealthStatus
    root_cause: str | None
    message: str
    period: float | None
    grace: float
    last_seen: float | None
    up_since: float | None
    last_failure: float | None
    failed_since: float | None
    restarts: int
    restart_limit: int
    next_restart: float | None
    crash_looping: bool

    @property
    def problem(self) -> bool:
        """Return whether the item is not working (itself or because of a parent)."""
        return self.status in (HealthStatus.PROBLEM, HealthStatus.DOWN_BECAUSE)


@dataclass(frozen=True, slots=True)
class HealthSummary:
    """How many items are healthy, and the failing ones (root causes first)."""

    healthy: int
    total: int
    root_causes: tuple[str, ...]
    down_because: tuple[str, ...]


class HealthMonitor:
    """The expected items, their dependencies and deadlines (see the module's docstring)."""

    def __init__(
        self, restart_delays: Iterable[float] = RESTART_DELAYS, settle: float = RECOVERY_SETTLE
    ) -> None:
        """Start with no items; restartable items get one attempt per delay; children get
        at least ``settle`` seconds to report once their parent is back."""
        self._settle = settle
        self._items: dict[str, _Item] = {}
        self._children: dict[str, set[str]] = {}
        self._heap: list[tuple[float, str]] = []
        self._restart_delays = tuple(restart_delays)

    # -- the list of items ---------------------------------------------------------

    def __contains__(self, item_id: object) -> bool:
        """Return whether an item is registered."""
        return item_id in self._items

    def __len__(self) -> int:
        """Return how many items are expected."""
        return len(self._items)

    def ids(self) -> list[str]:
        """Return the registered items' ids."""
        return list(self._items)

    def register(self, spec: ItemSpec, now: float) -> Changes:
        """Expect an item (again: a new spec keeps what was learned of it).

        Its parent may be registered later; until then it is not depended on.
        """
        changes = Changes()
        item = self._items.get(spec.id)
        if item is None:
            item = self._items[spec.id] = _Item(spec, registered=now)
            item.deadline = now + spec.period + spec.grace if spec.period is not None else math.inf
        else:
            old_parent = item.spec.parent
            item.spec = spec
            if old_parent != spec.parent and old_parent is not None:
                self._children.get(old_parent, set()).discard(spec.id)
            since = item.last_seen if item.last_seen is not None else item.registered
            item.deadline = since + spec.period + spec.grace if spec.period else math.inf
        if spec.parent is not None:
            self._children.setdefault(spec.parent, set()).add(spec.id)
        self._set_due(item)
        self._evaluate(item, now, changes)
        self._evaluate_children(spec.id, now, changes)
        return changes

    def set_timing(self, item_id: str, period: float | None, grace: float, now: float) -> Changes:
        """Change an item's heartbeat period and grace (a per-item setting)."""
        spec = self._items[item_id].spec
        return self.register(
            ItemSpec(spec.id, spec.name, spec.kind, period, grace, spec.parent, spec.restartable),
            now,
        )

    def unregister(self, item_id: str, now: float) -> Changes:
        """Stop expecting an item; its children no longer depend on it."""
        changes = Changes()
        if (item := self._items.pop(item_id, None)) is None:
            return changes
        if item.spec.parent is not None:
            self._children.get(item.spec.parent, set()).discard(item_id)
        self._evaluate_children(item_id, now, changes)
        changes.changed.add(item_id)
        return changes

    # -- what the items say --------------------------------------------------------

    def heartbeat(self, item_id: str, now: float) -> Changes:
        """An item proved it is alive (a state report, a successful poll)."""
        item = self._items.get(item_id)
        if item is None:
            return Changes()
        item.last_seen = now
        if item.spec.period is not None:
            item.deadline = now + item.spec.period + item.spec.grace
        if item.own_ok and item.next_restart is None:
            item.due = item.deadline  # the hot path: the heap entry is fixed up when popped
            return Changes()
        return self._set_own(item, True, "", now)

    def report(self, item_id: str, ok: bool, now: float, reason: str = "") -> Changes:
        """An item said it works or fails (a connection made or lost, a refused login)."""
        item = self._items.get(item_id)
        if item is None:
            return Changes()
        if ok:
            item.last_seen = now
            if item.spec.period is not None:
                item.deadline = now + item.spec.period + item.spec.grace
        return self._set_own(item, ok, reason, now)

    def tick(self, now: float) -> Changes:
        """Find the heartbeats that are late and the restarts that are due."""
        changes = Changes()
        heap = self._heap
        while heap and heap[0][0] <= now:
            queued, item_id = heapq.heappop(heap)
            item = self._items.get(item_id)
            if item is None or item.queued != queued:
                continue  # unregistered, or an older entry
            item.queued = math.inf
            if item.deadline <= now and item.own_ok is not False:
                late = now - (item.last_seen if item.last_seen is not None else item.registered)
                self._set_own(item, False, f"no heartbeat for {late:.0f} s", now, changes=changes)
            elif item.next_restart is not None and item.next_restart <= now:
                self._request_restart(item, now, changes)
            self._set_due(item)
        return changes

    def next_deadline(self) -> float | None:
        """Return when :meth:`tick` must run next (None: nothing is waited for)."""
        return self._heap[0][0] if self._heap else None

    def period(self, item_id: str) -> float | None:
        """Return an item's heartbeat period (KeyError for an unknown item)."""
        return self._items[item_id].spec.period

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Return what must outlive a restart, per item that ever failed."""
        saved: dict[str, dict[str, Any]] = {}
        for item_id, item in self._items.items():
            if item.last_failure is None:
                continue
            saved[item_id] = {
                "last_failure": item.last_failure,
                "failed_since": item.failed_since if item.announced else None,
                "announced": item.announced,
                "restarts": item.restarts if item.announced else 0,
            }
        return saved

    def restore(self, item_id: str, saved: Mapping[str, Any]) -> None:
        """Give a just-registered item back what :meth:`snapshot` saved of it.

        An announced problem stays announced: if the item still does not work it is the
        same problem (no new event, no new restarts, its start kept); when it works, its
        recovery is announced.
        """
        item = self._items.get(item_id)
        if item is None or item.own_ok is not None:
            return  # heard from already: what it says now counts
        if isinstance(last := saved.get("last_failure"), int | float):
            item.last_failure = float(last)
        if saved.get("announced") is True and isinstance(
            since := saved.get("failed_since"), int | float
        ):
            item.announced = True
            item.carried = True
            item.failed_since = float(since)
            restarts = saved.get("restarts")
            item.restarts = restarts if isinstance(restarts, int) and restarts >= 0 else 0

    def restart_done(self, item_id: str) -> None:
        """Forget an item's restart attempts (it was repaired by hand)."""
        if (item := self._items.get(item_id)) is not None:
            item.restarts = 0
            item.failures = None

    # -- reading ---------------------------------------------------------------------

    def health(self, item_id: str) -> ItemHealth:
        """Return an item's health (KeyError for an unknown item)."""
        item = self._items[item_id]
        spec = item.spec
        return ItemHealth(
            id=spec.id,
            name=spec.name,
            kind=spec.kind,
            parent=spec.parent,
            status=item.status,
            root_cause=item.root_cause,
            message=self._message(item),
            period=spec.period,
            grace=spec.grace,
            last_seen=item.last_seen,
            up_since=item.up_since,
            last_failure=item.last_failure,
            failed_since=item.failed_since,
            restarts=item.restarts,
            restart_limit=len(self._restart_delays) if spec.restartable else 0,
            next_restart=item.next_restart,
            crash_looping=self._crash_looping(item),
        )

    def __iter__(self) -> Iterator[ItemHealth]:
        """Return every item's health."""
        return (self.health(item_id) for item_id in list(self._items))

    def summary(self) -> HealthSummary:
        """Return how many items are healthy, and which are not."""
        roots: list[str] = []
        down: list[str] = []
        healthy = 0
        for item_id, item in self._items.items():
            if item.status is HealthStatus.HEALTHY:
                healthy += 1
            elif item.status is HealthStatus.PROBLEM:
                roots.append(item_id)
            elif item.status is HealthStatus.DOWN_BECAUSE:
                down.append(item_id)
        return HealthSummary(healthy, len(self._items), tuple(roots), tuple(down))

    def test_event(self, now: float) -> HealthEvent:
        """Return a problem event flagged as a test (for setting up alerts)."""
        return HealthEvent(
            HealthEventKind.PROBLEM,
            item="test",
            name="Makerhub test alert",
            item_kind="test",
            root_cause="test",
            root_cause_name="Makerhub test alert",
            message="This is a test alert from Makerhub: alerts reach you.",
            at=now,
            since=now,
            test=True,
        )

    # -- internals -------------------------------------------------------------------

    def _set_due(self, item: _Item) -> None:
        due = item.deadline if item.own_ok is not False else math.inf
        if item.next_restart is not None:
            due = min(due, item.next_restart)
        item.due = due
        if due < item.queued:  # a later due time waits for the earlier entry to pop
            item.queued = due
            heapq.heappush(self._heap, (due, item.spec.id))

    def _set_own(
        self, item: _Item, ok: bool, reason: str, now: float, changes: Changes | None = None
    ) -> Changes:
        changes = Changes() if changes is None else changes
        was = item.own_ok
        item.own_ok = ok
        item.reason = reason
        if ok and was is not True:
            item.up_since = now
            item.next_restart = None
            if not self._crash_looping(item):
                item.restarts = 0  # a crash-looping item keeps its backoff
        elif not ok and item.carried:
            item.up_since = None  # the problem announced before the restart goes on
        elif not ok and was is not False:
            item.last_failure = now
            item.failed_since = now
            item.up_since = None
            if item.failures is None:
                item.failures = deque(maxlen=CRASH_LOOP_FAILURES)
            item.failures.append(now)
        if ok:
            item.carried = False
        self._set_due(item)
        self._evaluate(item, now, changes)
        if was != ok:
            self._evaluate_children(item.spec.id, now, changes)
        return changes

    def _down_ancestor(self, item: _Item) -> _Item | None:
        """Return the topmost ancestor that is down itself (None: every ancestor works)."""
        found = None
        seen = {item.spec.id}
        parent_id = item.spec.parent
        while parent_id is not None and parent_id not in seen:
            parent = self._items.get(parent_id)
            if parent is None:
                break
            if parent.own_ok is False:
                found = parent
            seen.add(parent_id)
            parent_id = parent.spec.parent
        return found

    def _evaluate(self, item: _Item, now: float, changes: Changes) -> None:
        """Recompute an item's status; emit its events and restart requests."""
        ancestor = self._down_ancestor(item)
        if ancestor is not None:
            status, root = HealthStatus.DOWN_BECAUSE, ancestor.spec.id
        elif item.own_ok is False:
            status, root = HealthStatus.PROBLEM, item.spec.id
        elif item.own_ok is None:
            status, root = HealthStatus.PENDING, None
        else:
            status, root = HealthStatus.HEALTHY, None
        if (status, root) != (item.status, item.root_cause):
            changes.changed.add(item.spec.id)
        item.status, item.root_cause = status, root
        if status is HealthStatus.PROBLEM and not item.announced:
            item.announced = True
            changes.events.append(self._event(item, HealthEventKind.PROBLEM, now))
            if item.spec.restartable and item.next_restart is None:
                self._plan_restart(item, now)
                if item.next_restart is not None and item.next_restart <= now:
                    self._request_restart(item, now, changes)
                self._set_due(item)
        elif item.own_ok and item.announced:
            item.announced = False
            changes.events.append(self._event(item, HealthEventKind.RECOVERED, now))

    def _evaluate_children(self, item_id: str, now: float, changes: Changes) -> None:
        """Recompute the items below one whose own state (or presence) changed."""
        stack = list(self._children.get(item_id, ()))
        seen: set[str] = set()
        while stack:
            child_id = stack.pop()
            if child_id in seen:
                continue
            seen.add(child_id)
            child = self._items.get(child_id)
            if child is None:
                continue
            if (
                child.status is HealthStatus.DOWN_BECAUSE
                and self._down_ancestor(child) is None
                and child.own_ok is False
                and not child.announced
                and child.spec.period is not None
            ):
                # It could not report while its parent was down: judge it afresh.
                child.own_ok = None
                child.reason = ""
                child.registered = now
                child.deadline = now + max(child.spec.period + child.spec.grace, self._settle)
                self._set_due(child)
            self._evaluate(child, now, changes)
            stack.extend(self._children.get(child_id, ()))

    def _plan_restart(self, item: _Item, now: float) -> None:
        if item.restarts < len(self._restart_delays):
            item.next_restart = now + self._restart_delays[item.restarts]
        else:
            item.next_restart = None

    def _request_restart(self, item: _Item, now: float, changes: Changes) -> None:
        if item.status is not HealthStatus.PROBLEM:
            item.next_restart = None
            return
        item.restarts += 1
        changes.restarts.append(
            RestartRequest(item.spec.id, item.restarts, len(self._restart_delays))
        )
        changes.changed.add(item.spec.id)
        self._plan_restart(item, now)

    def _crash_looping(self, item: _Item) -> bool:
        failures = item.failures
        return (
            failures is not None
            and len(failures) >= CRASH_LOOP_FAILURES
            and failures[-1] - failures[0] <= CRASH_LOOP_WINDOW
        )

    def _message(self, item: _Item) -> str:
        spec = item.spec
        if item.status is HealthStatus.DOWN_BECAUSE and item.root_cause is not None:
            cause = self._items[item.root_cause]
            return f"{spec.name} is down because {cause.spec.name} is down"
        if item.status is HealthStatus.PROBLEM:
            reason = item.reason or "not working"
            if spec.period is not None and reason.startswith("no heartbeat"):
                reason += f" (expected every {spec.period:.0f} s)"
            return f"{spec.name}: {reason}"
        if item.status is HealthStatus.PENDING:
            return f"{spec.name}: waiting for its first report"
        return f"{spec.name} is healthy"

    def _event(self, item: _Item, kind: HealthEventKind, now: float) -> HealthEvent:
        root = item  # a recovery ends the item's own problem
        if kind is HealthEventKind.PROBLEM and item.root_cause is not None:
            root = self._items.get(item.root_cause, item)
        since = item.failed_since if item.failed_since is not None else now
        if kind is HealthEventKind.RECOVERED:
            message = f"{item.spec.name} is working again (down for {now - since:.0f} s)"
        else:
            message = self._message(item)
        return HealthEvent(
            kind,
            item=item.spec.id,
            name=item.spec.name,
            item_kind=item.spec.kind,
            root_cause=root.spec.id,
            root_cause_name=root.spec.name,
            message=message,
            at=now,
            since=since,
        )
