"""A whole recording as one file: its segments joined without re-encoding, on demand."""

from __future__ import annotations

from pathlib import Path

from makerhub_recorder import joined
import pytest

from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.recorder_service import decodes, ffprobe

from .conftest import Service, wait_until


async def test_a_clip_is_served_as_one_file_of_its_segments(
    service: Service, camera: RtspCamera, tmp_path: Path
) -> None:
    camera_id = await service.add_camera(camera.url, name="Bench")
    await service.wait_status(camera_id, "idle")
    recorder = service.service.get(camera_id)
    clip = await service.ok("POST", f"/api/cameras/{camera_id}/clips", json={"duration": 6})

    async def clip_recorded() -> bool:
        return bool(recorder.segments) and recorder.segments[-1].end >= clip["end"] + 2

    await wait_until(clip_recorded, what="the clip's segments")
    (recording,) = await service.ok("GET", f"/api/cameras/{camera_id}/recordings")
    segments = recording["segments"]
    assert len(segments) >= 3
    path = f"/api/cameras/{camera_id}/recordings/{clip['recording']}/file"
    status, data = await service.call("GET", path)
    assert status == 200, data
    whole = tmp_path / "whole.mp4"
    whole.write_bytes(data)
    probe = ffprobe(whole)
    assert (probe["codec_name"], probe["width"], probe["height"]) == ("h264", 640, 360)
    parts = sum(float(ffprobe(service.segment_file(camera_id, s["name"]))["duration"])
                for s in segments)  # fmt: skip
    assert abs(float(probe["duration"]) - parts) < 0.5, (probe["duration"], parts)
    assert decodes(whole)
    # Not re-encoded: every segment's frames are in it.
    frames = sum(int(ffprobe(service.segment_file(camera_id, s["name"]))["nb_read_packets"])
                 for s in segments)  # fmt: skip
    assert int(probe["nb_read_packets"]) == frames

    # Built once: asked again, the same file; with Range, a part of it.
    folder = service.service.settings.media_dir / camera_id / "joined"
    built = list(folder.glob("*.mp4"))
    assert len(built) == 1
    status, again = await service.call("GET", path, headers={"Range": "bytes=0-99"})
    assert (status, again) == (206, data[:100])
    assert list(folder.glob("*.mp4")) == built
    assert not list(folder.glob(".*"))  # no listing or temporary file left


async def test_whole_recordings_are_bounded_and_checked(
    service: Service, camera: RtspCamera, monkeypatch: pytest.MonkeyPatch
) -> None:
    camera_id = await service.add_camera(camera.url, name="Bench")
    await service.wait_status(camera_id, "idle")
    recorder = service.service.get(camera_id)
    started = await service.ok("POST", f"/api/cameras/{camera_id}/recording/start")
    base = f"/api/cameras/{camera_id}/recordings"
    cases = {
        f"{base}/..%2F..%2Fapi.token/file": (400, "invalid_request"),
        f"{base}/0000000000000-abcd/file": (404, "not_found"),
        f"/api/cameras/nobody/recordings/{started['recording']}/file": (404, "unknown_camera"),
    }
    for path, expected in cases.items():
        status, answer = await service.call("GET", path)
        assert (status, answer["error"]) == expected, path

    async def two_segments() -> bool:
        return len(recorder.segments) >= 2

    await wait_until(two_segments, what="two segments")
    # A running recording joins what is finished so far; a longer one than the bound
    # is refused (it plays segment by segment).
    path = f"{base}/{started['recording']}/file"
    assert (await service.call("GET", path))[0] == 200
    monkeypatch.setattr(joined, "MAX_JOINED_SECONDS", 1)
    status, answer = await service.call("GET", path)
    assert (status, answer["error"]) == (422, "refused")
    assert "play its segments" in answer["message"]
