"""Who may touch a unit's session right now: its network thread, or a caller's thread.

A :class:`~makerhub_unit.Unit` runs its session on a network thread. Handing each output
over to that thread (``call_soon_threadsafe``) costs a thread wake-up per value (tens of
microseconds on a small machine), a large part of what the library added to a link between
two units. The gate lets a caller's thread do the work itself instead, while the network
thread cannot run:

* the network thread holds the gate's lock while it runs (callbacks, timers, tasks) and
  lets go only while it waits in ``select()`` (:class:`GateSelector`);
* a caller's thread that finds the lock free takes it and publishes itself (paho writes
  to the socket on that thread); one that finds it taken, or finds the network thread
  waiting for it, queues the call for the network thread instead and never blocks, so a
  callback that waits for another thread's publish cannot deadlock, and a thread
  publishing in a tight loop cannot keep the network thread from its socket.

Queued calls run in order, before any later direct call, so the values one thread
publishes keep their order whichever way each one goes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
import logging
import selectors
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

_LOGGER = logging.getLogger(__name__)


class SessionGate:
    """The lock a session's users share, and the calls waiting for the network thread."""

    def __init__(self, label: str = "unit") -> None:
        """Start with no network thread: the first caller may touch the session."""
        self.label = label
        self.lock = threading.Lock()
        self.owner: int | None = None
        """The network thread's id while it runs the session."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wanted = False
        """Whether the network thread waits for the lock (callers then queue their calls)."""
        self._holder: int | None = None
        """The caller's thread between :meth:`enter` and :meth:`leave`."""
        self._queue: deque[tuple[Callable[..., object], tuple[Any, ...]]] = deque()

    def on_owner(self) -> bool:
        """Return whether this is the network thread (which holds the lock while it runs)."""
        return threading.get_ident() == self.owner

    def enter(self) -> bool:
        """Take the lock if nobody holds or waits for it, run what is queued; True if taken.

        Never blocks. The caller must :meth:`leave` after its work when this returns True.
        """
        if self.wanted or not self.lock.acquire(blocking=False):
            return False
        self._holder = threading.get_ident()
        try:
            self.run_queued()
        except BaseException:
            self.leave()
            raise
        return True

    def leave(self) -> None:
        """Run what was queued meanwhile and let go of the lock taken by :meth:`enter`."""
        try:
            self.run_queued()
        finally:
            self._holder = None
            self.lock.release()

    def run_now(self, function: Callable[..., object], *args: Any) -> bool:
        """Run ``function(*args)`` here if this thread may touch the session now (it is the
        network thread, or the gate is free); return False, having run nothing, if not."""
        if self.on_owner():
            function(*args)
            return True
        if not self.enter():
            return False
        try:
            function(*args)
        finally:
            self.leave()
        return True

    def call(self, function: Callable[..., object], *args: Any) -> None:
        """Run ``function(*args)`` now if :meth:`run_now` may, else queue it (never blocks)."""
        if not self.run_now(function, *args):
            self.defer(function, *args)

    def defer(self, function: Callable[..., object], *args: Any) -> None:
        """Queue ``function(*args)`` for the network thread (or run it once nobody runs)."""
        self._queue.append((function, args))
        loop = self.loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self.run_queued)
            except RuntimeError:
                pass  # the loop has ended: the network thread is gone or on its way out
            else:
                return
        # No loop runs the session (not started yet, or ended): whoever holds the lock now
        # only holds it briefly; unless it is this very thread (a signal handler), whose
        # leave() runs the queue.
        if self._holder == threading.get_ident():
            return
        with self.lock:
            self.run_queued()

    def run_queued(self) -> None:
        """Run the queued calls, oldest first (the lock must be held)."""
        queue = self._queue
        while queue:
            function, args = queue.popleft()
            try:
                function(*args)
            except Exception:
                _LOGGER.exception("%s: a queued call failed", self.label)


class GateSelector(selectors.DefaultSelector):
    """The network thread's selector: it lets go of the gate while it waits for events."""

    def __init__(self, gate: SessionGate) -> None:
        """Release ``gate`` around every ``select()``."""
        super().__init__()
        self._gate = gate

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """Wait for events without the gate's lock; take it back before returning them."""
        gate = self._gate
        gate.lock.release()
        try:
            return super().select(timeout)
        finally:
            gate.wanted = True
            gate.lock.acquire()
            gate.wanted = False
