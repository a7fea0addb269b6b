"""Time-lapse: frames only while active, per project, chunks joined into a playable file."""

from __future__ import annotations

import asyncio
import time

import pytest

from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.recorder_service import decodes, ffprobe

from .conftest import Service, ServiceFactory, wait_until


async def _housekeep_until(service: Service, frames: int) -> None:
    recorder_service = service.service

    async def enough() -> bool:
        await recorder_service.housekeep()
        return recorder_service.timelapses.frames_taken >= frames

    await wait_until(enough, what=f"{frames} time-lapse frames")


async def _housekeep_for(service: Service, seconds: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        await service.service.housekeep()
        await asyncio.sleep(0.25)


@pytest.fixture
async def idle_camera(make_service: ServiceFactory, camera: RtspCamera) -> tuple[Service, str]:
    """A service whose housekeeping the test runs, and a camera giving pictures."""
    service = await make_service(housekeeping=False)
    camera_id = await service.add_camera(camera.url)
    await service.wait_status(camera_id, "idle")
    return service, camera_id


async def test_timelapse_per_project_only_while_active(idle_camera: tuple[Service, str]) -> None:
    service, camera_id = idle_camera
    timelapses = service.service.timelapses

    # Not active: housekeeping takes no frame, however long it runs.
    await _housekeep_for(service, 2.5)
    assert timelapses.frames_taken == 0
    assert await service.ok("GET", "/api/timelapses") == []

    answer = await service.ok(
        "PUT", f"/api/cameras/{camera_id}/activity", json={"active": True, "project": "robot-arm"}
    )
    assert (answer["active"], answer["project"]) == (True, "robot-arm")
    await _housekeep_until(service, 4)
    await service.ok(
        "PUT", f"/api/cameras/{camera_id}/activity", json={"active": True, "project": "printer"}
    )
    first = timelapses.frames_taken
    await _housekeep_until(service, first + 3)
    await service.ok("PUT", f"/api/cameras/{camera_id}/activity", json={"active": False})
    await service.service.housekeep()
    await asyncio.gather(*service.service._frame_tasks.values())
    await service.service.housekeep()
    taken = timelapses.frames_taken
    await _housekeep_for(service, 2.5)
    assert timelapses.frames_taken == taken

    listing = await service.ok("GET", f"/api/timelapses?camera={camera_id}")
    assert {entry["project"] for entry in listing} == {"robot-arm", "printer"}
    assert all(entry["pending_frames"] == 0 for entry in listing)
    assert all(entry["chunks"] >= 1 for entry in listing)
    day = listing[0]["day"]
    assert await service.ok("GET", f"/api/timelapses?project=printer&day={day}") == [
        entry for entry in listing if entry["project"] == "printer"
    ]
    frames = 0
    for project in ("robot-arm", "printer"):
        status, video = await service.call("GET", f"/api/timelapses/{camera_id}/{day}/{project}")
        assert status == 200, video
        path = timelapses.folder(_key(camera_id, day, project)) / "timelapse.mp4"
        assert video == path.read_bytes()
        probe = ffprobe(path)
        assert (probe["codec_name"], probe["width"], probe["height"]) == ("h264", 320, 180)
        assert decodes(path)
        count = int(probe["nb_read_packets"])
        assert count >= 2, project
        frames += count
    assert frames == taken
    status, part = await service.call(
        "GET",
        f"/api/timelapses/{camera_id}/{day}/printer",
        headers={"Range": "bytes=0-9"},
    )
    assert (status, len(part)) == (206, 10)


async def test_timelapse_without_project_and_appended(idle_camera: tuple[Service, str]) -> None:
    service, camera_id = idle_camera
    await service.ok("PUT", f"/api/cameras/{camera_id}/activity", json={"active": True})
    await _housekeep_until(service, 2)
    [entry] = await service.ok("GET", "/api/timelapses")
    assert entry["project"] is None
    day = entry["day"]
    status, _ = await service.call("GET", f"/api/timelapses/{camera_id}/{day}/_none")
    assert status == 200
    path = service.service.timelapses.folder(_key(camera_id, day, "_none")) / "timelapse.mp4"
    before = int(ffprobe(path)["nb_read_packets"])
    chunks = len(service.service.timelapses.chunks(_key(camera_id, day, "_none")))
    await _housekeep_until(service, service.service.timelapses.frames_taken + 2)
    status, _ = await service.call("GET", f"/api/timelapses/{camera_id}/{day}/_none")
    assert status == 200
    # The new frames became a new chunk; the old chunks were not encoded again.
    assert len(service.service.timelapses.chunks(_key(camera_id, day, "_none"))) > chunks
    assert int(ffprobe(path)["nb_read_packets"]) > before
    status, answer = await service.call("GET", f"/api/timelapses/{camera_id}/{day}/nobody")
    assert (status, answer["error"]) == (404, "not_found")


def _key(camera: str, day: str, project: str) -> object:
    from makerhub_recorder.timelapse import TimelapseKey

    return TimelapseKey(camera, day, project)
