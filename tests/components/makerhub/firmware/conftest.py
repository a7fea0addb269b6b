"""Fixtures and helpers of the firmware tests: a real firmware service, a repository, and
a hub using them."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
)

from custom_components.makerhub.const import (
    SUBENTRY_FIRMWARE_UNIT,
    SUBENTRY_REPOSITORY,
)
from custom_components.makerhub.firmware.manager import (
    firmware_units,
)
from tests.helpers.firmware_service import TOKEN, FirmwareServer, thermometer_repo


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """No adopted units."""
    return []


@pytest.fixture
async def service(socket_enabled: None, tmp_path: Path) -> AsyncIterator[FirmwareServer]:
    """The real firmware service."""
    async with FirmwareServer(tmp_path / "firmware") as server:
        yield server


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Any, str, str]:
    """A bare git repository with two commits (v1.0.0 tags the first)."""
    return thermometer_repo(tmp_path / "git")


async def options(hass: HomeAssistant, entry: MockConfigEntry, **fields: Any) -> dict[str, Any]:
    """Fill the firmware options form."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "firmware"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], fields)
    await hass.async_block_till_done()
    return result


async def start_flow(hass: HomeAssistant, entry: MockConfigEntry, kind: str) -> dict[str, Any]:
    """Start a subentry flow of ``kind`` from the UI; return its first result."""
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind), context={"source": "user"}
    )


async def add_repository(
    hass: HomeAssistant, entry: MockConfigEntry, **fields: Any
) -> dict[str, Any]:
    """Fill the repository form; return the result."""
    result = await start_flow(hass, entry, SUBENTRY_REPOSITORY)
    assert result["step_id"] == "user", result
    return await hass.config_entries.subentries.async_configure(result["flow_id"], fields)


def repository_titles(entry: MockConfigEntry) -> list[str]:
    """Return the titles of the repositories registered in the hub."""
    return [s.title for s in entry.subentries.values() if s.subentry_type == SUBENTRY_REPOSITORY]


@pytest.fixture
async def firmware_hub(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: FirmwareServer,
    repo: tuple[Any, str, str],
) -> MockConfigEntry:
    """The hub using the firmware service, with the repository registered."""
    result = await options(hass, hub, firmware_url=service.base_url, firmware_token=TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await register_repo(hass, hub, repo[0].url, "Thermo")
    return hub


async def register_repo(hass: HomeAssistant, entry: MockConfigEntry, url: str, name: str) -> str:
    """Register a repository through its subentry flow; return its id."""
    result = await add_repository(hass, entry, url=url, name=name, sync_hours=0)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return next(str(sub.data["repo_id"]) for sub in entry.subentries.values() if sub.title == name)


async def create_unit(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    name: str = "Lab thermo",
    track: str = "",
    *,
    auto_update: bool = False,
) -> str:
    """Create a unit from the repository; return its uid."""
    repo_id = next(
        s.data["repo_id"]
        for s in entry.subentries.values()
        if s.subentry_type == SUBENTRY_REPOSITORY
    )
    result = await start_flow(hass, entry, SUBENTRY_FIRMWARE_UNIT)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": name, "repo_id": repo_id, "track": track, "auto_update": auto_update},
    )
    assert result["step_id"] == "env", result
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"SENSOR_PIN": 7, "CLOUD_KEY": "k-123", "WIFI_SSID": "lab"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    return next(uid for uid, s in firmware_units(entry).items() if s.title == name)


def sent_commands(mqtt_mock: MqttMockHAClient, uid: str) -> list[dict[str, Any]]:
    """Return the commands sent to a unit, oldest first."""
    return [
        json.loads(c.args[1])
        for c in mqtt_mock.async_publish.call_args_list
        if c.args[0] == f"makerhub/{uid}/sys/cmd"
    ]


def commands(mqtt_mock: MqttMockHAClient, uid: str) -> list[str]:
    """Return the names of the commands sent to a unit, oldest first."""
    return [c["cmd"] for c in sent_commands(mqtt_mock, uid)]


def updates(mqtt_mock: MqttMockHAClient, uid: str) -> list[dict[str, Any]]:
    """Return the update commands sent to a unit."""
    return [c for c in sent_commands(mqtt_mock, uid) if c["cmd"] == "update"]


def sent_update(mqtt_mock: MqttMockHAClient, uid: str) -> dict[str, Any]:
    """Return the last update command sent to a unit (an empty one before any)."""
    return (updates(mqtt_mock, uid) or [{"version": None}])[-1]
