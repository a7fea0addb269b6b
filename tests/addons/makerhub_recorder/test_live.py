"""The live restream of a camera that requires a login: opened by the token or by a
signed address (what Home Assistant's stream component is given), never leaking the
camera's credentials, one ffmpeg per viewer, ended with the viewer."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from typing import Any

from makerhub_recorder.api import LIVE_KEY
from makerhub_recorder.live import MAX_LIVE_URL_SECONDS, live_signature

from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.mjpeg_camera import mjpeg_camera

from .conftest import TOKEN, Service, wait_until

LOGIN = ("door", "door-secret")


def probe_url(url: str) -> dict[str, Any]:
    """ffprobe a network stream's first video stream (fails if it cannot be read)."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,width,height", "-of", "json", url],
        capture_output=True, text=True, check=False, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    streams = json.loads(result.stdout)["streams"]
    assert streams, "no video stream"
    return dict(streams[0])


def signed(camera_id: str, expires: int, token: str = TOKEN) -> str:
    """A camera's live path signed with ``token``."""
    auth = live_signature(token, camera_id, expires)
    return f"/api/cameras/{camera_id}/live?expires={expires}&auth={auth}"


async def test_a_camera_with_a_login_is_restreamed_by_a_signed_address(
    service: Service,
) -> None:
    with RtspCamera(login=LOGIN) as camera:
        camera_id = await service.add_camera(camera.login_url, name="Door")
        answer = await service.camera(camera_id)
        assert answer["has_credentials"] is True
        await service.wait_status(camera_id, "idle")
        expires = int(time.time()) + 3600

        # ffprobe reads the restream as Home Assistant's stream worker does (HTTP, no token).
        probe = await asyncio.to_thread(probe_url, service.base + signed(camera_id, expires))
        assert (probe["codec_name"], probe["width"], probe["height"]) == ("h264", 640, 360)
        # The viewer left: its ffmpeg is gone, the camera has no viewer.
        viewers = service.runner.app[LIVE_KEY]

        async def no_viewer() -> bool:
            return viewers.count(camera_id) == 0

        await wait_until(no_viewer, what="the viewer's ffmpeg to end")

        # The token opens it too.
        status, data = await _first_bytes(service, f"/api/cameras/{camera_id}/live")
        assert status == 200
        assert data[:1] == b"\x47"  # an MPEG-TS packet's sync byte

        live = f"/api/cameras/{camera_id}/live"
        far = int(time.time()) + MAX_LIVE_URL_SECONDS + 60
        refused = {
            "no token, no signature": live,
            "expired": signed(camera_id, int(time.time()) - 1),
            "too far ahead": signed(camera_id, far),
            "another token": signed(camera_id, expires, "another-token-0123456789"),
            "not a time": f"{live}?expires=soon&auth=00",
            "the token as a signature": f"{live}?expires={expires}&auth={TOKEN}",
            # A signature opens only the live stream of its camera.
            "another route": signed(camera_id, expires).replace("/live?", "/snapshot?"),
        }
        for what, path in refused.items():
            status, answer = await service.call("GET", path, token=None)
            assert (status, answer["error"]) == (401, "unauthorized"), what

        # The camera gone: 503, and the message never holds its password.
        camera.kill()
        status, answer = await service.call("GET", signed(camera_id, expires), token=None)
        assert (status, answer["error"]) == (503, "unavailable")
        assert LOGIN[1] not in json.dumps(answer)
        assert viewers.count(camera_id) == 0


async def test_only_rtsp_cameras_are_restreamed(service: Service) -> None:
    with mjpeg_camera() as url:
        camera_id = await service.add_camera(url, name="Hall")
        status, answer = await service.call("GET", f"/api/cameras/{camera_id}/live")
        assert (status, answer["error"]) == (422, "refused")


async def test_viewers_are_limited_per_camera(service: Service, camera: RtspCamera) -> None:
    camera_id = await service.add_camera(camera.url, name="Bench")
    await service.wait_status(camera_id, "idle")
    viewers = service.runner.app[LIVE_KEY]
    with viewers.viewer(camera_id), viewers.viewer(camera_id), viewers.viewer(camera_id):
        with viewers.viewer(camera_id):
            status, answer = await service.call("GET", f"/api/cameras/{camera_id}/live")
            assert (status, answer["error"]) == (503, "unavailable")
            assert "4 live viewers" in answer["message"]
        assert viewers.count(camera_id) == 4 - 1
    assert viewers.count(camera_id) == 0


async def _first_bytes(service: Service, path: str) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with service.session.get(service.base + path, headers=headers) as response:
        return response.status, await response.content.read(188)
