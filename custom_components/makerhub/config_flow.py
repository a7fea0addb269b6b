"""The config flow of the hub, and the options flow made of the features' sections.

The config flow sets the hub up (``user``), changes the broker units are given
(``reconfigure``), asks again for a refused credential (``reauth``), connects the firmware
and desktops add-ons it discovers (``hassio``, ``hassio_desktops``) and adopts units
announced over MQTT (``mqtt``, ``confirm``). Its subentry types and their flows come
from the features (:data:`SUBENTRY_FLOWS`).

The options flow is a menu of sections, each a feature's :class:`~.flows.OptionsSection`
mixin holding its step (``units/options.py``: the hub's settings; ``presence``,
``telemetry``, ``projects`` with ``accounts``, ``broker_access``, ``firmware``,
``desktops``, ``displays``: each in its feature's ``options.py``). Mixins rather than
section objects: Home Assistant calls a step as the flow's ``async_step_<id>`` method, so
each section is such a method on the one options flow class, typed and found like any
other step.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from types import MappingProxyType
from typing import Any

from homeassistant.components import mqtt
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryFlow,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir, selector
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import voluptuous as vol

from .broker_access.access import (
    CONF_ADMIN_HOST,
    CONF_ADMIN_PASSWORD,
    CONF_ADMIN_PORT,
    CONF_ADMIN_USERNAME,
    ISSUE_FAILED,
    AccessMode,
    BrokerAccessCheckError,
    async_check_broker_access,
)
from .broker_access.options import ADMIN_PASSWORD, BrokerAccessOptions
from .cameras.manager import CONF_RECORDER_URL
from .cameras.options import (
    DISCOVERY_KIND as RECORDER_KIND,
    CamerasOptions,
    async_connect_discovered as async_connect_recorder,
    discovered_service as discovered_recorder,
)
from .const import (
    CONF_PREFIX,
    CONF_UNIT_BROKER_HOST,
    CONF_UNIT_BROKER_PORT,
    CONF_UNIT_BROKER_TLS,
    DEFAULT_UNIT_BROKER_PORT,
    DOMAIN,
    REAUTH_BROKER_ADMIN,
    REAUTH_CREDENTIAL,
    REAUTH_FIRMWARE,
    SUBENTRY_UNIT,
)
from .core.errors import BadInputError
from .core.firmware_client import FirmwareError
from .core.protocol import (
    DEFAULT_PREFIX,
    Announcement,
    new_unit_id,
    parse_announce_topic,
    parse_announcement,
)
from .desktops.manager import CONF_DESKTOPS_URL
from .desktops.options import (
    DISCOVERY_KIND as DESKTOPS_KIND,
    DesktopsOptions,
    async_connect_discovered as async_connect_desktops,
    discovered_service as discovered_desktops,
)
from .displays.options import DisplaysOptions
from .firmware.flow import SUBENTRY_FLOWS as FIRMWARE_FLOWS
from .firmware.manager import (
    CONF_FIRMWARE_TOKEN,
    CONF_FIRMWARE_URL,
    async_check_firmware,
    firmware_form_error,
)
from .firmware.options import FIRMWARE_TOKEN, FirmwareOptions
from .first_run.steps import async_update_next_steps
from .flows import PASSWORD, box_number, name_error
from .health.options import HealthOptions
from .links.flow import SUBENTRY_FLOWS as LINK_FLOWS
from .presence.flow import SUBENTRY_FLOWS as PRESENCE_FLOWS
from .presence.options import PresenceOptions
from .projects.flow import SUBENTRY_FLOWS as PROJECT_FLOWS
from .projects.options import ProjectsOptions
from .telemetry.flow import SUBENTRY_FLOWS as TELEMETRY_FLOWS
from .telemetry.options import TelemetryOptions
from .units.flow import SUBENTRY_FLOWS as UNIT_FLOWS
from .units.options import DEFAULT_OPTIONS, SettingsOptions, typed_prefix
from .units.subentries import unit_names, unit_subentries, unit_subentry_data
from .units.variables import check_schema

_LOGGER = logging.getLogger(__name__)

MQTT_DOMAIN = "mqtt"
HUB_TITLE = "Makerhub"

SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {
    **UNIT_FLOWS,
    **PRESENCE_FLOWS,
    **TELEMETRY_FLOWS,
    **PROJECT_FLOWS,
    **LINK_FLOWS,
    **FIRMWARE_FLOWS,
}
"""Every subentry type of the hub → its flow, gathered from the features."""


def mqtt_problem(hass: HomeAssistant) -> str | None:
    """Return why the MQTT integration cannot carry units now, or None if it can."""
    if not hass.config_entries.async_entries(MQTT_DOMAIN):
        return "mqtt_not_configured"
    if not hass.config_entries.async_loaded_entries(MQTT_DOMAIN) or not mqtt.is_connected(hass):
        return "mqtt_not_connected"
    return None


def _broker_defaults(hass: HomeAssistant) -> dict[str, Any]:
    """Suggest the broker units connect to: the one Home Assistant's MQTT uses."""
    entries = hass.config_entries.async_entries(MQTT_DOMAIN)
    data = entries[0].data if entries else {}
    return {
        CONF_UNIT_BROKER_HOST: data.get("broker", ""),
        CONF_UNIT_BROKER_PORT: data.get("port", DEFAULT_UNIT_BROKER_PORT),
        CONF_UNIT_BROKER_TLS: False,
    }


BROKER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_UNIT_BROKER_HOST): selector.TextSelector(),
        vol.Required(CONF_UNIT_BROKER_PORT): box_number(1, 65535),
        vol.Required(CONF_UNIT_BROKER_TLS): selector.BooleanSelector(),
    }
)


def _broker_data(user_input: dict[str, Any]) -> dict[str, Any]:
    return {
        CONF_UNIT_BROKER_HOST: user_input[CONF_UNIT_BROKER_HOST].strip(),
        CONF_UNIT_BROKER_PORT: int(user_input[CONF_UNIT_BROKER_PORT]),
        CONF_UNIT_BROKER_TLS: user_input[CONF_UNIT_BROKER_TLS],
    }


class MakerhubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up the hub, and adopt units discovered over MQTT."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with no discovered announcement."""
        self._announcement: Announcement | None = None
        self._firmware: tuple[str, str] | None = None
        self._desktops: tuple[str, str] | None = None
        self._desktops_addon: str | None = None
        self._recorder: tuple[str, str] | None = None
        self._refused = REAUTH_FIRMWARE
        """Which credential a reauthentication asks for."""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> MakerhubOptionsFlow:
        """Return the options flow."""
        return MakerhubOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Units, links, stations, phones, aggregates, projects, repositories and units
        made from them are subentries of the hub; each feature brings its flows."""
        return SUBENTRY_FLOWS

    def _hub_entry(self) -> ConfigEntry | None:
        entries = self._async_current_entries(include_ignore=False)
        return entries[0] if entries else None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set up the hub once MQTT is up."""
        if self._hub_entry() is not None:
            return self.async_abort(reason="single_instance_allowed")
        if mqtt_problem(self.hass) == "mqtt_not_configured":
            return self.async_abort(reason="mqtt_not_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            if (prefix := typed_prefix(user_input)) is None:
                errors[CONF_PREFIX] = "invalid_prefix"
            elif problem := mqtt_problem(self.hass):
                errors["base"] = problem
            else:
                await self.async_set_unique_id(DOMAIN)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=HUB_TITLE,
                    data=_broker_data(user_input),
                    options={**DEFAULT_OPTIONS, CONF_PREFIX: prefix},
                )
        schema = BROKER_SCHEMA.extend({vol.Required(CONF_PREFIX): selector.TextSelector()})
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                user_input or {**_broker_defaults(self.hass), CONF_PREFIX: DEFAULT_PREFIX},
            ),
            errors=errors,
        )

    def _save_and_abort(self, entry: ConfigEntry, **changes: Any) -> ConfigFlowResult:
        """Store the changes and finish; the hub reloads once for them.

        A loaded hub reloads itself for changed settings (its update listener), so HA's
        own scheduled reload would be a second one; a hub that is not loaded has no
        listener and gets HA's.
        """
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_update_reload_and_abort(entry, **changes)
        self.hass.config_entries.async_update_entry(entry, **changes)
        reason = "reconfigure_successful" if self.source == SOURCE_RECONFIGURE else None
        return self.async_abort(reason=reason or "reauth_successful")

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the broker address units are given."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            if problem := mqtt_problem(self.hass):
                errors["base"] = problem
            elif not user_input[CONF_UNIT_BROKER_HOST].strip():
                errors[CONF_UNIT_BROKER_HOST] = "invalid_host"
            else:
                return self._save_and_abort(entry, data=_broker_data(user_input))
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                BROKER_SCHEMA, user_input or dict(entry.data)
            ),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The firmware service refused the hub's token, or the broker its admin user."""
        self._refused = entry_data.get(REAUTH_CREDENTIAL, REAUTH_FIRMWARE)
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the refused credential only; check it as its options step does, store
        it sealed and reload the hub."""
        entry = self._get_reauth_entry()
        options = entry.options
        broker = self._refused == REAUTH_BROKER_ADMIN
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            changes: dict[str, Any]
            try:
                if broker:
                    changes = {CONF_ADMIN_USERNAME: user_input[CONF_ADMIN_USERNAME]}
                    password = user_input[CONF_ADMIN_PASSWORD]
                    await async_check_broker_access(
                        self.hass, AccessMode.DYNAMIC_SECURITY, {**options, **changes}, password
                    )
                    changes[CONF_ADMIN_PASSWORD] = await ADMIN_PASSWORD.async_seal(
                        self.hass, password
                    )
                    ir.async_delete_issue(self.hass, DOMAIN, ISSUE_FAILED)
                else:
                    token = user_input[CONF_FIRMWARE_TOKEN]
                    await async_check_firmware(self.hass, options.get(CONF_FIRMWARE_URL, ""), token)
                    changes = {
                        CONF_FIRMWARE_TOKEN: await FIRMWARE_TOKEN.async_seal(self.hass, token)
                    }
            except BrokerAccessCheckError as err:
                errors["base"] = err.kind
                placeholders["error"] = str(err)
            except FirmwareError as err:
                errors["base"] = firmware_form_error(err)
                placeholders["error"] = str(err)
            else:
                return self._save_and_abort(entry, options={**options, **changes})
        if broker:
            schema = vol.Schema(
                {
                    vol.Required(CONF_ADMIN_USERNAME): selector.TextSelector(),
                    vol.Required(CONF_ADMIN_PASSWORD): PASSWORD,
                }
            )
            suggested = {CONF_ADMIN_USERNAME: (user_input or options).get(CONF_ADMIN_USERNAME)}
            address = f"{options.get(CONF_ADMIN_HOST, '')}:{options.get(CONF_ADMIN_PORT, 1883)}"
        else:
            schema = vol.Schema({vol.Required(CONF_FIRMWARE_TOKEN): PASSWORD})
            suggested = {}
            address = options.get(CONF_FIRMWARE_URL, "")
        return self.async_show_form(
            step_id="reauth_confirm",
            # Never the secret typed: a refused one is entered again.
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={**placeholders, "address": address},
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The firmware or desktops add-on announced itself: offer to connect the hub."""
        hub = self._hub_entry()
        if hub is None:
            return self.async_abort(reason="hub_first")
        config = discovery_info.config
        if config.get("kind") == DESKTOPS_KIND:
            self._desktops = discovered_desktops(config)
            self._desktops_addon = discovery_info.slug
            await self.async_set_unique_id(f"desktops-{discovery_info.uuid}")
            self._abort_if_unique_id_configured()
            if hub.options.get(CONF_DESKTOPS_URL) == self._desktops[0]:
                return self.async_abort(reason="already_configured")
            self._offer_next_steps(hub)
            return await self.async_step_hassio_desktops()
        if config.get("kind") == RECORDER_KIND:
            self._recorder = discovered_recorder(config)
            await self.async_set_unique_id(f"recorder-{discovery_info.uuid}")
            self._abort_if_unique_id_configured()
            if hub.options.get(CONF_RECORDER_URL) == self._recorder[0]:
                return self.async_abort(reason="already_configured")
            self._offer_next_steps(hub)
            return await self.async_step_hassio_recorder()
        self._firmware = (f"http://{config['host']}:{config['port']}", str(config["token"]))
        await self.async_set_unique_id(f"firmware-{discovery_info.uuid}")
        self._abort_if_unique_id_configured()
        if hub.options.get(CONF_FIRMWARE_URL) == self._firmware[0]:
            return self.async_abort(reason="already_configured")
        return await self.async_step_hassio_confirm()

    def _offer_next_steps(self, hub: ConfigEntry) -> None:
        """Have the first-run flow offer connecting the add-on found, once this discovery
        is in progress (its form shown)."""
        self.hass.loop.call_soon(async_update_next_steps, self.hass, hub)

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then store the add-on's address and token (sealed) in the options."""
        hub = self._hub_entry()
        assert hub is not None
        assert self._firmware is not None
        if user_input is None:
            return self.async_show_form(
                step_id="hassio_confirm",
                description_placeholders={"url": self._firmware[0]},
            )
        url, token = self._firmware
        self.hass.config_entries.async_update_entry(
            hub,
            options={
                **hub.options,
                CONF_FIRMWARE_URL: url,
                CONF_FIRMWARE_TOKEN: await FIRMWARE_TOKEN.async_seal(self.hass, token),
            },
        )
        return self.async_abort(reason="firmware_connected")

    async def async_step_hassio_desktops(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then store the desktops add-on's address and token in the options."""
        hub = self._hub_entry()
        assert hub is not None
        assert self._desktops is not None
        if user_input is None:
            return self.async_show_form(
                step_id="hassio_desktops", description_placeholders={"url": self._desktops[0]}
            )
        await async_connect_desktops(self.hass, hub, *self._desktops, addon=self._desktops_addon)
        return self.async_abort(reason="desktops_connected")

    async def async_step_hassio_recorder(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then store the recorder add-on's address and token in the options."""
        hub = self._hub_entry()
        assert hub is not None
        assert self._recorder is not None
        if user_input is None:
            return self.async_show_form(
                step_id="hassio_recorder", description_placeholders={"url": self._recorder[0]}
            )
        await async_connect_recorder(self.hass, hub, *self._recorder)
        return self.async_abort(reason="recorder_connected")

    async def async_step_mqtt(self, discovery_info: MqttServiceInfo) -> ConfigFlowResult:
        """Offer a unit that announced itself for adoption."""
        hub = self._hub_entry()
        prefix = hub.options.get(CONF_PREFIX, DEFAULT_PREFIX) if hub else DEFAULT_PREFIX
        try:
            announce_id = parse_announce_topic(prefix, discovery_info.topic)
        except BadInputError:
            return self.async_abort(reason="not_an_announcement")
        if not discovery_info.payload:
            return self.async_abort(reason="not_an_announcement")
        try:
            announcement = parse_announcement(announce_id, discovery_info.payload)
        except BadInputError as err:
            _LOGGER.warning("Ignored the announcement on %s: %s", discovery_info.topic, err)
            return self.async_abort(reason="invalid_announcement")
        if issues := check_schema(announcement.schema):
            _LOGGER.warning(
                "Ignored the announcement on %s: %s",
                discovery_info.topic,
                "; ".join(map(str, issues)),
            )
            return self.async_abort(reason="invalid_announcement")
        await self.async_set_unique_id(f"announce:{announce_id}")
        self._abort_if_unique_id_configured()
        if hub is not None and any(
            subentry.data.get("announce_id") == announce_id
            for subentry in unit_subentries(hub).values()
        ):
            return self.async_abort(reason="already_configured")
        self._announcement = announcement
        self.context["title_placeholders"] = {"name": announcement.name}
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user confirm (and name) a discovered unit."""
        announcement = self._announcement
        assert announcement is not None
        hub = self._hub_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            if error := name_error(name, unit_names(hub) if hub is not None else ()):
                errors[CONF_NAME] = error
            elif hub is None and (problem := mqtt_problem(self.hass)):
                errors["base"] = problem
            else:
                uid = new_unit_id()
                data = unit_subentry_data(uid, announcement)
                if hub is None:
                    await self.async_set_unique_id(DOMAIN, raise_on_progress=False)
                    return self.async_create_entry(
                        title=HUB_TITLE,
                        data=_broker_data(_broker_defaults(self.hass)),
                        options=DEFAULT_OPTIONS,
                        subentries=[
                            {
                                "data": data,
                                "subentry_type": SUBENTRY_UNIT,
                                "title": name,
                                "unique_id": uid,
                            }
                        ],
                    )
                self.hass.config_entries.async_add_subentry(
                    hub,
                    ConfigSubentry(
                        data=MappingProxyType(data),
                        subentry_type=SUBENTRY_UNIT,
                        title=name,
                        unique_id=uid,
                    ),
                )
                return self.async_abort(
                    reason="unit_adopted", description_placeholders={"name": name}
                )
        schema = announcement.schema
        return self.async_show_form(
            step_id="confirm",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_NAME): selector.TextSelector()}),
                user_input or {CONF_NAME: announcement.name},
            ),
            description_placeholders={
                "name": announcement.name,
                "model": announcement.model or schema.name,
                "outputs": ", ".join(schema.outputs) or "-",
                "inputs": ", ".join(schema.inputs) or "-",
            },
            errors=errors,
        )


class MakerhubOptionsFlow(
    SettingsOptions,
    PresenceOptions,
    TelemetryOptions,
    ProjectsOptions,
    BrokerAccessOptions,
    FirmwareOptions,
    DesktopsOptions,
    HealthOptions,
    CamerasOptions,
    DisplaysOptions,
):
    """The hub's options: a menu of the features' sections (each a mixin with its step)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask which part to configure."""
        return self.async_show_menu(
            step_id="init",
            menu_options=[
                "settings",
                "presence",
                "telemetry",
                "projects",
                "accounts",
                "broker_access",
                "firmware",
                "desktops",
                "health",
                "cameras",
                "displays",
            ],
        )
