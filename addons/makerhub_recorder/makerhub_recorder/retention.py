"""What to delete, oldest first: by age, by size per camera and in total, and the floor.

Pure: :func:`plan` is given each camera's segments oldest first (read lazily: only as far
as deletions go, so a camera with weeks of segments costs what is deleted, not what is
kept) with their total size, the time-lapse days oldest first, and the free space, and
answers what to delete and why. Age and size limits apply to recordings (segments); the
free-space floor applies to everything, whatever the limits say: segments oldest first
across cameras (pre-roll buffer included), then whole time-lapse days, oldest first. A
deletion for the floor is an *early* deletion, which the service reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
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
    """The limits (0 or absent: no limit)."""

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


class _Queue:
    """A camera's segments, oldest first, read one at a time."""

    def __init__(self, items: Iterable[Item], used: int) -> None:
        self._items: Iterator[Item] = iter(items)
        self.head: Item | None = next(self._items, None)
        self.used = used

    def pop(self) -> Item:
        item = self.head
        assert item is not None
        self.head = next(self._items, None)
        self.used -= item.size
        return item


def plan(
    segments: Mapping[str, tuple[Iterable[Item], int]],
    timelapses: Iterable[Item],
    policy: Policy,
    now: float,
    free_bytes: int,
) -> Plan:
    """Decide the deletions (see the module's docstring).

    ``segments`` maps a camera to its segments (oldest first) and their total size.
    """
    result = Plan()
    queues = {camera: _Queue(items, used) for camera, (items, used) in segments.items()}

    def delete(item: Item, reason: str) -> None:
        result.deletions.append((item, reason))

    for camera, own in queues.items():
        days = policy.retention_days.get(camera) or 0
        while days and own.head is not None and own.head.end < now - days * DAY:
            delete(own.pop(), "age")
        limit = policy.camera_max_bytes.get(camera) or 0
        while limit and own.used > limit and own.head is not None:
            delete(own.pop(), "camera_size")

    def oldest() -> _Queue | None:
        waiting = [(q.head.end, i, q) for i, q in enumerate(queues.values()) if q.head is not None]
        return min(waiting)[2] if waiting else None

    total = sum(own.used for own in queues.values())
    while policy.total_max_bytes and total > policy.total_max_bytes:
        queue = oldest()
        if queue is None:
            break
        item = queue.pop()
        total -= item.size
        delete(item, "total_size")
    free = free_bytes + sum(item.size for item, _ in result.deletions)
    whole_days = iter(timelapses)
    while free < policy.free_floor_bytes:
        queue = oldest()
        if queue is not None:
            item = queue.pop()
        else:
            following = next(whole_days, None)
            if following is None:
                break
            item = following
        delete(item, "floor")
        free += item.size
    result.floor_unreachable = free < policy.free_floor_bytes
    return result
