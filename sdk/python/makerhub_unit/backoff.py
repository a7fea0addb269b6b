"""Reconnect delays: exponential, capped and jittered.

Jitter matters for a fleet: after a broker restart a thousand units must not all knock at
the same instant. Each delay is drawn from the upper half of the current step
("equal jitter"), so it never collapses to zero yet spreads the fleet over time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import random


@dataclass(slots=True)
class Backoff:
    """The delays before successive reconnect attempts; ``reset()`` after a success."""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        """Return the delay before the next attempt and count the attempt."""
        step = min(self.maximum, self.initial * self.factor**self.attempts)
        self.attempts += 1
        return step / 2 + self.rng.uniform(0, step / 2)

    def reset(self) -> None:
        """Start again from the initial delay (the connection worked)."""
        self.attempts = 0
