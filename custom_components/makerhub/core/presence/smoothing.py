"""Smoothing of noisy readings: time-aware exponential moving averages per track."""

from __future__ import annotations

import math
from typing import Final

TREND_WINDOW: Final = 5.0
"""Seconds over which :meth:`Track.rise` measures how the slower mean moved.

About a walk from one bench to the next (3-4 s) plus a reading: long enough to see the
whole walk, short enough that noise on a person standing still has little room to drift.
"""


def _weight(dt: float, tau: float, count: int) -> float:
    """Return the weight of a new sample ``dt`` seconds after the previous one.

    ``1 - exp(-dt / tau)`` so irregular sample rates smooth alike; at least ``1 / count``
    so the first samples are averaged plainly instead of the first one lingering.
    """
    weight = 1.0 - math.exp(-dt / tau) if tau > 0.0 else 1.0
    return max(weight, 1.0 / count)


class Track:
    """The ``log10(distance)`` of one person from one station, from one source.

    Two averages of the same samples: ``level``, lightly smoothed, drives the switch
    decisions (which integrate evidence over time themselves); ``mean``, smoothed more,
    is the distance shown and picks a station when there is no current one to compare.
    ``history`` keeps the means of the last :data:`TREND_WINDOW` seconds (and the one
    before them) for :meth:`rise`.
    """

    __slots__ = ("count", "history", "level", "mean", "updated")

    def __init__(self, level: float, at: float) -> None:
        """Start a track at its first sample."""
        self.level = level
        self.mean = level
        self.updated = at
        self.count = 1
        self.history: list[tuple[float, float]] = [(at, level)]

    def add(self, level: float, at: float, tau: float, tau_mean: float) -> None:
        """Blend in a sample taken at time ``at`` (not before the previous one)."""
        self.count += 1
        dt = at - self.updated
        self.level += _weight(dt, tau, self.count) * (level - self.level)
        self.mean += _weight(dt, tau_mean, self.count) * (level - self.mean)
        self.updated = at
        self._remember()

    def reset(self, level: float, at: float) -> None:
        """Restart the track at a sample (after it went stale)."""
        self.level = level
        self.mean = level
        self.updated = at
        self.count = 1
        self.history = [(at, level)]

    def follow(self, previous: Track) -> None:
        """Continue ``previous``'s history: this track is the next reading of the same thing."""
        self.history = previous.history
        self._remember()

    def rise(self) -> float:
        """Return how much the mean grew over the last :data:`TREND_WINDOW` seconds.

        Measured from the newest mean at least that old (or the oldest kept, for a younger
        track): positive while the person walks away from the station.
        """
        return self.mean - self.history[0][1]

    def _remember(self) -> None:
        history = self.history
        history.append((self.updated, self.mean))
        start = self.updated - TREND_WINDOW
        drop = 0
        while drop + 1 < len(history) and history[drop + 1][0] <= start:
            drop += 1
        if drop:
            del history[:drop]
