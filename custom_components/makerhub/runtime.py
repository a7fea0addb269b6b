"""The loaded hub's runtime: every part of it, built whole before a platform is set up.

``entry.runtime_data`` is a :class:`MakerhubRuntime` (:func:`async_build_runtime`);
nothing is assigned to it, or to its parts, after it is built, and a change of what it was
built from (:func:`entry_settings`) means reload. Actions, views and flows find it one way
each: :func:`loaded_runtime` (an action's "hub not loaded" error), :func:`running_runtime`
(a view answers 503 without it), :func:`flow_runtime` (a flow aborts ``hub_not_loaded``;
subentry flows call it through ``flows.HubSubentryFlow.hub_runtime``) and
:func:`entry_runtime` (None while the entry is not loaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.exceptions import ServiceValidationError

from .broker_access.access import BrokerAccess, async_create_broker_access
from .cameras.manager import HubCameras, async_create_cameras
from .const import (
    DOMAIN,
    SUBENTRY_AGGREGATE,
    SUBENTRY_PHONE,
    SUBENTRY_REPOSITORY,
    SUBENTRY_STATION,
)
from .data import makerhub_data
from .desktops.manager import HubDesktops, async_create_desktops
from .firmware.manager import HubFirmware, async_create_firmware
from .health.manager import HubHealth, create_health
from .presence.manager import HubPresence
from .projects.devices import ProjectDevices
from .subentries import subentries_of
from .telemetry.manager import HubTelemetry
from .units.hub import HubOptions, MakerhubHub
from .units.setpoints import SetpointStore


def entry_settings(entry: ConfigEntry) -> tuple[Any, ...]:
    """Return what a hub reloads for when it changes: data, options, the subentries of
    telemetry aggregates, phones, stations and repositories.

    Unit, link and project subentries are not in it: the hub follows those without a reload.
    """
    others = sorted(
        (subentry.subentry_id, subentry.title, dict(subentry.data))
        for subentry in subentries_of(
            entry, SUBENTRY_AGGREGATE, SUBENTRY_PHONE, SUBENTRY_STATION, SUBENTRY_REPOSITORY
        )
    )
    return dict(entry.data), dict(entry.options), others


@dataclass(frozen=True, slots=True)
class MakerhubRuntime:
    """The parts of a loaded hub."""

    hub: MakerhubHub
    """The units on MQTT, kept in step with the unit and link subentries."""
    telemetry: HubTelemetry | None
    """Where values are recorded; None when no database is configured or its stored
    address cannot be opened (a repair issue says so)."""
    broker_access: BrokerAccess
    """Per-unit broker credentials and, when the hub manages the broker, ACLs."""
    firmware: HubFirmware
    """Repositories, units made from them and their updates (a client when the firmware
    service is set up)."""
    desktops: HubDesktops
    """The projects' desktops (a client when the desktops service is set up)."""
    cameras: HubCameras
    """The space's cameras (a client when the recorder service is set up)."""
    presence: HubPresence
    """Who is where, from the stations' Bluetooth and the phones' reports."""
    setpoints: SetpointStore
    """Every unit input's desired value, stored (the hub keeps it in step)."""
    project_devices: ProjectDevices
    """The projects' devices and entities, following the project subentries."""
    health: HubHealth
    """What should run against what runs: problems, root causes, restarts."""
    settings: tuple[Any, ...]
    """What the entry held when the runtime was built (:func:`entry_settings`); a change
    means reload."""

    async def async_stop(self) -> None:
        """Stop health and the hub, then presence and broker access."""
        self.health.async_stop()
        await self.hub.async_stop()
        self.presence.async_stop()
        self.broker_access.async_stop()


type MakerhubConfigEntry = ConfigEntry[MakerhubRuntime]


async def async_build_runtime(hass: HomeAssistant, entry: ConfigEntry) -> MakerhubRuntime:
    """Build every part of the hub; nothing is subscribed or started yet.

    Telemetry is stopped when the entry unloads, and also when set-up fails later on;
    people's project topics go under the hub's prefix until then.
    """
    telemetry = await HubTelemetry.async_create(hass, entry)
    if telemetry is not None:
        entry.async_on_unload(telemetry.async_stop)
    prefix = HubOptions.from_entry(entry).prefix
    data = makerhub_data(hass)
    projects = data.projects
    entry.async_on_unload(projects.publish_under(prefix))
    setpoints = SetpointStore(hass)
    broker_access = await async_create_broker_access(hass, entry, prefix, data.unit_credentials)
    hub = MakerhubHub(
        hass, entry, telemetry=telemetry, broker_access=broker_access, setpoints=setpoints
    )
    firmware = await async_create_firmware(hass, entry, hub, broker_access.credentials)
    desktops = await async_create_desktops(hass, entry, projects, data.accounts)
    cameras = await async_create_cameras(hass, entry)
    return MakerhubRuntime(
        hub=hub,
        telemetry=telemetry,
        broker_access=broker_access,
        firmware=firmware,
        desktops=desktops,
        cameras=cameras,
        presence=HubPresence(hass, entry, prefix, data.active_hours),
        setpoints=setpoints,
        project_devices=ProjectDevices(hass, entry, projects),
        health=create_health(
            hass,
            entry,
            hub,
            telemetry=telemetry,
            firmware=firmware,
            desktops=desktops,
            cameras=cameras,
            broker_access=broker_access,
        ),
        settings=entry_settings(entry),
    )


def running_runtime(hass: HomeAssistant) -> MakerhubRuntime | None:
    """Return the loaded hub's runtime, None when no hub is loaded."""
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        runtime: MakerhubRuntime = entry.runtime_data
        return runtime
    return None


def loaded_runtime(hass: HomeAssistant) -> MakerhubRuntime:
    """Return the loaded hub's runtime; raise ``hub_not_loaded`` for an action."""
    if (runtime := running_runtime(hass)) is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="hub_not_loaded")
    return runtime


def entry_runtime(entry: MakerhubConfigEntry) -> MakerhubRuntime | None:
    """Return the runtime of a hub entry while it is loaded, else None."""
    return entry.runtime_data if entry.state is ConfigEntryState.LOADED else None


def flow_runtime(entry: MakerhubConfigEntry) -> MakerhubRuntime:
    """Return the runtime of a flow's hub entry; abort the flow ``hub_not_loaded``."""
    if (runtime := entry_runtime(entry)) is None:
        raise AbortFlow("hub_not_loaded")
    return runtime
