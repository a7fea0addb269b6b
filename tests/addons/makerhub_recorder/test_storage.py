"""A small real file system fills: the free-space floor holds, oldest first, reported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import shutil

import pytest

from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.recorder_service import decodes, small_tmpfs

from .conftest import ServiceFactory, wait_until

KIB = 1024
MIB = 1024 * KIB


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MiB tmpfs, unmounted at the end."""
    with small_tmpfs(tmp_path / "disk") as mount:
        yield mount


async def test_free_space_floor_holds_oldest_first(
    small_disk: Path, make_service: ServiceFactory, camera: RtspCamera
) -> None:
    (small_disk / "filler").write_bytes(b"\0" * (3 * MIB + 512 * KIB))
    floor = 2 * MIB
    service = await make_service(
        recordings_dir=small_disk / "recordings", free_floor_bytes=floor, retention_days=30.0
    )
    camera_id = await service.add_camera(camera.url)
    await service.ok("POST", f"/api/cameras/{camera_id}/recording/start")
    recorder = service.service.get(camera_id)

    async def early_deletions() -> int:
        storage = await service.ok("GET", "/api/storage")
        return int(storage["early_deletions"]) >= 3 and len(recorder.segments) >= 2

    await wait_until(early_deletions, timeout=120, what="three early deletions")
    service.service.apply_retention()
    assert shutil.disk_usage(small_disk).free >= floor - 64 * KIB
    storage = await service.ok("GET", "/api/storage")
    assert storage["free_floor_bytes"] == floor
    assert storage["deleted"]["floor"] == storage["early_deletions"] >= 3
    assert storage["deleted"]["age"] == 0
    last = storage["last_early_deletion"]
    assert last["files"] >= 1
    assert last["bytes"] > 0
    # Oldest first: every deleted segment is older than every one left.
    listed = sorted(
        line.split(",", 1)[0]
        for listing in recorder.folder.glob("*.csv")
        for line in listing.read_text().splitlines()
    )
    left = sorted(s.name for s in recorder.segments)
    deleted = [name for name in listed if not (recorder.folder / name).exists()]
    assert deleted
    assert max(deleted) < min(left)
    assert storage["oldest_recording"] == recorder.segments[0].start
    [recording] = await service.ok("GET", f"/api/cameras/{camera_id}/recordings")
    assert [s["name"] for s in recording["segments"]] == left
    for name in left:
        assert decodes(recorder.folder / name)
    health = await service.ok("GET", "/api/health")
    assert health["status"] == "ok"
