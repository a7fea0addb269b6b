"""Fleet rollouts: update many units in batches, stop after too many failures.

Pure Python (asyncio, no Home Assistant imports). A :class:`Rollout` takes the units to
update and a function that updates one unit and returns how it went; it runs them in
batches of ``batch_size`` (all at once when 0), waits ``pause`` between batches, and stops
starting new updates once ``max_failures`` units failed. Units that are offline are
queued: they are tried again whenever a batch finishes (and at the end, until
``offline_wait`` ran out) — a deep-sleeping unit is updated when it wakes. An optional
window (``window_start``/``window_end``, local wall-clock times, possibly across
midnight) holds new batches outside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
import itertools
import logging
from typing import Final

_LOGGER = logging.getLogger(__name__)
_IDS = itertools.count(1)
POLL: Final = 1.0
"""Seconds between checks for queued offline units and the schedule window."""


class UpdateResult(StrEnum):
    """How one unit's update ended."""

    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not started: the rollout stopped first, or the unit stayed offline."""


class RolloutState(StrEnum):
    """Where a rollout is."""

    WAITING = "waiting"
    """Outside its window."""
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    """Too many failures (or cancelled): no new updates were started."""


@dataclass(frozen=True, slots=True)
class RolloutPlan:
    """What to update and how carefully."""

    units: tuple[str, ...]
    batch_size: int = 0
    """Units updated at the same time; 0 = all at once."""
    pause: float = 0.0
    """Seconds between batches."""
    max_failures: int = 0
    """Failures after which no new update starts; 0 = never stop."""
    window_start: time | None = None
    window_end: time | None = None
    offline_wait: float = 24 * 3600.0
    """How long queued offline units are waited for once everything else is done."""

    def __post_init__(self) -> None:
        """Refuse impossible plans."""
        if self.batch_size < 0 or self.pause < 0 or self.max_failures < 0:
            raise ValueError("batch size, pause and maximum failures must not be negative")
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError("give both ends of the window, or neither")
        if len(set(self.units)) != len(self.units):
            raise ValueError("a unit is listed twice")


def in_window(now: time, start: time | None, end: time | None) -> bool:
    """Return whether ``now`` is within the window (always, without one)."""
    if start is None or end is None:
        return True
    if start <= end:
        return start <= now < end
    return now >= start or now < end  # across midnight


@dataclass
class Rollout:
    """One rollout, its progress and its results."""

    plan: RolloutPlan
    update: Callable[[str], Awaitable[UpdateResult]]
    """Update one unit; return SUCCESS or FAILED (exceptions count as FAILED)."""
    is_online: Callable[[str], bool]
    now: Callable[[], datetime] = datetime.now
    on_change: Callable[[Rollout], None] | None = None
    id: int = field(default_factory=lambda: next(_IDS))
    state: RolloutState = RolloutState.WAITING
    results: dict[str, UpdateResult] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    queued: list[str] = field(default_factory=list)
    """Offline units waiting to come back."""
    in_progress: set[str] = field(default_factory=set)
    _cancelled: bool = False

    @property
    def failures(self) -> int:
        """Return how many units failed."""
        return sum(result is UpdateResult.FAILED for result in self.results.values())

    @property
    def done(self) -> int:
        """Return how many units finished (either way)."""
        return len(self.results)

    def cancel(self) -> None:
        """Start no new updates; the running ones finish."""
        self._cancelled = True

    def summary(self) -> dict[str, object]:
        """Return the progress as plain data (for entities and events)."""
        return {
            "rollout": self.id,
            "state": self.state.value,
            "total": len(self.plan.units),
            "done": self.done,
            "succeeded": sum(r is UpdateResult.SUCCESS for r in self.results.values()),
            "failed": self.failures,
            "skipped": sum(r is UpdateResult.SKIPPED for r in self.results.values()),
            "in_progress": sorted(self.in_progress),
            "queued": list(self.queued),
            "errors": dict(self.errors),
        }

    async def run(self) -> RolloutState:
        """Run the plan to its end; return how it ended."""
        pending = list(self.plan.units)
        size = self.plan.batch_size or max(len(pending), 1)
        first = True
        while pending or self.queued:
            if self._stopping():
                break
            await self._wait_for_window()
            if self._stopping():
                break
            self._set(RolloutState.RUNNING)
            # Units that came back join the next batch before the rest.
            back = [uid for uid in self.queued if self.is_online(uid)]
            self.queued = [uid for uid in self.queued if uid not in back]
            candidates = back + pending
            batch: list[str] = []
            while candidates and len(batch) < size:
                uid = candidates.pop(0)
                if uid in pending:
                    pending.remove(uid)
                if self.is_online(uid):
                    batch.append(uid)
                else:
                    self.queued.append(uid)
            if not batch:
                if not pending and not await self._wait_for_queued():
                    break
                continue
            if not first and self.plan.pause:
                await asyncio.sleep(self.plan.pause)
            first = False
            await self._run_batch(batch)
        for uid in [*pending, *self.queued]:
            self.results.setdefault(uid, UpdateResult.SKIPPED)
        self.queued = []
        self._set(RolloutState.STOPPED if self._stopping() else RolloutState.FINISHED)
        return self.state

    def _stopping(self) -> bool:
        limit = self.plan.max_failures
        return self._cancelled or (limit > 0 and self.failures >= limit)

    async def _run_batch(self, batch: Iterable[str]) -> None:
        async def one(uid: str) -> None:
            self.in_progress.add(uid)
            self._changed()
            try:
                result = await self.update(uid)
            except Exception as err:  # noqa: BLE001  (one unit's failure is a result)
                _LOGGER.warning("Rollout %d: updating %s failed: %s", self.id, uid, err)
                self.errors[uid] = str(err) or type(err).__name__
                result = UpdateResult.FAILED
            self.in_progress.discard(uid)
            self.results[uid] = result
            self._changed()

        await asyncio.gather(*(one(uid) for uid in batch))

    async def _wait_for_window(self) -> None:
        while not in_window(self.now().time(), self.plan.window_start, self.plan.window_end):
            self._set(RolloutState.WAITING)
            if self._cancelled:
                return
            await asyncio.sleep(POLL)

    async def _wait_for_queued(self) -> bool:
        """Wait for a queued unit to come back; False when ``offline_wait`` ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.plan.offline_wait
        while loop.time() < deadline and not self._cancelled:
            if any(self.is_online(uid) for uid in self.queued):
                return True
            await asyncio.sleep(POLL)
        return False

    def _set(self, state: RolloutState) -> None:
        if self.state is not state:
            self.state = state
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)
