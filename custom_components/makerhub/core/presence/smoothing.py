"""Smoothing of noisy readings: time-aware exponential moving averages per track."""

from __future__ import annotations

import math


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
    """

    __slots__ = ("count", "level", "mean", "updated")

    def __init__(self, level: float, at: float) -> None:
        """Start a track at its first sample."""
        self.level = level
        self.mean = level
        self.updated = at
        self.count = 1

    def add(self, level: float, at: float, tau: float, tau_mean: float) -> None:
        """Blend in a sample taken at time ``at`` (not before the previous one)."""
        self.count += 1
        dt = at - self.updated
        self.level += _weight(dt, tau, self.count) * (level - self.level)
        self.mean += _weight(dt, tau_mean, self.count) * (level - self.mean)
        self.updated = at

    def reset(self, level: float, at: float) -> None:
        """Restart the track at a sample (after it went stale)."""
        self.level = level
        self.mean = level
        self.updated = at
        self.count = 1
