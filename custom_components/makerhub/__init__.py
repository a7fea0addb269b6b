"""Makerhub: run a makerspace, or any fleet of DIY devices, from Home Assistant.

Set-up of the integration (actions, HTTP endpoints, and its own state: ``data.py``) and of
the hub entry: its runtime (``runtime.py``) is built whole, then started and its platforms
set up; the entry's unload, its updates (reload, or the subentries followed) and which of
its devices the user may delete.
"""

from __future__ import annotations

from datetime import timedelta
import logging

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.typing import ConfigType

from .cameras.media_source import RecorderFileView
from .const import CONF_TODOIST_INTERVAL, DEFAULT_TODOIST_INTERVAL, DOMAIN, PLATFORMS
from .dashboards.api import async_register_api as async_register_dashboards_api
from .dashboards.frontend import async_register_frontend
from .data import async_load_data, makerhub_data
from .desktops.panel import async_setup_panel, async_show_panel
from .devices import makerhub_device
from .displays.views import async_register_views as async_register_display_views
from .first_run.steps import async_update_next_steps
from .members.api import async_register_api as async_register_member_api
from .presence.view import PresenceReportView
from .projects.api import async_register_api as async_register_project_api
from .runtime import MakerhubConfigEntry, async_build_runtime, entry_settings
from .services import async_setup_services
from .stale_devices import async_forget_device, async_remove_stale_devices, device_exists
from .units.setpoints import SetpointStore
from .units.views import UnitApiView, UnitArchiveView, UnitFileView

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the service actions and the HTTP endpoints, and load what the integration
    holds whatever its entries (projects, accounts, unit credentials)."""
    # The frontend module first: a page served before it is registered loads it only
    # later, and a strategy dashboard opened meanwhile can time out waiting for it.
    await async_register_frontend(hass)
    async_setup_services(hass)
    hass.http.register_view(PresenceReportView())
    hass.http.register_view(RecorderFileView())
    for view in (UnitFileView(), UnitApiView(), UnitArchiveView()):
        hass.http.register_view(view)
    await async_load_data(hass)
    async_register_project_api(hass)
    await async_setup_panel(hass)
    async_register_member_api(hass)
    async_register_dashboards_api(hass)
    await async_register_display_views(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: MakerhubConfigEntry) -> bool:
    """Start the hub: subscribe to the unit namespace and create the units' entities."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_unavailable")
    runtime = entry.runtime_data = await async_build_runtime(hass, entry)
    await runtime.hub.async_start()
    async_remove_stale_devices(hass, entry)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await runtime.firmware.async_start()
    entry.async_on_unload(runtime.firmware.async_stop)
    await runtime.desktops.async_start()
    entry.async_on_unload(await async_show_panel(hass, runtime.desktops))
    await runtime.health.async_start()
    await runtime.cameras.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    runtime.presence.async_start()
    todoist = makerhub_data(hass).todoist
    todoist.async_start(
        timedelta(minutes=entry.options.get(CONF_TODOIST_INTERVAL, DEFAULT_TODOIST_INTERVAL))
    )
    entry.async_on_unload(todoist.async_stop)
    async_update_next_steps(hass, entry)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: MakerhubConfigEntry) -> bool:
    """Unload the platforms and stop the hub's runtime."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def _async_entry_updated(hass: HomeAssistant, entry: MakerhubConfigEntry) -> None:
    """Reload for changed settings; follow unit subentries without a reload."""
    runtime = entry.runtime_data
    await runtime.firmware.async_forget_removed_repos()
    if runtime.settings != entry_settings(entry):
        await runtime.hub.async_move_prefix()
        await hass.config_entries.async_reload(entry.entry_id)
        return
    runtime.project_devices.subentries_changed()
    await runtime.hub.async_reconcile()
    runtime.health.units_changed()


async def async_remove_entry(hass: HomeAssistant, entry: MakerhubConfigEntry) -> None:
    """Drop the hub's repair issues and stored set-points with it."""
    await SetpointStore(hass).async_remove()
    for issue_id in list(ir.async_get(hass).issues):
        if issue_id[0] == DOMAIN:
            ir.async_delete_issue(hass, DOMAIN, issue_id[1])


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: MakerhubConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a device only once what it stands for is gone.

    The hub's own device, and the device of a unit, station or repository whose subentry
    is stored or of a project whose record is, stay: their entities are live (a unit, a
    station or a repository is deleted from the hub's page, a project with its action or
    wizard entry, and its device goes with it). A stale device goes with its entities and
    the repair issues naming it.
    """
    stands_for = makerhub_device(device)
    if stands_for is None:
        return True  # not one of the hub's devices: nothing of the hub is behind it
    if device_exists(hass, entry, stands_for):
        return False
    async_forget_device(hass, stands_for)
    return True
