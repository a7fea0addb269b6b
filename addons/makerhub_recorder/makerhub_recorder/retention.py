"""What to delete, oldest first: by age, by size per camera and in total, and the floor.

Pure: :func:`plan` is given every deletable item and the free space, and answers what to
delete and why. Age and size limits apply to recordings (segments); the free-space floor
applies to everything, whatever the limits say: segments oldest first (pre-roll buffer
included), then whole time-lapse days, oldest first. A deletion for the floor is an
*early* deletion, which the service reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

DAY: Final = 86400.0


@dataclass(frozen=True, slots=True)
class Item:
    """Something that can be deleted."""

    camera: str
    key: str
    """The segment's file name, or ``<day>/<project>`` of a time-lapse."""
    end: float
    size: int
    timelapse: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    """The limits (0 or None: no limit)."""

    retention_days: dict[str, float]
    camera_max_bytes: dict[str, int]
    total_max_bytes: int
    free_floor_bytes: int


@dataclass(slots=True)
class Plan:
    """What to delete, with the reason of each."""

    deletions: list[tuple[Item, str]] = field(default_factory=list)
    floor_unreachable: bool = False
    """Everything deletable is planned and the floor is still not kept."""

    @property
    def early(self) -> list[Item]:
        """The items deleted for the free-space floor."""
        return [item for item, reason in self.deletions if reason == "floor"]


def plan(items: Iterable[Item], policy: Policy, now: float, free_bytes: int) -> Plan:
    """Decide the deletions (see the module's docstring)."""
    result = Plan()
    remaining = sorted(items, key=lambda item: (item.timelapse, item.end))
    segments = [item for item in remaining if not item.timelapse]

    def delete(item: Item, reason: str) -> None:
        result.deletions.append((item, reason))
        remaining.remove(item)

    for item in list(segments):
        days = policy.retention_days.get(item.camera) or 0
        if days and item.end < now - days * DAY:
            delete(item, "age")
    by_camera: dict[str, list[Item]] = defaultdict(list)
    for item in remaining:
        if not item.timelapse:
            by_camera[item.camera].append(item)
    for camera, owned in by_camera.items():
        limit = policy.camera_max_bytes.get(camera) or 0
        used = sum(item.size for item in owned)
        for item in owned:
            if not limit or used <= limit:
                break
            delete(item, "camera_size")
            used -= item.size
    if policy.total_max_bytes:
        used = sum(item.size for item in remaining if not item.timelapse)
        for item in [item for item in remaining if not item.timelapse]:
            if used <= policy.total_max_bytes:
                break
            delete(item, "total_size")
            used -= item.size
    free = free_bytes + sum(item.size for item, _ in result.deletions)
    for item in list(remaining):
        if free >= policy.free_floor_bytes:
            break
        delete(item, "floor")
        free += item.size
    result.floor_unreachable = free < policy.free_floor_bytes
    return result
