"""Retention decisions (pure) and the service applying them with an injected disk."""

from __future__ import annotations

from pathlib import Path

from makerhub_recorder.camera import CameraRecorder, Segment
from makerhub_recorder.retention import DAY, Item, Policy, plan
from makerhub_recorder.service import DiskUsage, RecorderService
from makerhub_recorder.settings import Settings
from makerhub_recorder.store import Camera, Span
from makerhub_recorder.validation import parse_source

NOW = 1_800_000_000.0


def policy(**changes: object) -> Policy:
    values: dict[str, object] = {
        "retention_days": {"a": 2.0, "b": 2.0},
        "camera_max_bytes": {},
        "total_max_bytes": 0,
        "free_floor_bytes": 0,
    }
    values.update(changes)
    return Policy(**values)  # type: ignore[arg-type]


def segments(camera: str, count: int, size: int = 100, start: float = NOW - 1000) -> list[Item]:
    return [Item(camera, f"{camera}-{i:03d}.mp4", start + i * 2, size) for i in range(count)]


def by_camera(*items: Item) -> dict[str, tuple[list[Item], int]]:
    """Segments grouped per camera, oldest first, with their total size."""
    grouped: dict[str, list[Item]] = {}
    for item in sorted(items, key=lambda i: i.end):
        grouped.setdefault(item.camera, []).append(item)
    return {camera: (owned, sum(i.size for i in owned)) for camera, owned in grouped.items()}


def test_age_limit_per_camera() -> None:
    old = Item("a", "old.mp4", NOW - 3 * DAY, 10)
    young = Item("a", "young.mp4", NOW - 1 * DAY, 10)
    other = Item("b", "b-old.mp4", NOW - 3 * DAY, 10)
    result = plan(
        by_camera(young, old, other), [], policy(retention_days={"a": 2.0, "b": 5.0}), NOW, 10**9
    )
    assert result.deletions == [(old, "age")]
    assert result.early == []


def test_size_per_camera_and_total_oldest_first() -> None:
    a = segments("a", 10)
    b = segments("b", 10, start=NOW - 500)
    limits = policy(camera_max_bytes={"a": 500}, total_max_bytes=1200)
    result = plan(by_camera(*a, *b), [], limits, NOW, 10**9)
    camera = [item for item, reason in result.deletions if reason == "camera_size"]
    total = [item for item, reason in result.deletions if reason == "total_size"]
    assert camera == a[:5]
    # 500 of a and 1000 of b remain: the 3 oldest (a's) go for the total.
    assert total == a[5:8]
    assert result.early == []


def test_floor_overrides_retention_and_reaches_time_lapses_last() -> None:
    a = segments("a", 5, size=100)
    timelapse = Item("a", "2026-01-01/p", NOW - 5 * DAY, 1000, timelapse=True)
    result = plan(by_camera(*a), [timelapse], policy(free_floor_bytes=1000), NOW, 700)
    assert result.early == a[:3]
    assert not result.floor_unreachable
    result = plan(by_camera(*a), [timelapse], policy(free_floor_bytes=2000), NOW, 700)
    assert result.early == [*a, timelapse]
    assert not result.floor_unreachable
    result = plan(by_camera(*a), [timelapse], policy(free_floor_bytes=5000), NOW, 700)
    assert result.floor_unreachable


def test_deletions_count_toward_the_floor() -> None:
    old = Item("a", "old.mp4", NOW - 3 * DAY, 500)
    a = segments("a", 5)
    result = plan(by_camera(old, *a), [], policy(free_floor_bytes=1000), NOW, 600)
    assert result.deletions == [(old, "age")]
    assert result.early == []


class FakeDisk:
    """A disk of ``capacity`` bytes whose use is the real size of a folder."""

    def __init__(self, folder: Path, capacity: int) -> None:
        self.folder = folder
        self.capacity = capacity

    def __call__(self, _: Path) -> DiskUsage:
        used = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        return DiskUsage(self.capacity, used, self.capacity - used)


async def test_service_applies_the_floor_over_an_injected_disk(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", token="t" * 20, free_floor_bytes=3000)
    disk = FakeDisk(tmp_path / "data" / "recordings", 10_000)
    service = RecorderService(settings, now=lambda: NOW, disk_usage=disk)
    settings.media_dir.mkdir(parents=True)
    camera = Camera("cam-a", "A", parse_source("rtsp://127.0.0.1:9/a"))
    recorder = CameraRecorder(camera, settings, service.store, lambda: NOW)
    service.cameras[camera.id] = recorder
    recorder.state.spans.append(Span("r", NOW - 100, None, "continuous"))
    for index in range(10):
        name = f"run-{index:06d}.mp4"
        (recorder.folder / name).write_bytes(b"x" * 1000)
        recorder.add_segment(Segment(name, NOW - 100 + index * 2, NOW - 98 + index * 2, 1000))
    result = service.apply_retention()
    assert [item.key for item in result.early] == [
        "run-000000.mp4",
        "run-000001.mp4",
        "run-000002.mp4",
    ]
    assert disk(tmp_path).free >= 3000
    storage = service.storage()
    assert storage["early_deletions"] == 3
    assert storage["last_early_deletion"]["bytes"] == 3000
    assert storage["oldest_recording"] == NOW - 100 + 6
    assert not storage["floor_reached"]
    assert sorted(p.name for p in recorder.folder.iterdir())[0] == "run-000003.mp4"


def test_floor_takes_the_oldest_across_cameras_and_reads_only_what_it_deletes() -> None:
    a = segments("a", 3, start=NOW - 100)
    b = segments("b", 3, start=NOW - 99)
    read: list[Item] = []

    def lazily(items: list[Item]) -> object:
        for item in items:
            read.append(item)
            yield item

    result = plan(
        {"a": (lazily(a), 300), "b": (lazily(b), 300)},  # type: ignore[dict-item]
        [],
        policy(free_floor_bytes=1000),
        NOW,
        700,
    )
    assert result.early == [a[0], b[0], a[1]]
    assert read == [a[0], b[0], a[1], b[1], a[2]]
