"""Every kind of device the hub makes: its device diagnostics (content and redaction),
which devices the user may delete (only stale ones, nothing left behind), and stale
devices removed by the hub itself when it starts.

The hub, unit, station and project devices are here; repository devices and units made
from repositories need the firmware service and are in ``test_firmware``.
"""

from __future__ import annotations

import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.makerhub.const import DATA_AREA, DATA_DISPLAY, DOMAIN, SUBENTRY_LINK
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.devices import (
    project_device_id,
    repo_device_id,
    station_device_id,
)
from custom_components.makerhub.firmware.manager import ISSUE_REPO
from custom_components.makerhub.projects.accounts import Service

from .conftest import BENCH_SCHEMA, UID, bring_online, unit_subentry
from .links.test_flow import FAN, add_link
from .presence.test_manager import UUID, beacon, post, settle, station

CORRUPT = "cccccccccccc"
"""A unit whose stored schema is corrupt: skipped by the hub, its subentry still there."""
REJECTED = "Failed to remove device entry, rejected by integration"
"""What Home Assistant answers when the integration refuses to delete a device."""
MAC = (dr.CONNECTION_NETWORK_MAC, "aa:bb:cc:dd:ee:ff")
"""The connection of a device that is not the hub's."""
CLOUD_ID = {"type": "str", "default": "cloud-4711", "secret": True}
"""An env key the unit's makerhub.json declares secret, with a default."""
TODOIST_TOKEN = "todoist-secret-0123456789"


def bench_station() -> ConfigSubentryData:
    """Return the station *Bench A* with a scanner, an area and a display."""
    subentry = station("Bench A", 1, ("AA:BB:CC:00:00:01",))
    subentry["data"] = {**subentry["data"], DATA_AREA: "workshop", DATA_DISPLAY: "display-1"}
    return subentry


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """Two units (Bench declares a secret env key), a unit with a corrupt stored schema,
    and a station."""
    return [
        unit_subentry(schema={**BENCH_SCHEMA, "env": {"CLOUD_ID": CLOUD_ID}}),
        unit_subentry(FAN, "Fan", announce_id="fan-1"),
        unit_subentry(CORRUPT, "Broken", schema={"x": 1}, announce_id=None),
        bench_station(),
    ]


async def create_project(hass: HomeAssistant, user: User, name: str) -> str:
    """Create a project with the action; return its id."""
    response = await hass.services.async_call(
        DOMAIN,
        "create_project",
        {"name": name, "description": "A clock", "steps": ["Cut the case"]},
        blocking=True,
        return_response=True,
        context=Context(user_id=user.id),
    )
    await hass.async_block_till_done()
    assert response is not None
    return str(response["id"])


def device_of(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry:
    """Return the hub's device with that identifier."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, identifier)})
    assert device is not None, identifier
    return device


def station_id(entry: MockConfigEntry) -> str:
    """Return the subentry id of the station."""
    return next(s.subentry_id for s in entry.subentries.values() if s.title == "Bench A")


async def remove_device(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, entry: MockConfigEntry, device_id: str
) -> dict[str, Any]:
    """Ask, as the device page's *Delete* does, to remove the device from the hub."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device_id,
        }
    )
    response: dict[str, Any] = await client.receive_json()
    await hass.async_block_till_done()
    return response


# -- device diagnostics ---------------------------------------------------------------


async def test_hub_device_diagnostics(
    hass: HomeAssistant, alice: str, hass_client: ClientSessionGenerator, hub: MockConfigEntry
) -> None:
    """The hub's own device: presence, projects, telemetry (off) and the rollout (none)."""
    diagnostics = await get_diagnostics_for_device(hass, hass_client, hub, device_of(hass, "hub"))
    assert diagnostics["device"] == {"kind": "hub", "id": "hub", "exists": True}
    assert diagnostics["telemetry"] is None
    assert diagnostics["rollout"] is None
    assert [s["name"] for s in diagnostics["presence"]["stations"].values()] == ["Bench A"]
    assert diagnostics["projects"]["count"] == 0
    assert diagnostics["projects"]["connected_accounts"] == {alice: []}


async def test_unit_device_diagnostics(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hub: MockConfigEntry
) -> None:
    """A unit: its runtime picture, bad input, links and broker access; secret-looking
    inputs and the defaults of secret env keys redacted; a unit not made from a
    repository has no firmware part."""
    await bring_online(hass)
    await bring_online(hass, FAN)
    result = await add_link(
        hass, hub, source="sensor.bench_temperature", target="number.fan_target"
    )
    assert result["title"] == "Bench temperature → Fan target"
    hub.runtime_data.hub.units[UID].inputs["password"] = "hunter2"
    diagnostics = await get_diagnostics_for_device(hass, hass_client, hub, device_of(hass, UID))
    assert diagnostics["device"] == {"kind": "unit", "id": UID, "exists": True}
    assert diagnostics["unit"]["name"] == "Bench"
    assert diagnostics["unit"]["available"] is True
    assert diagnostics["unit"]["inputs"]["password"] == "**REDACTED**"
    assert diagnostics["unit"]["schema"]["env"]["CLOUD_ID"]["default"] == "**REDACTED**"
    assert "hunter2" not in json.dumps(diagnostics)
    assert "cloud-4711" not in json.dumps(diagnostics)
    assert diagnostics["bad_input"] == 0
    assert diagnostics["links"] == [
        {"source": UID, "output": "temperature", "target": FAN, "input": "target"}
    ]
    assert diagnostics["broker_access"] == {"mode": "none", "applied": False}
    assert diagnostics["firmware"] is None
    assert any(s.subentry_type == SUBENTRY_LINK for s in hub.subentries.values())


async def test_corrupt_unit_device_diagnostics(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """The device of a unit the hub skipped (corrupt stored schema) says so."""
    hub_entry.add_to_hass(hass)
    dr.async_get(hass).async_get_or_create(
        config_entry_id=hub_entry.entry_id, identifiers={(DOMAIN, CORRUPT)}, name="Broken"
    )
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    device = device_of(hass, CORRUPT)  # kept: its subentry is still there
    diagnostics = await get_diagnostics_for_device(hass, hass_client, hub_entry, device)
    assert diagnostics == {
        "device": {"kind": "unit", "id": CORRUPT, "exists": True},
        "unit": None,
        "error": "its stored schema is corrupt (see its repair issue)",
    }


async def test_station_device_diagnostics(
    hass: HomeAssistant,
    alice: str,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A station: its beacon, scanners, area and display, and who is there."""
    assert await async_setup_component(hass, "diagnostics", {})
    client = await hass_client()
    status, _ = await post(client, {"beacon": beacon(1), "distance": 0.8, "project": "clock"})
    assert status == 200
    await settle(hass, freezer, 2)
    key = station_id(hub)
    device = device_of(hass, station_device_id(key))
    diagnostics = await get_diagnostics_for_device(hass, hass_client, hub, device)
    assert diagnostics == {
        "device": {"kind": "station", "id": key, "exists": True},
        "station": {
            "name": "Bench A",
            "beacon": {"uuid": UUID, "major": 1, "minor": 1},
            "measured_power": -59,
            "scanners": ["AA:BB:CC:00:00:01"],
            "area_id": "workshop",
            "display_device_id": "display-1",
        },
        "people": {alice: {"distance": 0.8, "source": "http", "project": "clock"}},
    }


async def test_project_device_diagnostics(
    hass: HomeAssistant,
    alice: str,
    hass_admin_user: User,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """A project: its record, its owner's connected services, never their tokens."""
    project_id = await create_project(hass, hass_admin_user, "Clock")
    await makerhub_data(hass).accounts.async_set(alice, Service.TODOIST, TODOIST_TOKEN)
    device = device_of(hass, project_device_id(project_id))
    diagnostics = await get_diagnostics_for_device(hass, hass_client, hub, device)
    assert diagnostics["device"] == {"kind": "project", "id": project_id, "exists": True}
    assert diagnostics["project"]["name"] == "Clock"
    assert diagnostics["project"]["description"] == "A clock"
    assert [step["text"] for step in diagnostics["project"]["steps"]] == ["Cut the case"]
    assert diagnostics["wizard_subentry"] is False
    assert diagnostics["todoist"] == {}
    assert diagnostics["owner"] == {"person": alice, "connected_accounts": ["todoist"]}
    assert TODOIST_TOKEN not in json.dumps(diagnostics)


async def test_project_device_diagnostics_without_owner_person(
    hass: HomeAssistant,
    hass_admin_user: User,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """A project whose owner is no person: no connected accounts to show."""
    project_id = await create_project(hass, hass_admin_user, "Clock")
    device = device_of(hass, project_device_id(project_id))
    diagnostics = await get_diagnostics_for_device(hass, hass_client, hub, device)
    assert diagnostics["owner"] == {"person": None, "connected_accounts": []}


async def test_foreign_stale_and_stopped_device_diagnostics(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hub: MockConfigEntry
) -> None:
    """A device that is not the hub's, a stale device and a stopped hub get short answers,
    not an error."""
    registry = dr.async_get(hass)
    foreign = registry.async_get_or_create(config_entry_id=hub.entry_id, connections={MAC})
    assert await get_diagnostics_for_device(hass, hass_client, hub, foreign) == {
        "device": None,
        "error": "not a device of the Makerhub hub",
    }
    stale = registry.async_get_or_create(
        config_entry_id=hub.entry_id, identifiers={(DOMAIN, station_device_id("gone"))}
    )
    assert await get_diagnostics_for_device(hass, hass_client, hub, stale) == {
        "device": {"kind": "station", "id": "gone", "exists": False},
        "error": "its station no longer exists; delete the device on its page",
    }
    assert await hass.config_entries.async_unload(hub.entry_id)
    assert hub.state is ConfigEntryState.NOT_LOADED
    assert await get_diagnostics_for_device(hass, hass_client, hub, device_of(hass, UID)) == {
        "device": {"kind": "unit", "id": UID, "exists": True},
        "error": "the hub is not running",
    }


# -- removing devices -----------------------------------------------------------------


async def test_live_devices_cannot_be_deleted(
    hass: HomeAssistant,
    hass_admin_user: User,
    hass_ws_client: WebSocketGenerator,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """The hub's device and the devices of stored units (a corrupt one too), stations
    and projects are refused, and keep their entities."""
    hub_entry.add_to_hass(hass)
    dr.async_get(hass).async_get_or_create(
        config_entry_id=hub_entry.entry_id, identifiers={(DOMAIN, CORRUPT)}
    )
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    project_id = await create_project(hass, hass_admin_user, "Clock")
    entities = er.async_get(hass)
    for identifier in (
        "hub",
        UID,
        CORRUPT,
        station_device_id(station_id(hub_entry)),
        project_device_id(project_id),
    ):
        device = device_of(hass, identifier)
        before = er.async_entries_for_device(entities, device.id)
        response = await remove_device(hass, hass_ws_client, hub_entry, device.id)
        assert not response["success"], identifier
        assert (
            response["error"]["message"] == "Failed to remove device entry, rejected by integration"
        )
        assert device_of(hass, identifier).id == device.id
        assert er.async_entries_for_device(entities, device.id) == before
    assert hass.states.get("sensor.bench_temperature") is not None
    assert len(hub_entry.subentries) == 4


@pytest.mark.parametrize(
    ("identifier", "issue_ids"),
    [
        ("ffffffffffff", ["corrupt_unit_ffffffffffff", "schema_refused_ffffffffffff"]),
        (station_device_id("gone"), []),
        (repo_device_id("gone"), [f"{ISSUE_REPO}_gone"]),
        (project_device_id("gone"), []),
    ],
)
async def test_stale_device_can_be_deleted(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    hub: MockConfigEntry,
    identifier: str,
    issue_ids: list[str],
) -> None:
    """A device whose unit, station, repository or project is gone can be deleted: its
    entities and the repair issues naming it go with it."""
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=hub.entry_id, identifiers={(DOMAIN, identifier)}
    )
    entity = er.async_get(hass).async_get_or_create(
        "sensor", DOMAIN, f"{identifier}-leftover", config_entry=hub, device_id=device.id
    )
    for issue_id in issue_ids:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="corrupt_unit",
        )
    response = await remove_device(hass, hass_ws_client, hub, device.id)
    assert response["success"]
    assert dr.async_get(hass).async_get(device.id) is None
    assert er.async_get(hass).async_get(entity.entity_id) is None
    for issue_id in issue_ids:
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert set(hub.runtime_data.hub.units) == {UID, FAN}
    assert len(hub.subentries) == 4


async def test_foreign_device_can_be_deleted(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, hub: MockConfigEntry
) -> None:
    """A device without a Makerhub identifier has nothing of the hub behind it."""
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=hub.entry_id, identifiers={("other_integration", "phone-1")}
    )
    response = await remove_device(hass, hass_ws_client, hub, device.id)
    assert response["success"]
    assert dr.async_get(hass).async_get(device.id) is None


async def test_deleted_unit_station_and_project_take_their_devices(
    hass: HomeAssistant, hass_admin_user: User, hub: MockConfigEntry
) -> None:
    """Deleting a unit's or a station's subentry, or a project, removes its device
    without the user deleting it."""
    project_id = await create_project(hass, hass_admin_user, "Clock")
    key = station_id(hub)
    for identifier in (UID, station_device_id(key), project_device_id(project_id)):
        assert device_of(hass, identifier)
    unit_subentry_id = hub.runtime_data.hub.subentry_ids[UID]
    assert hass.config_entries.async_remove_subentry(hub, unit_subentry_id)
    assert hass.config_entries.async_remove_subentry(hub, key)  # the hub reloads
    projects = makerhub_data(hass).projects
    projects.saved(projects.registry.delete(project_id))  # as the API and actions do
    await hass.async_block_till_done()
    registry = dr.async_get(hass)
    for identifier in (UID, station_device_id(key), project_device_id(project_id)):
        assert registry.async_get_device(identifiers={(DOMAIN, identifier)}) is None, identifier
    assert device_of(hass, FAN)


# -- stale devices removed at start ---------------------------------------------------


async def test_stale_devices_removed_at_start(
    hass: HomeAssistant,
    hass_admin_user: User,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """Devices whose unit, station, repository or project went while the hub was not
    running are removed when it starts, with their entities and repair issues; devices of
    what is still stored (a corrupt unit's too) stay."""
    hub_entry.add_to_hass(hass)
    registry = dr.async_get(hass)
    stale = {
        identifier: registry.async_get_or_create(
            config_entry_id=hub_entry.entry_id, identifiers={(DOMAIN, identifier)}
        )
        for identifier in (
            "ffffffffffff",
            station_device_id("gone"),
            repo_device_id("gone"),
            project_device_id("gone"),
        )
    }
    leftover = er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        "gone-leftover",
        config_entry=hub_entry,
        device_id=stale[repo_device_id("gone")].id,
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{ISSUE_REPO}_gone",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_REPO,
    )
    kept = registry.async_get_or_create(
        config_entry_id=hub_entry.entry_id, identifiers={(DOMAIN, CORRUPT)}
    )
    foreign = registry.async_get_or_create(
        config_entry_id=hub_entry.entry_id,
        connections={MAC},
    )
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    for identifier, device in stale.items():
        assert registry.async_get(device.id) is None, identifier
    assert er.async_get(hass).async_get(leftover.entity_id) is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_REPO}_gone") is None
    assert registry.async_get(kept.id) is not None
    assert registry.async_get(foreign.id) is not None
    for identifier in (UID, FAN, station_device_id(station_id(hub_entry))):
        assert device_of(hass, identifier)
