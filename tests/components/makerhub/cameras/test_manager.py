"""HubCameras: repair issues (service unreachable, camera lost for long, the disk's floor),
the diagnostics (no token, no stream address), nothing without a service."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, MqttMockHAClient

from custom_components.makerhub.cameras.manager import ISSUE_FLOOR, ISSUE_LOST, ISSUE_UNREACHABLE
from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.devices import camera_device_id
from dev.processes.recorder_process import RecorderServiceProcess
from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.recorder_service import TOKEN, recorder_service, small_tmpfs

from .conftest import STATUS, SWITCH, refresh, set_recorder_options


async def test_an_unreachable_service_raises_a_repair_issue(
    hass: HomeAssistant, cameras_hub: MockConfigEntry, service: RecorderServiceProcess
) -> None:
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE) is None
    service.stop()
    await refresh(hass, cameras_hub)
    issue = issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["url"] == service.url
    assert "cannot be reached" in issue.translation_placeholders["error"]
    assert hass.states.get(STATUS).state == STATE_UNAVAILABLE
    assert hass.states.get(SWITCH).state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.makerhub_recordings_disk_free").state == STATE_UNAVAILABLE

    service.start()
    await refresh(hass, cameras_hub)
    assert issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE) is None
    assert hass.states.get(STATUS).state != STATE_UNAVAILABLE


@pytest.fixture
def lost_service(socket_enabled: None, camera: RtspCamera):  # type: ignore[no-untyped-def]
    """A service that calls a camera lost after 2 s without pictures, stalls after 1 s."""
    with recorder_service(TOKEN, "--lost-after", "2", "--stall-timeout", "1") as running:
        yield running


async def test_a_camera_lost_for_long_raises_a_repair_until_it_is_back(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    lost_service: RecorderServiceProcess,
    camera: RtspCamera,
) -> None:
    status, answer = lost_service.call(
        "POST", "/api/cameras", {"source": camera.url, "name": "Bench"}
    )
    assert status == 201, answer
    issue_id = f"{ISSUE_LOST}_{answer['id']}"
    await set_recorder_options(hass, hub, recorder_url=lost_service.url, recorder_token=TOKEN)
    issues = ir.async_get(hass)

    async def until(status: str) -> None:
        async with asyncio.timeout(90):
            while True:
                await refresh(hass, hub)
                if hass.states.get(STATUS).state == status:
                    return
                await asyncio.sleep(0.5)

    await until("idle")
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    camera.kill()
    await until("error")
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["camera"] == "Bench"
    assert hass.states.get(STATUS).attributes["lost_since"] is not None
    camera.start()
    await until("idle")
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_the_floor_reached_raises_a_repair(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry, socket_enabled: None
) -> None:
    # A floor larger than any disk: reached at once, nothing to delete.
    with recorder_service(TOKEN, "--free-floor-gib", "1000000") as service:
        await set_recorder_options(hass, hub, recorder_url=service.url, recorder_token=TOKEN)
        issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_FLOOR)
        assert issue is not None
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["floor"] == "1000000.0 GiB"
        free = hass.states.get("sensor.makerhub_recordings_disk_free")
        assert free.attributes["floor_reached"] is True
        await hass.config_entries.async_unload(hub.entry_id)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MiB tmpfs with 3.5 MiB taken, unmounted at the end."""
    with small_tmpfs(tmp_path / "disk") as disk:
        (disk / "filler").write_bytes(b"\0" * (7 * 2**19))
        yield disk


async def test_the_floor_kept_by_deleting_raises_a_repair_until_deletions_stop(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    camera: RtspCamera,
    small_disk: Path,
) -> None:
    """The service keeps a 2 MiB floor by deleting early: between its passes the disk is
    above the floor, yet the issue is raised while a poll finds new early deletions, and
    cleared by the first poll that finds none (recording stopped)."""
    floor = str(2 / 1024)  # GiB
    args = ("--free-floor-gib", floor, "--recordings", str(small_disk / "rec"))
    with recorder_service(TOKEN, *args) as service:
        status, answer = service.call("POST", "/api/cameras", {"source": camera.url})
        assert status == 201, answer
        camera_id = answer["id"]
        await set_recorder_options(hass, hub, recorder_url=service.url, recorder_token=TOKEN)
        issues = ir.async_get(hass)
        assert issues.async_get_issue(DOMAIN, ISSUE_FLOOR) is None
        service.call("POST", f"/api/cameras/{camera_id}/recording/start")

        async def early_deletions() -> int:
            return int(service.call("GET", "/api/storage")[1]["early_deletions"])

        async with asyncio.timeout(90):
            while not (await early_deletions()):
                await asyncio.sleep(0.25)
        await refresh(hass, hub)
        issue = issues.async_get_issue(DOMAIN, ISSUE_FLOOR)
        assert issue is not None
        assert issue.translation_placeholders is not None
        assert int(issue.translation_placeholders["deleted"]) >= 1

        service.call("POST", f"/api/cameras/{camera_id}/recording/stop")
        service.call("DELETE", f"/api/cameras/{camera_id}")  # nothing more is written
        await refresh(hass, hub)  # may still see the last deletions
        await refresh(hass, hub)
        storage = service.call("GET", "/api/storage")[1]
        assert not storage["floor_reached"]
        assert issues.async_get_issue(DOMAIN, ISSUE_FLOOR) is None
        await hass.config_entries.async_unload(hub.entry_id)


async def test_the_diagnostics_part_and_the_cameras_device(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera: RtspCamera,
    camera_id: str,
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, cameras_hub)
    part = diagnostics["cameras"]
    assert part["url"] == service.url
    assert part["last_poll_succeeded"] is True
    assert part["cameras"][camera_id]["name"] == "Bench"
    assert part["cameras"][camera_id]["kind"] == "rtsp"
    assert part["storage"]["free_bytes"] > 0
    assert diagnostics["entry"]["options"]["recorder_token"] == "**REDACTED**"
    assert TOKEN not in str(diagnostics)
    assert camera.url not in str(diagnostics)

    device = dr.async_get(hass).async_get_device({(DOMAIN, camera_device_id(camera_id))})
    assert device is not None
    on_device = await get_diagnostics_for_device(hass, hass_client, cameras_hub, device)
    assert on_device["device"] == {"kind": "camera", "id": camera_id, "exists": True}
    assert on_device["camera"]["name"] == "Bench"


async def test_without_a_service_there_is_nothing_to_poll(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hub: MockConfigEntry
) -> None:
    cameras = hub.runtime_data.cameras
    assert not cameras.configured
    assert not cameras.available
    assert cameras.storage is None
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, hub)
    assert diagnostics["cameras"] is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_UNREACHABLE) is None
    assert hass.states.get("sensor.makerhub_recordings_disk_free") is None
