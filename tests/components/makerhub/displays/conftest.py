"""Fixtures of the displays tests: a hub with two displays (the display agent's schema),
one in the workbench's area and one in the laser cutter's, and a unit that is no display.

The desktop tests use the real desktops service (the desktops tests' fixtures)."""

from __future__ import annotations

from typing import Any

from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import DOMAIN
from makerhub_display.agent import MAKERHUB_JSON
from tests.components.makerhub.conftest import UID, unit_subentry
from tests.components.makerhub.desktops.conftest import (  # noqa: F401 (fixtures)
    clock_project,
    desktops_hub,
    repo_credential,
    repos_url,
    service,
    stored_project,
)

WORKBENCH = "aaaaaaaaaaa1"
LASER = "aaaaaaaaaaa2"
BENCH = UID
"""A unit that is no display."""


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """Two displays and a bench controller."""
    return [
        unit_subentry(WORKBENCH, "Workbench display", MAKERHUB_JSON, "display-workbench", None),
        unit_subentry(LASER, "Laser display", MAKERHUB_JSON, "display-laser", None),
        unit_subentry(),
    ]


@pytest.fixture
def stored_clock(hass_storage: dict[str, Any], hass_admin_user: User) -> None:
    """The project Clock in storage, before the hub loads (no desktops service)."""
    hass_storage["makerhub.projects"] = {
        "version": 1,
        "minor_version": 1,
        "key": "makerhub.projects",
        "data": {"projects": [stored_project(hass_admin_user.id, None)]},
    }


def device_id(hass: HomeAssistant, uid: str) -> str:
    """Return the device id of a unit."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, uid)})
    assert device is not None
    return device.id


@pytest.fixture
def areas(hass: HomeAssistant, hub: MockConfigEntry) -> dict[str, str]:
    """The stations' areas, each display's device put in its station's; by name."""
    registry = ar.async_get(hass)
    found = {name: registry.async_create(name).id for name in ("Workbench", "Laser", "Lobby")}
    devices = dr.async_get(hass)
    for uid, area in ((WORKBENCH, "Workbench"), (LASER, "Laser")):
        devices.async_update_device(device_id(hass, uid), area_id=found[area])
    devices.async_update_device(device_id(hass, BENCH), area_id=found["Lobby"])
    return found


def published_inputs(mqtt_mock: MqttMockHAClient) -> list[tuple[str, str]]:
    """Return the retained input values published, in order (topic, payload)."""
    return [
        (call.args[0], call.args[1])
        for call in mqtt_mock.async_publish.call_args_list
        if "/in/" in call.args[0] and call.args[3] is True
    ]


async def show(hass: HomeAssistant, user: User | None = None, **data: Any) -> list[dict[str, Any]]:
    """Call makerhub.show_on_display as ``user`` (None: the system); return its displays."""
    response = await hass.services.async_call(
        DOMAIN,
        "show_on_display",
        data,
        blocking=True,
        return_response=True,
        context=Context(user_id=None if user is None else user.id),
    )
    await hass.async_block_till_done()
    assert response is not None
    return list(response["displays"])  # type: ignore[call-overload]
