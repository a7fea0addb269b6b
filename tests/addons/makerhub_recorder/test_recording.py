"""Recording a real RTSP camera: segments valid, no gaps, pre-roll included, served."""

from __future__ import annotations

import itertools
import time

from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.recorder_service import decodes, ffprobe

from .conftest import Service, wait_until

GAP_TOLERANCE = 0.6
"""Seconds two consecutive segments may be apart (their times come from file times)."""


async def test_recording_with_pre_roll_covers_the_period_without_gaps(
    service: Service, camera: RtspCamera
) -> None:
    camera_id = await service.add_camera(camera.url, name="Bench")
    await service.wait_status(camera_id, "idle")
    recorder = service.service.get(camera_id)
    # The buffer holds at least the pre-roll before the recording starts.
    await wait_until(
        lambda: _true(recorder.segments and time.time() - recorder.segments[0].start >= 4),
        what="the pre-roll buffer",
    )
    asked = time.time()
    answer = await service.ok("POST", f"/api/cameras/{camera_id}/recording/start")
    assert answer["camera"]["status"] == "recording"
    assert asked - 4.5 <= answer["start"] <= asked - 3.5
    await wait_until(
        lambda: _true(recorder.segments and recorder.segments[-1].end >= asked + 6),
        what="six seconds recorded",
    )
    stopped = await service.ok("POST", f"/api/cameras/{camera_id}/recording/stop")
    assert stopped["recording"] == answer["recording"]
    await service.wait_status(camera_id, "idle")

    recordings = await service.ok("GET", f"/api/cameras/{camera_id}/recordings")
    assert [r["id"] for r in recordings] == [answer["recording"]]
    recording = recordings[0]
    segments = recording["segments"]
    assert recording["gaps"] == []
    # Pre-roll: the first segment began no later than the pre-roll before the request
    # (up to one segment's length: segments are cut at keyframes).
    assert segments[0]["start"] <= asked - 4 + 2 + GAP_TOLERANCE
    assert segments[-1]["end"] >= stopped["end"] - 2 - GAP_TOLERANCE
    for before, after in itertools.pairwise(segments):
        assert abs(after["start"] - before["end"]) <= GAP_TOLERANCE, (before, after)
    total = 0.0
    for segment in segments:
        path = service.segment_file(camera_id, segment["name"])
        probe = ffprobe(path)
        assert probe["codec_name"] == "h264"
        assert (probe["width"], probe["height"]) == (640, 360)
        assert abs(float(probe["duration"]) - (segment["end"] - segment["start"])) < 0.2
        assert decodes(path)
        total += float(probe["duration"])
    covered = segments[-1]["end"] - segments[0]["start"]
    assert abs(total - covered) <= GAP_TOLERANCE * len(segments)

    # Served with the token, with Range; the day listing finds it.
    name = segments[0]["name"]
    status, body = await service.call("GET", f"/api/cameras/{camera_id}/segments/{name}")
    assert status == 200
    assert body == service.segment_file(camera_id, name).read_bytes()
    status, part = await service.call(
        "GET", f"/api/cameras/{camera_id}/segments/{name}", headers={"Range": "bytes=0-99"}
    )
    assert (status, part) == (206, body[:100])
    status, _ = await service.call("GET", f"/api/cameras/{camera_id}/segments/{name}", token=None)
    assert status == 401
    by_day = await service.ok("GET", f"/api/recordings?camera={camera_id}&day={recording['day']}")
    assert [r["id"] for r in by_day] == [recording["id"]]
    assert await service.ok("GET", "/api/recordings?day=1999-01-01") == []


async def test_idle_camera_keeps_only_the_pre_roll(service: Service, camera: RtspCamera) -> None:
    camera_id = await service.add_camera(camera.url)
    recorder = service.service.get(camera_id)
    await wait_until(lambda: _true(_written(service, camera_id) >= 6), what="six segments written")
    # Everything older than the pre-roll (4 s) and two segments is gone.
    assert recorder.segments[-1].end - recorder.segments[0].start <= 4 + 2 * 2 + 2.5
    assert await service.ok("GET", f"/api/cameras/{camera_id}/recordings") == []
    storage = await service.ok("GET", "/api/storage")
    assert storage["oldest_recording"] is None
    assert storage["cameras"][camera_id]["recordings_bytes"] > 0


async def test_clip_with_pre_roll_and_snapshot(service: Service, camera: RtspCamera) -> None:
    camera_id = await service.add_camera(camera.url)
    recorder = service.service.get(camera_id)
    await wait_until(
        lambda: _true(recorder.segments and time.time() - recorder.segments[0].start >= 3),
        what="a buffer of three seconds",
    )
    status, jpeg = await service.call("GET", f"/api/cameras/{camera_id}/snapshot")
    assert status == 200
    assert jpeg.startswith(b"\xff\xd8")
    asked = time.time()
    clip = await service.ok(
        "POST", f"/api/cameras/{camera_id}/clips", json={"duration": 3, "pre_roll": 2}
    )
    assert asked - 2.5 <= clip["start"] <= asked - 1.5
    assert clip["end"] - clip["start"] == 5
    assert (await service.camera(camera_id))["status"] == "recording"
    await service.wait_status(camera_id, "idle")
    await wait_until(
        lambda: _true(recorder.segments and recorder.segments[-1].end >= clip["end"]),
        what="the clip's end written",
    )
    [recording] = await service.ok("GET", f"/api/cameras/{camera_id}/recordings")
    assert recording["kind"] == "clip"
    assert recording["segments"][0]["start"] <= clip["start"] + 2 + GAP_TOLERANCE
    assert recording["segments"][-1]["end"] >= clip["end"]
    for segment in recording["segments"]:
        assert decodes(service.segment_file(camera_id, segment["name"]))


async def test_unfinished_segment_is_not_served(service: Service, camera: RtspCamera) -> None:
    camera_id = await service.add_camera(camera.url)
    await service.ok("POST", f"/api/cameras/{camera_id}/recording/start")
    recorder = service.service.get(camera_id)
    await wait_until(lambda: _true(recorder.segments), what="a finished segment")
    folder = recorder.folder

    async def unfinished() -> list[str]:
        listed = {s.name for s in recorder.segments}
        return [p.name for p in folder.glob("*.mp4") if p.name not in listed]

    writing = (await wait_until(unfinished, what="a segment being written"))[0]
    status, answer = await service.call("GET", f"/api/cameras/{camera_id}/segments/{writing}")
    assert status == 404
    assert answer["error"] == "not_found"


async def _true(value: object) -> bool:
    return bool(value)


def _written(service: Service, camera_id: str) -> int:
    folder = service.service.get(camera_id).folder
    return sum(len(p.read_text().splitlines()) for p in folder.glob("*.csv"))
