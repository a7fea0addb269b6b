"""Recordings and time-lapses through the actions, the media browser and the proxy view,
against the real recorder service and a real RTSP camera."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import subprocess
from typing import Any

from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.const import DOMAIN
from dev.processes.recorder_process import RecorderServiceProcess
from tests.helpers.recorder_service import TOKEN

from .conftest import CAMERA_ENTITY

ROOT = f"media-source://{DOMAIN}"


async def action(hass: HomeAssistant, name: str, **data: Any) -> Any:
    """Call a Makerhub action and return its response."""
    return await hass.services.async_call(DOMAIN, name, data, blocking=True, return_response=True)


async def finished_clip(service: RecorderServiceProcess, camera_id: str) -> dict[str, Any]:
    """Wait until the camera's clip has ended and has finished segments; return it."""
    async with asyncio.timeout(90):
        while True:
            _, recordings = service.call("GET", f"/api/recordings?camera={camera_id}")
            clips = [r for r in recordings if r["kind"] == "clip" and r["segments"]]
            if clips and clips[0]["segments"][-1]["end"] >= clips[0]["end"] - 2.5:
                return clips[0]
            await asyncio.sleep(0.5)


@pytest.fixture
async def browser(hass: HomeAssistant, cameras_hub: MockConfigEntry) -> MockConfigEntry:
    """The media browser set up beside the hub."""
    assert await async_setup_component(hass, "media_source", {})
    await hass.async_block_till_done()
    return cameras_hub


async def test_a_clip_is_browsed_by_camera_and_day_and_played_through_the_view(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    browser: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
) -> None:
    answer = await action(hass, "record_clip", camera=CAMERA_ENTITY, duration=3, pre_roll=2)
    assert answer["camera"] == camera_id
    assert answer["end"] - answer["start"] == pytest.approx(5, abs=0.5)
    clip = await finished_clip(service, camera_id)
    assert clip["id"] == answer["recording"]

    root = await media_source.async_browse_media(hass, ROOT)
    assert [child.title for child in root.children] == ["Bench", "Time-lapses by project"]
    camera_folder = await media_source.async_browse_media(hass, f"{ROOT}/camera/{camera_id}")
    assert [child.title for child in camera_folder.children] == [clip["day"]]
    day = await media_source.async_browse_media(hass, f"{ROOT}/camera/{camera_id}/{clip['day']}")
    assert [child.title.split()[0] for child in day.children] == ["Clip"]
    recording = await media_source.async_browse_media(hass, day.children[0].media_content_id)
    names = [segment["name"] for segment in clip["segments"]]
    assert [child.media_content_id for child in recording.children] == [
        f"{ROOT}/whole/{camera_id}/{clip['id']}",
        *(f"{ROOT}/segment/{camera_id}/{name}" for name in names),
    ]
    assert all(child.can_play for child in recording.children)

    played = await media_source.async_resolve_media(
        hass, recording.children[1].media_content_id, None
    )
    assert played.mime_type == "video/mp4"
    assert TOKEN not in played.url
    status, whole = service.fetch(f"/api/cameras/{camera_id}/segments/{names[0]}")
    assert status == 200

    client = await hass_client()
    response = await client.get(played.url)
    assert response.status == 200
    assert await response.read() == whole
    response = await client.get(played.url, headers={"Range": "bytes=10-109"})
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes 10-109/{len(whole)}"
    assert await response.read() == whole[10:110]
    # A file that is not there, a hostile name, and no token.
    missing = await client.get(played.url.replace(names[0], "nothing.mp4"))
    assert missing.status == 404
    hostile = await client.get(played.url.replace(names[0], "State.mp4"))
    assert hostile.status == 422
    assert (await hostile.json())["error"] == "refused"
    anonymous = await (await hass_client_no_auth()).get(played.url)
    assert anonymous.status == 401

    with pytest.raises(media_source.Unresolvable, match="The recorder has nothing at segment/"):
        await media_source.async_resolve_media(hass, f"{ROOT}/segment/{camera_id}/../x", None)
    with pytest.raises(media_source.Unresolvable, match="The recorder has nothing at nothing:"):
        await media_source.async_browse_media(hass, f"{ROOT}/nothing")


def probe(path: Path) -> dict[str, Any]:
    """ffprobe a file's duration and its video stream's codec and packets."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
         "-show_entries", "format=duration:stream=codec_name,nb_read_packets",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return {**data["format"], **data["streams"][0]}


async def test_a_whole_recording_plays_as_one_file(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    browser: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
    tmp_path: Path,
) -> None:
    answer = await action(hass, "record_clip", camera=CAMERA_ENTITY, duration=4, pre_roll=2)
    async with asyncio.timeout(90):
        while True:  # every segment of the clip finished
            _, (clip,) = service.call("GET", f"/api/recordings?camera={camera_id}")
            if clip["segments"] and clip["segments"][-1]["end"] >= answer["end"]:
                break
            await asyncio.sleep(0.5)
    folder = f"{ROOT}/recording/{camera_id}/{clip['day']}/{clip['id']}"
    recording = await media_source.async_browse_media(hass, folder)
    whole = recording.children[0]
    assert (whole.title, whole.can_play) == ("Whole recording", True)
    played = await media_source.async_resolve_media(hass, whole.media_content_id, None)
    assert played.url == f"/api/makerhub/recorder/{camera_id}/recordings/{clip['id']}"
    assert played.mime_type == "video/mp4"

    client = await hass_client()
    response = await client.get(played.url)
    assert response.status == 200
    body = await response.read()
    file = tmp_path / "whole.mp4"
    file.write_bytes(body)
    joined = await asyncio.to_thread(probe, file)
    segments = []
    for segment in clip["segments"]:
        status, data = service.fetch(f"/api/cameras/{camera_id}/segments/{segment['name']}")
        assert status == 200
        (tmp_path / segment["name"]).write_bytes(data)
        segments.append(await asyncio.to_thread(probe, tmp_path / segment["name"]))
    # The segments joined as they are: their frames, their summed duration.
    assert joined["codec_name"] == "h264"
    assert int(joined["nb_read_packets"]) == sum(int(s["nb_read_packets"]) for s in segments)
    assert float(joined["duration"]) == pytest.approx(
        sum(float(s["duration"]) for s in segments), abs=0.5
    )
    ranged = await client.get(played.url, headers={"Range": "bytes=0-99"})
    assert ranged.status == 206
    assert await ranged.read() == body[:100]

    # Not a recording id: refused by the browser and the view; unknown: not found.
    with pytest.raises(media_source.Unresolvable) as refused:
        await media_source.async_resolve_media(hass, f"{ROOT}/whole/{camera_id}/..%2Fx", None)
    assert refused.value.translation_key == "recorder_failed"
    hostile = await client.get(f"/api/makerhub/recorder/{camera_id}/recordings/api.token")
    assert hostile.status == 422
    unknown = await client.get(f"/api/makerhub/recorder/{camera_id}/recordings/0000000000000-abcd")
    assert unknown.status == 404


async def test_a_projects_timelapse_is_built_browsed_and_played(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    browser: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
) -> None:
    # Frames are taken only while the space is active, into the project's time-lapse.
    async with asyncio.timeout(60):
        while service.call("GET", f"/api/cameras/{camera_id}")[1]["status"] != "idle":
            await asyncio.sleep(0.5)
    answer = await action(hass, "set_camera_activity", camera="Bench", active=True, project="clock")
    assert answer == {"camera": camera_id, "active": True, "project": "clock"}
    async with asyncio.timeout(60):
        while not (listed := service.call("GET", "/api/timelapses?project=clock")[1]):
            await asyncio.sleep(0.5)
    day = listed[0]["day"]

    built = await action(hass, "build_timelapse", project="clock", start=day)
    (timelapse,) = built["timelapses"]
    assert (timelapse["camera"], timelapse["day"], timelapse["project"]) == (
        camera_id, day, "clock"
    )  # fmt: skip
    assert timelapse["bytes"] > 0
    assert timelapse["media_content_id"] == f"{ROOT}/timelapse/{camera_id}/{day}/clock"
    # Nothing in a period before it.
    none = await action(hass, "build_timelapse", camera=camera_id, start="2000-01-01")
    assert none == {"timelapses": []}
    with pytest.raises(ServiceValidationError):
        await action(hass, "build_timelapse", camera=camera_id, start=day, end="2000-01-01")

    projects = await media_source.async_browse_media(hass, f"{ROOT}/projects")
    assert [child.media_content_id for child in projects.children] == [f"{ROOT}/project/clock"]
    project = await media_source.async_browse_media(hass, f"{ROOT}/project/clock")
    assert [child.media_content_id for child in project.children] == [timelapse["media_content_id"]]
    played = await media_source.async_resolve_media(hass, timelapse["media_content_id"], None)
    response = await (await hass_client()).get(played.url)
    assert response.status == 200
    body = await response.read()
    assert body[4:8] == b"ftyp"
    assert len(body) == timelapse["bytes"]

    await action(hass, "set_camera_activity", camera=CAMERA_ENTITY, active=False)
    assert service.call("GET", f"/api/cameras/{camera_id}")[1]["active"] is False


async def test_actions_name_cameras_precisely(
    hass: HomeAssistant,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
) -> None:
    with pytest.raises(ServiceValidationError, match="No camera nowhere"):
        await action(hass, "record_clip", camera="nowhere", duration=2)
    # Known to Home Assistant until the next poll, gone from the service: its refusal.
    assert service.call("DELETE", f"/api/cameras/{camera_id}")[0] == 204
    with pytest.raises(HomeAssistantError, match=r"The recorder service: .*camera"):
        await action(hass, "record_clip", camera=camera_id, duration=2)
    with pytest.raises(HomeAssistantError, match="The recorder service"):
        await action(hass, "set_camera_activity", camera=camera_id, active=True)
    with pytest.raises(HomeAssistantError, match="The recorder service"):
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": "switch.bench_recording"}, blocking=True
        )


async def test_without_a_service_the_actions_say_so(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    for name, data in (
        ("record_clip", {"camera": "x", "duration": 2}),
        ("build_timelapse", {"camera": "x", "start": "2026-01-01"}),
        ("set_camera_activity", {"camera": "x", "active": True}),
    ):
        with pytest.raises(ServiceValidationError, match="No recorder service"):
            await action(hass, name, **data)


async def test_the_browser_and_the_view_refuse_what_is_not_there(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    browser: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
) -> None:
    # The browser shows these errors: each is translated.
    for folder, message in (
        (f"{ROOT}/recording/{camera_id}/2026-01-05/nothing", "The recorder has nothing at rec"),
        (f"{ROOT}/project/Not a project", "The recorder has nothing at project/Not a project:"),
        (f"{ROOT}/camera/Not-a-camera", "The recorder service: 'Not-a-camera' is not a camera"),
    ):
        with pytest.raises(media_source.Unresolvable, match=message) as unknown:
            await media_source.async_browse_media(hass, folder)
        assert unknown.value.translation_domain == DOMAIN
    with pytest.raises(media_source.Unresolvable) as unknown:
        await media_source.async_resolve_media(
            hass, f"{ROOT}/timelapse/{camera_id}/yesterday/_none", None
        )
    assert unknown.value.translation_key == "recorder_failed"
    client = await hass_client()
    odd = await client.get(f"/api/makerhub/recorder/{camera_id}/thumbnails/a.jpg")
    assert odd.status == 404

    await hass.config_entries.async_unload(browser.entry_id)
    with pytest.raises(media_source.Unresolvable, match="No recorder service is set up"):
        await media_source.async_browse_media(hass, ROOT)
    stopped = await client.get(f"/api/makerhub/recorder/{camera_id}/segments/a.mp4")
    assert stopped.status == 503
