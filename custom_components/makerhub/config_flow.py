"""Config flows: the hub, adoption of discovered units, options and unit subentries."""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
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
    OptionsFlow,
    SubentryFlowResult,
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
    CONF_ADMIN_TLS,
    CONF_ADMIN_USERNAME,
    CONF_BROKER_ACCESS,
    CONF_FILES_DIRECTORY,
    CONF_HUB_USERNAME,
    DEFAULT_FILES_DIRECTORY,
    ISSUE_FAILED,
    AccessMode,
    BrokerAccessCheckError,
    async_check_broker_access,
)
from .const import (
    CONF_OFFLINE_TIMEOUT,
    CONF_PREFIX,
    CONF_PRESENCE_REQUIRE_PROJECT,
    CONF_PRESENCE_TUNABLES,
    CONF_PROJECT_LICENCE,
    CONF_TELEMETRY_DSN,
    CONF_TELEMETRY_RETENTION_DAYS,
    CONF_TELEMETRY_ROLLUPS,
    CONF_TODOIST_INTERVAL,
    CONF_UNIT_BROKER_HOST,
    CONF_UNIT_BROKER_PORT,
    CONF_UNIT_BROKER_TLS,
    CONF_UPDATE_INTERVAL,
    DATA_AGGREGATION,
    DATA_AREA,
    DATA_DEVICE,
    DATA_DIRECTION,
    DATA_DISPLAY,
    DATA_MAJOR,
    DATA_MEASURED_POWER,
    DATA_MINOR,
    DATA_OWNER,
    DATA_PERSON,
    DATA_SCANNERS,
    DATA_UID,
    DATA_UUID,
    DATA_VARIABLE,
    DATA_VISIBILITY,
    DATA_WINDOW,
    DEFAULT_OFFLINE_TIMEOUT,
    DEFAULT_TELEMETRY_RETENTION_DAYS,
    DEFAULT_TELEMETRY_ROLLUPS,
    DEFAULT_TODOIST_INTERVAL,
    DEFAULT_UNIT_BROKER_PORT,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    REAUTH_BROKER_ADMIN,
    REAUTH_CREDENTIAL,
    REAUTH_FIRMWARE,
    SUBENTRY_AGGREGATE,
    SUBENTRY_FIRMWARE_UNIT,
    SUBENTRY_LINK,
    SUBENTRY_PHONE,
    SUBENTRY_PROJECT,
    SUBENTRY_REPOSITORY,
    SUBENTRY_STATION,
    SUBENTRY_UNIT,
)
from .core.errors import BadInputError
from .core.firmware_client import FirmwareError
from .core.github import GitHubError
from .core.links import Visibility
from .core.presence import (
    DEFAULT_MEASURED_POWER,
    BeaconId,
    PresenceConfigError,
    PresenceInputError,
    PresenceTunables,
    Station,
)
from .core.protocol import (
    DEFAULT_PREFIX,
    Announcement,
    new_unit_id,
    parse_announce_topic,
    parse_announcement,
    validate_prefix,
)
from .core.secret_box import SecretBoxError
from .core.telemetry import Aggregation, Dsn, DsnError, DsnErrorKind, validate_dsn
from .core.todoist import TodoistError
from .data import makerhub_data
from .firmware.flow import FirmwareUnitSubentryFlow, RepositorySubentryFlow
from .firmware.manager import (
    CONF_FIRMWARE_TOKEN,
    CONF_FIRMWARE_URL,
    async_check_firmware,
    firmware_form_error,
)
from .links.flow import LinkSubentryFlow
from .links.subentries import links_broken_by
from .presence.manager import (
    person_name,
    phone_from_subentry,
    phone_subentries,
    presence_tunables,
    station_from_subentry,
    station_subentries,
)
from .projects.accounts import Service
from .projects.flow import (
    LICENCE_OPTIONS,
    ProjectSubentryFlow,
    async_check_token,
    people_with_users,
    person_selector,
    policy_licence,
    service_error,
)
from .runtime import entry_runtime, flow_runtime
from .secrets import (
    CONTEXT_BROKER_ADMIN,
    CONTEXT_FIRMWARE_TOKEN,
    CONTEXT_TELEMETRY_DSN,
    async_get_secret_box,
    open_text,
    seal_text,
)
from .units.subentries import unit_names, unit_subentries, unit_subentry_data
from .units.variables import check_schema

_LOGGER = logging.getLogger(__name__)

MQTT_DOMAIN = "mqtt"
HUB_TITLE = "Makerhub"


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
        vol.Required(CONF_UNIT_BROKER_PORT): selector.NumberSelector(
            selector.NumberSelectorConfig(min=1, max=65535, mode=selector.NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_UNIT_BROKER_TLS): selector.BooleanSelector(),
    }
)
OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PREFIX): selector.TextSelector(),
        vol.Required(CONF_OFFLINE_TIMEOUT): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=10,
                max=86400,
                step=1,
                unit_of_measurement="s",
                mode=selector.NumberSelectorMode.BOX,
            )
        ),
        vol.Required(CONF_UPDATE_INTERVAL): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0,
                max=60,
                step=0.1,
                unit_of_measurement="s",
                mode=selector.NumberSelectorMode.BOX,
            )
        ),
    }
)
PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
REDACTED = "***"
BROKER_ACCESS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_BROKER_ACCESS): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[mode.value for mode in AccessMode], translation_key=CONF_BROKER_ACCESS
            )
        ),
        vol.Optional(CONF_ADMIN_HOST): selector.TextSelector(),
        vol.Optional(CONF_ADMIN_PORT): selector.NumberSelector(
            selector.NumberSelectorConfig(min=1, max=65535, mode=selector.NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_ADMIN_TLS): selector.BooleanSelector(),
        vol.Optional(CONF_ADMIN_USERNAME): selector.TextSelector(),
        vol.Optional(CONF_ADMIN_PASSWORD): PASSWORD,
        vol.Optional(CONF_FILES_DIRECTORY): selector.TextSelector(),
        vol.Optional(CONF_HUB_USERNAME): selector.TextSelector(),
    }
)
PROJECTS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PROJECT_LICENCE): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=list(LICENCE_OPTIONS), translation_key=CONF_PROJECT_LICENCE
            )
        ),
        vol.Required(CONF_TODOIST_INTERVAL): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=5,
                max=1440,
                step=1,
                unit_of_measurement="min",
                mode=selector.NumberSelectorMode.BOX,
            )
        ),
    }
)
TELEMETRY_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_TELEMETRY_DSN): selector.TextSelector(),
        vol.Required(CONF_TELEMETRY_RETENTION_DAYS): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=1,
                max=3650,
                step=1,
                unit_of_measurement="d",
                mode=selector.NumberSelectorMode.BOX,
            )
        ),
        vol.Required(CONF_TELEMETRY_ROLLUPS): selector.BooleanSelector(),
    }
)
PRESENCE_TUNABLE_FIELDS = [item.name for item in dataclasses.fields(PresenceTunables)]
PRESENCE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PRESENCE_REQUIRE_PROJECT): selector.BooleanSelector(),
        **{
            vol.Required(name): selector.NumberSelector(
                selector.NumberSelectorConfig(
                    step=1 if name == "min_adverts" else "any",
                    mode=selector.NumberSelectorMode.BOX,
                )
            )
            for name in PRESENCE_TUNABLE_FIELDS
        },
    }
)
AGGREGATIONS = [a.value for a in Aggregation if a is not Aggregation.RAW]
CONF_SOURCE_ENTITY = "entity_id"
AGGREGATE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SOURCE_ENTITY): selector.EntitySelector(
            selector.EntitySelectorConfig(integration=DOMAIN)
        ),
        vol.Required(DATA_AGGREGATION): selector.SelectSelector(
            selector.SelectSelectorConfig(options=AGGREGATIONS, translation_key="aggregation")
        ),
        vol.Required(DATA_WINDOW): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=1,
                max=10080,
                step=1,
                unit_of_measurement="min",
                mode=selector.NumberSelectorMode.BOX,
            )
        ),
        vol.Optional(CONF_NAME): str,
    }
)
DEFAULT_OPTIONS = {
    CONF_PREFIX: DEFAULT_PREFIX,
    CONF_OFFLINE_TIMEOUT: DEFAULT_OFFLINE_TIMEOUT,
    CONF_UPDATE_INTERVAL: DEFAULT_UPDATE_INTERVAL,
}


def _broker_data(user_input: dict[str, Any]) -> dict[str, Any]:
    return {
        CONF_UNIT_BROKER_HOST: user_input[CONF_UNIT_BROKER_HOST].strip(),
        CONF_UNIT_BROKER_PORT: int(user_input[CONF_UNIT_BROKER_PORT]),
        CONF_UNIT_BROKER_TLS: user_input[CONF_UNIT_BROKER_TLS],
    }


def _name_error(entry: ConfigEntry | None, name: str, exclude_uid: str | None = None) -> str | None:
    if not name or len(name) > 64:
        return "invalid_name"
    if entry is not None and name.casefold() in unit_names(entry, exclude_uid):
        return "name_taken"
    return None


class MakerhubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up the hub, and adopt units discovered over MQTT."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with no discovered announcement."""
        self._announcement: Announcement | None = None
        self._firmware: tuple[str, str] | None = None
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
        """Units and telemetry aggregate sensors are subentries of the hub."""
        return {
            SUBENTRY_UNIT: UnitSubentryFlow,
            SUBENTRY_STATION: StationSubentryFlow,
            SUBENTRY_PHONE: PhoneSubentryFlow,
            SUBENTRY_AGGREGATE: AggregateSubentryFlow,
            SUBENTRY_PROJECT: ProjectSubentryFlow,
            SUBENTRY_LINK: LinkSubentryFlow,
            SUBENTRY_REPOSITORY: RepositorySubentryFlow,
            SUBENTRY_FIRMWARE_UNIT: FirmwareUnitSubentryFlow,
        }

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
            try:
                prefix = validate_prefix(user_input[CONF_PREFIX].strip())
            except ValueError:
                errors[CONF_PREFIX] = "invalid_prefix"
            else:
                if problem := mqtt_problem(self.hass):
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
            box = await async_get_secret_box(self.hass)
            changes: dict[str, Any]
            try:
                if broker:
                    changes = {CONF_ADMIN_USERNAME: user_input[CONF_ADMIN_USERNAME]}
                    password = user_input[CONF_ADMIN_PASSWORD]
                    await async_check_broker_access(
                        self.hass, AccessMode.DYNAMIC_SECURITY, {**options, **changes}, password
                    )
                    changes[CONF_ADMIN_PASSWORD] = seal_text(box, password, CONTEXT_BROKER_ADMIN)
                    ir.async_delete_issue(self.hass, DOMAIN, ISSUE_FAILED)
                else:
                    token = user_input[CONF_FIRMWARE_TOKEN]
                    await async_check_firmware(self.hass, options.get(CONF_FIRMWARE_URL, ""), token)
                    changes = {CONF_FIRMWARE_TOKEN: seal_text(box, token, CONTEXT_FIRMWARE_TOKEN)}
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
        """The firmware add-on announced itself: offer to connect the hub to it."""
        hub = self._hub_entry()
        if hub is None:
            return self.async_abort(reason="hub_first")
        config = discovery_info.config
        self._firmware = (f"http://{config['host']}:{config['port']}", str(config["token"]))
        await self.async_set_unique_id(f"firmware-{discovery_info.uuid}")
        self._abort_if_unique_id_configured()
        if hub.options.get(CONF_FIRMWARE_URL) == self._firmware[0]:
            return self.async_abort(reason="already_configured")
        return await self.async_step_hassio_confirm()

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
        box = await async_get_secret_box(self.hass)
        url, token = self._firmware
        self.hass.config_entries.async_update_entry(
            hub,
            options={
                **hub.options,
                CONF_FIRMWARE_URL: url,
                CONF_FIRMWARE_TOKEN: seal_text(box, token, CONTEXT_FIRMWARE_TOKEN),
            },
        )
        return self.async_abort(reason="firmware_connected")

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
            if error := _name_error(hub, name):
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


class MakerhubOptionsFlow(OptionsFlow):
    """The hub's settings (topic prefix, offline timeout, update coalescing) and telemetry."""

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
            ],
        )

    def _save(self, changes: dict[str, Any]) -> ConfigFlowResult:
        return self.async_create_entry(data={**self.config_entry.options, **changes})

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and validate the hub's settings."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                prefix = validate_prefix(user_input[CONF_PREFIX].strip())
            except ValueError:
                errors[CONF_PREFIX] = "invalid_prefix"
            else:
                return self._save({**user_input, CONF_PREFIX: prefix})
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, user_input or {**DEFAULT_OPTIONS, **self.config_entry.options}
            ),
            errors=errors,
        )

    async def async_step_presence(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Tune the presence engine, and say when the space counts as active."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            values = {name: user_input[name] for name in PRESENCE_TUNABLE_FIELDS}
            values["min_adverts"] = int(values["min_adverts"])
            try:
                PresenceTunables(**values)
            except PresenceConfigError as err:
                errors["base"] = "invalid_tunables"
                placeholders["error"] = str(err)
            else:
                return self._save(
                    {
                        CONF_PRESENCE_TUNABLES: values,
                        CONF_PRESENCE_REQUIRE_PROJECT: user_input[CONF_PRESENCE_REQUIRE_PROJECT],
                    }
                )
        current = {
            **dataclasses.asdict(presence_tunables(self.config_entry)),
            CONF_PRESENCE_REQUIRE_PROJECT: self.config_entry.options.get(
                CONF_PRESENCE_REQUIRE_PROJECT, False
            ),
        }
        return self.async_show_form(
            step_id="presence",
            data_schema=self.add_suggested_values_to_schema(PRESENCE_SCHEMA, user_input or current),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _stored_dsn(self) -> Dsn | None:
        token = self.config_entry.options.get(CONF_TELEMETRY_DSN)
        if not token:
            return None
        try:
            return Dsn(
                open_text(await async_get_secret_box(self.hass), token, CONTEXT_TELEMETRY_DSN)
            )
        except (SecretBoxError, DsnError, UnicodeDecodeError):
            return None  # the repair issue asks for it again

    async def async_step_telemetry(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set the telemetry database (checked by connecting), retention and rollups.

        The form shows the stored URL with its password as ``***``; sent back unchanged,
        the stored password is kept.
        """
        stored = await self._stored_dsn()
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            url = (user_input.get(CONF_TELEMETRY_DSN) or "").strip()
            if stored is not None and url == stored.redacted:
                url = stored.reveal()
            changes: dict[str, Any] = {
                CONF_TELEMETRY_DSN: "",
                CONF_TELEMETRY_RETENTION_DAYS: int(user_input[CONF_TELEMETRY_RETENTION_DAYS]),
                CONF_TELEMETRY_ROLLUPS: user_input[CONF_TELEMETRY_ROLLUPS],
            }
            if not url:
                return self._save(changes)
            try:
                await validate_dsn(url)
            except DsnError as err:
                errors[CONF_TELEMETRY_DSN] = err.kind.value
                placeholders["error"] = str(err)
            except Exception as err:  # noqa: BLE001  (a form error, never a crashed flow)
                _LOGGER.error(
                    "Unexpected error checking the telemetry database: %s",
                    Dsn(url).redact(repr(err)),
                )
                errors[CONF_TELEMETRY_DSN] = DsnErrorKind.UNKNOWN.value
            else:
                box = await async_get_secret_box(self.hass)
                return self._save(
                    {**changes, CONF_TELEMETRY_DSN: seal_text(box, url, CONTEXT_TELEMETRY_DSN)}
                )
        options = self.config_entry.options
        suggested = user_input or {
            CONF_TELEMETRY_DSN: stored.redacted if stored else "",
            CONF_TELEMETRY_RETENTION_DAYS: options.get(
                CONF_TELEMETRY_RETENTION_DAYS, DEFAULT_TELEMETRY_RETENTION_DAYS
            ),
            CONF_TELEMETRY_ROLLUPS: options.get(CONF_TELEMETRY_ROLLUPS, DEFAULT_TELEMETRY_ROLLUPS),
        }
        return self.async_show_form(
            step_id="telemetry",
            data_schema=self.add_suggested_values_to_schema(TELEMETRY_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_projects(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set the space's open-source policy and how often projects sync with Todoist."""
        if user_input is not None:
            return self._save(
                {
                    CONF_PROJECT_LICENCE: user_input[CONF_PROJECT_LICENCE],
                    CONF_TODOIST_INTERVAL: int(user_input[CONF_TODOIST_INTERVAL]),
                }
            )
        options = self.config_entry.options
        return self.async_show_form(
            step_id="projects",
            data_schema=self.add_suggested_values_to_schema(
                PROJECTS_SCHEMA,
                {
                    CONF_PROJECT_LICENCE: policy_licence(options.get(CONF_PROJECT_LICENCE)),
                    CONF_TODOIST_INTERVAL: options.get(
                        CONF_TODOIST_INTERVAL, DEFAULT_TODOIST_INTERVAL
                    ),
                },
            ),
        )

    async def async_step_accounts(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect (or forget) a person's GitHub and Todoist accounts; each token is
        checked with its service and stored encrypted."""
        people = people_with_users(self.hass)
        if not people:
            return self.async_abort(reason="no_people")
        accounts = makerhub_data(self.hass).accounts
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            person = user_input[DATA_PERSON]
            changes: dict[Service, str | None] = {}
            for service in Service:
                token = (user_input.get(f"{service.value}_token") or "").strip()
                if user_input.get(f"forget_{service.value}"):
                    changes[service] = None
                elif token:
                    try:
                        await async_check_token(self.hass, service, token)
                    except (GitHubError, TodoistError) as err:
                        errors[f"{service.value}_token"] = service_error(err)
                        placeholders["error"] = str(err)
                    else:
                        changes[service] = token
            if not errors:
                for service, value in changes.items():
                    await accounts.async_set(person, service, value)
                return self._save({})
        fields: dict[vol.Marker, Any] = {}
        for service in Service:
            fields[vol.Optional(f"{service.value}_token")] = PASSWORD
            fields[vol.Optional(f"forget_{service.value}")] = bool
        schema = vol.Schema(
            {
                vol.Required(DATA_PERSON): person_selector(
                    self.hass,
                    people,
                    lambda person: (
                        f"{person_name(self.hass, person)} ("
                        + (", ".join(accounts.connected(person)) or "—")
                        + ")"
                    ),
                ),
                **fields,
            }
        )
        suggested = (
            {DATA_PERSON: sorted(people)[0]}
            if user_input is None
            else {DATA_PERSON: user_input[DATA_PERSON]}
        )
        return self.async_show_form(
            step_id="accounts",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_broker_access(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose how the broker learns each unit's credentials and ACL; checked before
        it is saved (the admin password stored encrypted, shown as ``***``)."""
        options = self.config_entry.options
        box = await async_get_secret_box(self.hass)
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            mode = AccessMode(user_input[CONF_BROKER_ACCESS])
            password = user_input.get(CONF_ADMIN_PASSWORD) or ""
            if password == REDACTED and options.get(CONF_ADMIN_PASSWORD):
                try:
                    password = open_text(box, options[CONF_ADMIN_PASSWORD], CONTEXT_BROKER_ADMIN)
                except (SecretBoxError, UnicodeDecodeError):
                    password = ""
            changes = {
                key: user_input.get(key)
                for key in (
                    CONF_BROKER_ACCESS,
                    CONF_ADMIN_HOST,
                    CONF_ADMIN_USERNAME,
                    CONF_ADMIN_TLS,
                    CONF_FILES_DIRECTORY,
                    CONF_HUB_USERNAME,
                )
                if user_input.get(key) is not None
            }
            changes[CONF_ADMIN_PORT] = int(user_input.get(CONF_ADMIN_PORT) or 1883)
            try:
                await async_check_broker_access(self.hass, mode, changes, password)
            except BrokerAccessCheckError as err:
                errors["base"] = err.kind
                placeholders["error"] = str(err)
            else:
                changes[CONF_ADMIN_PASSWORD] = (
                    seal_text(box, password, CONTEXT_BROKER_ADMIN) if password else ""
                )
                return self._save(changes)
        suggested = {
            CONF_BROKER_ACCESS: options.get(CONF_BROKER_ACCESS, AccessMode.NONE.value),
            CONF_ADMIN_HOST: options.get(
                CONF_ADMIN_HOST, self.config_entry.data.get(CONF_UNIT_BROKER_HOST, "")
            ),
            CONF_ADMIN_PORT: options.get(CONF_ADMIN_PORT, 1883),
            CONF_ADMIN_TLS: options.get(CONF_ADMIN_TLS, False),
            CONF_ADMIN_USERNAME: options.get(CONF_ADMIN_USERNAME, ""),
            CONF_ADMIN_PASSWORD: REDACTED if options.get(CONF_ADMIN_PASSWORD) else "",
            CONF_FILES_DIRECTORY: options.get(CONF_FILES_DIRECTORY, DEFAULT_FILES_DIRECTORY),
            CONF_HUB_USERNAME: options.get(CONF_HUB_USERNAME, ""),
        }
        return self.async_show_form(
            step_id="broker_access",
            data_schema=self.add_suggested_values_to_schema(
                BROKER_ACCESS_SCHEMA, user_input or suggested
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_firmware(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Point the hub at the firmware service (checked; the token stored encrypted)."""
        options = self.config_entry.options
        box = await async_get_secret_box(self.hass)
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            url = (user_input.get(CONF_FIRMWARE_URL) or "").strip().rstrip("/")
            token = user_input.get(CONF_FIRMWARE_TOKEN) or ""
            if token == REDACTED and options.get(CONF_FIRMWARE_TOKEN):
                try:
                    token = open_text(box, options[CONF_FIRMWARE_TOKEN], CONTEXT_FIRMWARE_TOKEN)
                except (SecretBoxError, UnicodeDecodeError):
                    token = ""
            if not url:
                return self._save({CONF_FIRMWARE_URL: "", CONF_FIRMWARE_TOKEN: ""})
            try:
                await async_check_firmware(self.hass, url, token)
            except FirmwareError as err:
                errors["base"] = firmware_form_error(err)
                placeholders["error"] = str(err)
            else:
                return self._save(
                    {
                        CONF_FIRMWARE_URL: url,
                        CONF_FIRMWARE_TOKEN: seal_text(box, token, CONTEXT_FIRMWARE_TOKEN),
                    }
                )
        suggested = user_input or {
            CONF_FIRMWARE_URL: options.get(CONF_FIRMWARE_URL, ""),
            CONF_FIRMWARE_TOKEN: REDACTED if options.get(CONF_FIRMWARE_TOKEN) else "",
        }
        return self.async_show_form(
            step_id="firmware",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Optional(CONF_FIRMWARE_URL): selector.TextSelector(
                            selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
                        ),
                        vol.Optional(CONF_FIRMWARE_TOKEN): PASSWORD,
                    }
                ),
                suggested,
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


class UnitSubentryFlow(ConfigSubentryFlow):
    """Adopt an announced unit from the hub's page; rename a unit."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick one of the units that announced themselves and are not adopted."""
        entry = self._get_entry()
        announced = flow_runtime(entry).hub.announced
        if not announced:
            return self.async_abort(reason="no_announced_units")
        errors: dict[str, str] = {}
        if user_input is not None:
            announcement = announced.get(user_input["unit"])
            name = (user_input.get(CONF_NAME) or "").strip() or (
                announcement.name if announcement else ""
            )
            if announcement is None:
                errors["unit"] = "unit_gone"
            elif error := _name_error(entry, name):
                errors[CONF_NAME] = error
            else:
                uid = new_unit_id()
                return self.async_create_entry(
                    title=name, data=unit_subentry_data(uid, announcement), unique_id=uid
                )
        options = [
            selector.SelectOptionDict(value=announce_id, label=f"{ann.name} ({announce_id})")
            for announce_id, ann in sorted(announced.items(), key=lambda item: item[1].name)
        ]
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required("unit"): selector.SelectSelector(
                        selector.SelectSelectorConfig(options=options)
                    ),
                    vol.Optional(CONF_NAME): str,
                }
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Rename a unit; say who owns it and who may link to its outputs."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        uid = subentry.data[DATA_UID]
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        owners = {user_id: person for person, user_id in people_with_users(self.hass).items()}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            owner = user_input.get(DATA_OWNER) or None
            data = {
                **subentry.data,
                DATA_VISIBILITY: user_input.get(
                    DATA_VISIBILITY, subentry.data.get(DATA_VISIBILITY, Visibility.PUBLIC.value)
                ),
                DATA_OWNER: owner,
            }
            if error := _name_error(entry, name, exclude_uid=uid):
                errors[CONF_NAME] = error
            elif (runtime := entry_runtime(entry)) is not None and (
                broken := links_broken_by(runtime.hub, uid, data)
            ):
                errors["base"] = "links_refused"
                placeholders["error"] = broken
            else:
                return self.async_update_and_abort(entry, subentry, title=name, data=data)
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): str,
                vol.Optional(DATA_VISIBILITY): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[v.value for v in Visibility], translation_key=DATA_VISIBILITY
                    )
                ),
                vol.Optional(DATA_OWNER): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[
                            selector.SelectOptionDict(
                                value=user_id, label=person_name(self.hass, person)
                            )
                            for user_id, person in sorted(owners.items())
                        ]
                    )
                ),
            }
        )
        current = {
            CONF_NAME: subentry.title,
            DATA_VISIBILITY: subentry.data.get(DATA_VISIBILITY, Visibility.PUBLIC.value),
        }
        if subentry.data.get(DATA_OWNER):
            current[DATA_OWNER] = subentry.data[DATA_OWNER]
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
            description_placeholders=placeholders,
        )


class AggregateSubentryFlow(ConfigSubentryFlow):
    """A sensor of one variable's telemetry aggregated over a window ("median over 10 min")."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick the variable's entity, the aggregation and the window."""
        entry = self._get_entry()
        runtime = flow_runtime(entry)
        if runtime.telemetry is None:
            return self.async_abort(reason="telemetry_not_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            found = runtime.hub.variable_of_entity(user_input[CONF_SOURCE_ENTITY])
            name = (user_input.get(CONF_NAME) or "").strip()
            if found is None:
                errors[CONF_SOURCE_ENTITY] = "not_a_variable_entity"
            elif len(name) > 64:
                errors[CONF_NAME] = "invalid_name"
            else:
                unit, direction, variable = found
                aggregation = user_input[DATA_AGGREGATION]
                window = int(user_input[DATA_WINDOW])
                title = name or f"{unit.identity.name} {variable} {aggregation} {window} min"
                return self.async_create_entry(
                    title=title,
                    data={
                        DATA_UID: unit.uid,
                        DATA_DIRECTION: direction.value,
                        DATA_VARIABLE: variable,
                        DATA_AGGREGATION: aggregation,
                        DATA_WINDOW: window * 60,
                    },
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                AGGREGATE_SCHEMA,
                user_input or {DATA_AGGREGATION: Aggregation.AVG.value, DATA_WINDOW: 10},
            ),
            errors=errors,
        )


BEACON_NUMBER = selector.NumberSelector(
    selector.NumberSelectorConfig(min=0, max=65535, step=1, mode=selector.NumberSelectorMode.BOX)
)
STATION_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): str,
        vol.Required(DATA_UUID): str,
        vol.Required(DATA_MAJOR): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0, max=65535, step=1, mode=selector.NumberSelectorMode.BOX
            )
        ),
        vol.Required(DATA_MINOR): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0, max=65535, step=1, mode=selector.NumberSelectorMode.BOX
            )
        ),
        vol.Required(DATA_MEASURED_POWER): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=-127,
                max=0,
                step=1,
                unit_of_measurement="dBm",
                mode=selector.NumberSelectorMode.BOX,
            )
        ),
        vol.Optional(DATA_SCANNERS): selector.TextSelector(),
        vol.Optional(DATA_AREA): selector.AreaSelector(),
        vol.Optional(DATA_DISPLAY): selector.DeviceSelector(
            selector.DeviceSelectorConfig(integration=DOMAIN)
        ),
    }
)


def _station_data(user_input: dict[str, Any]) -> dict[str, Any]:
    scanners = sorted(
        {part.strip() for part in (user_input.get(DATA_SCANNERS) or "").split(",") if part.strip()}
    )
    data: dict[str, Any] = {
        DATA_UUID: user_input[DATA_UUID].strip(),
        DATA_MAJOR: int(user_input[DATA_MAJOR]),
        DATA_MINOR: int(user_input[DATA_MINOR]),
        DATA_MEASURED_POWER: int(user_input[DATA_MEASURED_POWER]),
        DATA_SCANNERS: scanners,
    }
    for optional in (DATA_AREA, DATA_DISPLAY):
        if value := user_input.get(optional):
            data[optional] = value
    return data


class StationSubentryFlow(ConfigSubentryFlow):
    """A station: a place in the space marked by an iBeacon, heard by scanners."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a station."""
        return await self._async_form("user", user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a station."""
        return await self._async_form("reconfigure", user_input, self._get_reconfigure_subentry())

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, current: ConfigSubentry | None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            data = _station_data(user_input)
            others = [
                station_from_subentry(s)
                for s in station_subentries(entry)
                if current is None or s.subentry_id != current.subentry_id
            ]
            if not name or len(name) > 64:
                errors[CONF_NAME] = "invalid_name"
                return self._station_form(step_id, user_input, errors, placeholders)
            try:
                station = Station(
                    id="new" if current is None else current.subentry_id,
                    name=name,
                    beacon=BeaconId(data[DATA_UUID], data[DATA_MAJOR], data[DATA_MINOR]),
                    measured_power=data[DATA_MEASURED_POWER],
                    scanners=frozenset(data[DATA_SCANNERS]),
                )
            except (PresenceConfigError, PresenceInputError) as err:
                errors["base"] = "invalid_station"
                placeholders["error"] = str(err)
            else:
                data[DATA_UUID] = station.beacon.uuid  # canonical: lowercase, dashed
                if any(o.name.casefold() == name.casefold() for o in others):
                    errors[CONF_NAME] = "name_taken"
                elif any(o.beacon == station.beacon for o in others):
                    errors[DATA_UUID] = "beacon_taken"
                elif any(o.scanners & station.scanners for o in others):
                    errors[DATA_SCANNERS] = "scanner_taken"
                elif current is None:
                    return self.async_create_entry(title=name, data=data)
                else:
                    return self.async_update_and_abort(entry, current, title=name, data=data)
        if user_input is None and current is not None:
            user_input = {
                **current.data,
                CONF_NAME: current.title,
                DATA_SCANNERS: ", ".join(current.data.get(DATA_SCANNERS, ())),
            }
        return self._station_form(step_id, user_input, errors, placeholders)

    def _station_form(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> SubentryFlowResult:
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                STATION_SCHEMA, user_input or {DATA_MEASURED_POWER: DEFAULT_MEASURED_POWER}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


PHONE_SCHEMA = vol.Schema(
    {
        vol.Required(DATA_PERSON): selector.EntitySelector(
            selector.EntitySelectorConfig(domain="person")
        ),
        vol.Optional(DATA_DEVICE): selector.DeviceSelector(
            selector.DeviceSelectorConfig(integration="mobile_app")
        ),
        vol.Optional(DATA_UUID): str,
        vol.Optional(DATA_MAJOR): BEACON_NUMBER,
        vol.Optional(DATA_MINOR): BEACON_NUMBER,
    }
)


class PhoneSubentryFlow(ConfigSubentryFlow):
    """A person's phone: the companion app device, and the iBeacon it transmits."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Map a phone to a person."""
        entry = self._get_entry()
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            data: dict[str, Any] = {DATA_PERSON: user_input[DATA_PERSON]}
            if device := user_input.get(DATA_DEVICE):
                data[DATA_DEVICE] = device
            uuid = (user_input.get(DATA_UUID) or "").strip()
            if uuid:
                try:
                    beacon = BeaconId(
                        uuid,
                        int(user_input.get(DATA_MAJOR, -1)),
                        int(user_input.get(DATA_MINOR, -1)),
                    )
                except PresenceInputError as err:
                    errors["base"] = "invalid_beacon"
                    placeholders["error"] = str(err)
                else:
                    data |= {
                        DATA_UUID: beacon.uuid,
                        DATA_MAJOR: beacon.major,
                        DATA_MINOR: beacon.minor,
                    }
                    taken = {
                        phone.beacon
                        for subentry in phone_subentries(entry)
                        if (phone := phone_from_subentry(subentry)) is not None
                    } | {station_from_subentry(s).beacon for s in station_subentries(entry)}
                    if beacon in taken:
                        errors[DATA_UUID] = "beacon_taken"
            elif DATA_DEVICE not in data:
                errors["base"] = "phone_needs_something"
            if not errors:
                state = self.hass.states.get(data[DATA_PERSON])
                person = state.name if state is not None else data[DATA_PERSON]
                return self.async_create_entry(title=f"{person}'s phone", data=data)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(PHONE_SCHEMA, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )
