"""A camera lost and back: the watchdog notices, reconnects, reports the gap, records again."""

from __future__ import annotations

import time

from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.recorder_service import decodes

from .conftest import Service, ServiceFactory, wait_until


async def test_camera_killed_and_restarted_mid_recording(
    service: Service, camera: RtspCamera
) -> None:
    camera_id = await service.add_camera(camera.url)
    await service.ok("POST", f"/api/cameras/{camera_id}/recording/start")
    await service.wait_status(camera_id, "recording")
    recorder = service.service.get(camera_id)
    await wait_until(lambda: _true(len(recorder.segments) >= 2), what="two segments")

    lost_at = time.time()
    camera.kill()
    await service.wait_status(camera_id, "reconnecting", timeout=30)
    answer = await service.camera(camera_id)
    [gap] = answer["gaps"]
    assert gap["end"] is None
    assert lost_at - 3 <= gap["start"] <= time.time()
    assert answer["last_error"]
    await wait_until(
        lambda: _true(recorder.reconnects >= 2), what="a second reconnect attempt (back-off)"
    )

    async def snapshot_refused() -> bool:
        status, error = await service.call("GET", f"/api/cameras/{camera_id}/snapshot")
        return status == 503 and error["error"] == "unavailable"

    await wait_until(snapshot_refused, what="the snapshot to be unavailable")

    camera.start()  # the same address: the camera is back
    back_at = time.time()
    await service.wait_status(camera_id, "recording", timeout=60)
    answer = await service.camera(camera_id)
    [gap] = answer["gaps"]
    assert gap["end"] is not None
    assert gap["start"] < gap["end"] <= time.time()
    assert gap["end"] >= back_at - 1
    segments_before = len(recorder.segments)
    await wait_until(
        lambda: _true(len(recorder.segments) >= segments_before + 2),
        what="recording to resume",
    )
    await service.ok("POST", f"/api/cameras/{camera_id}/recording/stop")
    [recording] = await service.ok("GET", f"/api/cameras/{camera_id}/recordings")
    assert recording["gaps"] == [gap]
    after_gap = [s for s in recording["segments"] if s["start"] >= gap["end"] - 1]
    assert after_gap, "segments after the gap"
    for segment in recording["segments"]:
        assert decodes(service.segment_file(camera_id, segment["name"]))


async def test_camera_never_reached_is_an_error_after_lost_after(
    make_service: ServiceFactory, camera: RtspCamera
) -> None:
    service = await make_service(lost_after=2.0)
    camera.kill()
    camera_id = await service.add_camera(camera.url)
    await service.wait_status(camera_id, "error", timeout=60)
    answer = await service.camera(camera_id)
    assert answer["gaps"][0]["end"] is None
    assert "Connection refused" in (answer["last_error"] or "")
    health = await service.ok("GET", "/api/health")
    assert health["cameras"]["error"] == 1


async def _true(value: object) -> bool:
    return bool(value)
