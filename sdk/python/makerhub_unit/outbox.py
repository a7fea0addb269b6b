"""Outputs waiting for the broker: QoS 1 values published while the unit is offline."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from .values import Value


@dataclass(frozen=True, slots=True)
class Pending:
    """One output message waiting to be sent."""

    name: str | None
    """The output's name; None for a message that is not an output (an event)."""
    topic: str
    payload: str
    qos: int
    value: Value | None = None
    """The output's value as the program gave it, for the unit's ``last_values``."""


class Outbox:
    """A bounded FIFO that drops its oldest message when full and counts what it dropped."""

    def __init__(self, limit: int) -> None:
        """Keep at most ``limit`` messages."""
        if limit < 1:
            raise ValueError("the outbox limit must be at least 1")
        self._messages: deque[Pending] = deque()
        self.limit = limit
        self.dropped = 0

    def __len__(self) -> int:
        """Return how many messages wait."""
        return len(self._messages)

    def put(self, message: Pending) -> None:
        """Queue a message, dropping the oldest one when the outbox is full."""
        if len(self._messages) >= self.limit:
            self._messages.popleft()
            self.dropped += 1
        self._messages.append(message)

    def drain(self) -> Iterator[Pending]:
        """Yield the waiting messages oldest first, removing each as it is taken."""
        while self._messages:
            yield self._messages.popleft()

    def clear(self) -> int:
        """Forget every waiting message and return how many there were."""
        count = len(self._messages)
        self._messages.clear()
        return count
