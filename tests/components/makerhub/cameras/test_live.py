"""The live stream of a camera that requires a login, through Home Assistant's stream
component (PyAV), against the real recorder service and a real RTSP camera: the stream
component gets the service's signed restream, never the camera's credentials or the
token; HLS plays the camera's picture; the address is renewed as it ages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import json
from pathlib import Path
import subprocess
from typing import Any

from homeassistant.components.camera import async_get_stream_source
from homeassistant.components.camera.helper import get_camera_from_entity_id
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.makerhub.cameras import camera as camera_module
from custom_components.makerhub.diagnostics import async_get_config_entry_diagnostics
from dev.processes.recorder_process import RecorderServiceProcess
from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.mjpeg_camera import mjpeg_camera
from tests.helpers.recorder_service import TOKEN, rtsp_camera

from .conftest import first_image, refresh

LOGIN = ("door", "door-secret-42")
DOOR = "camera.door"


@pytest.fixture
def door(socket_enabled: None) -> Iterator[RtspCamera]:
    """A real RTSP camera that requires a login."""
    with rtsp_camera(login=LOGIN) as running:
        yield running


def probe(url_or_path: str, *count: str) -> dict[str, Any]:
    """ffprobe a stream or file: its video stream's codec and size (``-count_packets``:
    and its packets, for a file)."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", *count,
         "-show_entries", "stream=codec_name,width,height,nb_read_packets", "-of", "json",
         url_or_path],
        capture_output=True, text=True, check=False, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout)["streams"][0])


async def test_a_camera_with_a_login_streams_through_home_assistant(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    door: RtspCamera,
    tmp_path: Path,
) -> None:
    assert await async_setup_component(hass, "stream", {})
    status, answer = service.call(
        "POST", "/api/cameras", {"source": door.login_url, "name": "Door"}
    )
    assert status == 201, answer
    await refresh(hass, cameras_hub)
    async with asyncio.timeout(60):
        while service.call("GET", f"/api/cameras/{answer['id']}")[1]["status"] != "idle":
            await asyncio.sleep(0.5)

    # The stream source is the service's signed restream: no password, no token.
    source = await async_get_stream_source(hass, DOOR)
    assert source is not None
    assert source.startswith(f"{service.url}/api/cameras/{answer['id']}/live?expires=")
    assert LOGIN[1] not in source
    assert TOKEN not in source
    probed = await asyncio.to_thread(probe, source)
    assert (probed["codec_name"], probed["width"], probed["height"]) == ("h264", 640, 360)
    # Nothing of it in the state or the diagnostics.
    state = hass.states.get(DOOR)
    assert state.attributes["supported_features"] == 2  # CameraEntityFeature.STREAM
    diagnostics = json.dumps(await async_get_config_entry_diagnostics(hass, cameras_hub))
    for secret in (LOGIN[1], TOKEN, source.split("auth=")[1]):
        assert secret not in str(hass.states.async_all())
        assert secret not in diagnostics

    # The still image: the service's snapshot of the camera.
    image = await first_image(hass, DOOR)
    assert image.content[:2] == b"\xff\xd8"

    # HLS through Home Assistant's stream component (PyAV reads the restream).
    ws = await hass_ws_client(hass)
    await ws.send_json({"id": 1, "type": "camera/stream", "entity_id": DOOR})
    reply = await ws.receive_json()
    assert reply["success"], reply
    master = reply["result"]["url"]
    client = await hass_client()
    entity = get_camera_from_entity_id(hass, DOOR)
    try:
        playlist_url = master.replace("master_playlist", "playlist")
        async with asyncio.timeout(60):
            while True:
                response = await client.get(playlist_url)
                text = await response.text() if response.status == 200 else ""
                segments = [line for line in text.splitlines() if line.startswith("./segment/")]
                if segments:
                    break
                await asyncio.sleep(0.5)
        base = playlist_url.rsplit("/", 1)[0]
        init = await client.get(f"{base}/init.mp4")
        assert init.status == 200
        data = await init.read()
        for segment in segments[:1]:
            part = await client.get(f"{base}/{segment.removeprefix('./')}")
            assert part.status == 200
            data += await part.read()
        (tmp_path / "hls.mp4").write_bytes(data)
        played = await asyncio.to_thread(probe, str(tmp_path / "hls.mp4"), "-count_packets")
        assert (played["codec_name"], played["width"], played["height"]) == ("h264", 640, 360)
        assert int(played["nb_read_packets"]) > 0

    finally:
        if entity.stream is not None:
            await entity.stream.stop()

    # A day later the poll hands the stream a new address (the old one expires), which
    # the stream uses when it starts or reconnects.
    assert entity.stream is not None
    old = entity.stream.source
    later = camera_module.now() + camera_module.LIVE_URL_WINDOW
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(camera_module, "now", lambda: later)
        await cameras_hub.runtime_data.cameras.coordinator.async_refresh()
        renewed = entity.stream.source
        assert renewed != old
        assert renewed == await async_get_stream_source(hass, DOOR)
    assert f"expires={camera_module.live_expiry(later)}&" in renewed
    # The renewed address opens the restream.
    probed = await asyncio.to_thread(probe, renewed)
    assert probed["codec_name"] == "h264"


async def test_live_addresses_expire_within_two_windows() -> None:
    window = camera_module.LIVE_URL_WINDOW
    for moment in (0.0, 1.0, window - 1.0, window * 10 + 0.5):
        expires = camera_module.live_expiry(moment)
        assert window < expires - moment <= 2 * window
        assert expires % window == 0


async def test_a_camera_that_is_not_rtsp_offers_no_live_stream(
    hass: HomeAssistant,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
) -> None:
    with mjpeg_camera() as url:
        status, answer = service.call("POST", "/api/cameras", {"source": url, "name": "Hall"})
        assert status == 201, answer
        await refresh(hass, cameras_hub)
        assert hass.states.get("camera.hall").attributes["supported_features"] == 0
        assert await async_get_stream_source(hass, "camera.hall") is None
