"""An HTTP MJPEG camera (a local fake: the hardware's endpoint) is recorded as it comes."""

from __future__ import annotations

from tests.helpers.mjpeg_camera import mjpeg_camera
from tests.helpers.recorder_service import decodes, ffprobe

from .conftest import Service, wait_until


async def test_mjpeg_camera_recorded_without_re_encoding(service: Service) -> None:
    with mjpeg_camera() as url:
        camera_id = await service.add_camera(url, name="Door")
        answer = await service.camera(camera_id)
        assert answer["kind"] == "mjpeg"
        await service.ok("POST", f"/api/cameras/{camera_id}/recording/start")
        recorder = service.service.get(camera_id)

        async def three_segments() -> bool:
            return len(recorder.segments) >= 3

        await wait_until(three_segments, what="three MJPEG segments")
        status, jpeg = await service.call("GET", f"/api/cameras/{camera_id}/snapshot")
        assert status == 200
        assert jpeg.startswith(b"\xff\xd8")
        await service.ok("POST", f"/api/cameras/{camera_id}/recording/stop")
        for segment in recorder.segments[1:3]:
            path = recorder.folder / segment.name
            probe = ffprobe(path)
            assert (probe["codec_name"], probe["width"], probe["height"]) == ("mjpeg", 320, 240)
            # Frames keep the time they arrived: 10 a second, as the camera sends them.
            duration = float(probe["duration"])
            assert 1.5 <= duration <= 2.5
            assert abs(int(probe["nb_read_packets"]) - 10 * duration) <= 3
            assert decodes(path)
