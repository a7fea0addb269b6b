"""Flows of the firmware lifecycle: registering a repository, and creating a unit from one.

A repository is registered with the firmware service (which clones it at once and refuses
it with its reason if that fails). A unit made from a repository gets a name, the ref it
tracks (the default branch, or a branch, tag or commit), who may link to it, and the
values of the env keys the repository declares; the repository is validated at that
commit first, and the unit's entities come from its ``makerhub.json`` there.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import (
    DATA_MODEL,
    DATA_OWNER,
    DATA_SCHEMA,
    DATA_UID,
    DATA_VISIBILITY,
    SUBENTRY_FIRMWARE_UNIT,
    SUBENTRY_REPOSITORY,
)
from ..core.firmware_client import (
    FirmwareConnectionError,
    FirmwareError,
    FirmwareRefusedError,
    FirmwareTooLargeError,
)
from ..core.links import Visibility
from ..core.protocol import new_unit_id
from ..core.schema import EnvKey, UnitSchema
from ..core.unit_env import USER_ONLY_KEYS, EnvError, check_value, declared_env, secret_keys
from ..flows import PASSWORD, VISIBILITY, HubSubentryFlow, box_number, name_error
from ..units.subentries import unit_names
from .manager import (
    DATA_AUTO_UPDATE,
    DATA_COMMIT,
    DATA_ENV,
    DATA_REPO_ID,
    DATA_TRACK,
    DATA_URL,
    DATA_VERSION,
    HubFirmware,
    repo_subentries,
    version_name,
)

CONF_URL: Final = "url"
CONF_TOKEN: Final = "token"  # noqa: S105 (a field name)
CONF_USERNAME: Final = "username"
CONF_SSH_KEY: Final = "ssh_key"
CONF_SYNC_HOURS: Final = "sync_hours"


def firmware_error(err: FirmwareError) -> str:
    """Return the form error key of a firmware service failure."""
    if isinstance(err, FirmwareTooLargeError):
        return "repo_too_large"
    if isinstance(err, FirmwareRefusedError):
        return "repo_refused"
    if isinstance(err, FirmwareConnectionError):
        return "firmware_unreachable"
    return "firmware_error"


class FirmwareSubentryFlow(HubSubentryFlow):
    """A subentry flow that needs the loaded hub and the firmware service."""

    def _firmware(self) -> HubFirmware:
        """Return the loaded hub's firmware; abort the flow without a hub or a service."""
        firmware = self.hub_runtime().firmware
        if firmware.client is None:
            raise AbortFlow("firmware_not_configured")
        return firmware


class RepositorySubentryFlow(FirmwareSubentryFlow):
    """Register a git repository with the firmware service."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask for the clone URL and, for a private repository, its credentials."""
        firmware = self._firmware()
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            assert firmware.client is not None
            try:
                repo = await firmware.client.create_repo(
                    user_input[CONF_URL].strip(),
                    (user_input.get(CONF_NAME) or "").strip() or None,
                    token=user_input.get(CONF_TOKEN) or None,
                    username=user_input.get(CONF_USERNAME) or None,
                    ssh_key=user_input.get(CONF_SSH_KEY) or None,
                    sync_interval=int(float(user_input.get(CONF_SYNC_HOURS, 24)) * 3600),
                )
            except FirmwareError as err:
                errors["base"] = firmware_error(err)
                placeholders["error"] = str(err)
            else:
                return self.async_create_entry(
                    title=repo.name,
                    data={DATA_REPO_ID: repo.id, DATA_URL: repo.url},
                    unique_id=repo.id,
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_URL): str,
                vol.Optional(CONF_NAME): str,
                vol.Optional(CONF_USERNAME): str,
                vol.Optional(CONF_TOKEN): PASSWORD,
                vol.Optional(CONF_SSH_KEY): selector.TextSelector(
                    selector.TextSelectorConfig(multiline=True)
                ),
                vol.Optional(CONF_SYNC_HOURS, default=24): box_number(0, 720),
            }
        )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )


def env_fields(declared: dict[str, EnvKey], values: dict[str, Any]) -> vol.Schema:
    """Return a form of the env keys a repository declares, then the Wi-Fi keys it does
    not declare.

    Secret keys (:func:`secret_keys`: ``WIFI_PASS``, the keys declared secret, names
    such as ``PU_AUTH_TOKEN``) are password fields; a key declared without a default is
    required, so ``env.json`` always has every declared key.
    """
    fields: dict[vol.Marker, Any] = {}
    secrets = secret_keys(declared)
    for name, key in declared.items():
        required = vol.Required if key.default is None else vol.Optional
        marker = required(name, description={"suggested_value": values.get(name, key.default)})
        if key.type == "bool":
            fields[marker] = selector.BooleanSelector()
        elif key.type in ("int", "float"):
            fields[marker] = box_number(step=1 if key.type == "int" else "any")
        else:
            fields[marker] = PASSWORD if name in secrets else selector.TextSelector()
    for name in USER_ONLY_KEYS:
        if name not in declared:
            marker = vol.Optional(name, description={"suggested_value": values.get(name)})
            fields[marker] = PASSWORD if name in secrets else selector.TextSelector()
    return vol.Schema(fields)


def env_values(declared: dict[str, EnvKey], user_input: dict[str, Any]) -> dict[str, Any]:
    """Return the env values a form gave, checked against the declared types; a key
    declared without a default must have one."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in user_input.items():
        if value in (None, ""):
            continue
        if name in declared:
            try:
                values[name] = check_value(declared[name], value)
            except (EnvError, ValueError) as err:
                problems.append(f"{name}: {err}")
        elif name in USER_ONLY_KEYS:
            values[name] = str(value)
    problems += [
        f"{name}: required (the repository gives no default)"
        for name, key in declared.items()
        if key.default is None and name not in values
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return values


class FirmwareUnitSubentryFlow(FirmwareSubentryFlow):
    """Create a unit from a repository; change its name, ref, env values or auto-update."""

    def __init__(self) -> None:
        """Start empty."""
        self._data: dict[str, Any] = {}
        self._schema: UnitSchema | None = None
        self._title = ""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick the repository and the ref, name the unit."""
        firmware = self._firmware()
        entry = self._get_entry()
        repos = repo_subentries(entry)
        if not repos:
            return self.async_abort(reason="no_repositories")
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            if problem := name_error(name, unit_names(entry)):
                errors[CONF_NAME] = problem
            else:
                error = await self._async_validate(firmware, user_input)
                if error is None:
                    self._title = name
                    return await self.async_step_env()
                errors["base"], placeholders["error"] = error
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): str,
                vol.Required(DATA_REPO_ID): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[
                            selector.SelectOptionDict(value=repo_id, label=subentry.title)
                            for repo_id, subentry in repos.items()
                        ]
                    )
                ),
                vol.Optional(DATA_TRACK): str,
                vol.Optional(DATA_VISIBILITY, default=Visibility.PUBLIC.value): VISIBILITY,
                vol.Optional(DATA_AUTO_UPDATE, default=False): bool,
            }
        )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_validate(
        self, firmware: HubFirmware, user_input: dict[str, Any]
    ) -> tuple[str, str] | None:
        """Resolve the ref and validate the repository there; return an error or None."""
        assert firmware.client is not None
        repo_id = user_input[DATA_REPO_ID]
        track = (user_input.get(DATA_TRACK) or "").strip()
        try:
            refs = await firmware.client.refs(repo_id)
            commit = refs.resolve(track or refs.default_branch or "")
            if commit is None:
                return "unknown_ref", f"{track or 'the default branch'} is not in the repository"
            validation = await firmware.client.validate(repo_id, commit)
            if not validation.valid or validation.schema is None:
                issues = "; ".join(str(issue) for issue in validation.issues)
                return "repo_invalid", issues or "the repository does not validate"
        except FirmwareError as err:
            return firmware_error(err), str(err)
        self._schema = validation.schema
        self._data = {
            DATA_REPO_ID: repo_id,
            DATA_TRACK: track,
            DATA_COMMIT: commit,
            DATA_VERSION: version_name(refs, commit),
            DATA_SCHEMA: validation.schema.to_json(),
            DATA_MODEL: validation.schema.name or None,
            DATA_VISIBILITY: user_input.get(DATA_VISIBILITY, Visibility.PUBLIC.value),
            DATA_AUTO_UPDATE: bool(user_input.get(DATA_AUTO_UPDATE)),
        }
        return None

    def _checked_env(
        self,
        declared: dict[str, EnvKey],
        user_input: dict[str, Any],
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> dict[str, Any] | None:
        """Return the env values the form gave; None with the form's error when refused."""
        try:
            return env_values(declared, user_input)
        except ValueError as err:
            errors["base"] = "invalid_env"
            placeholders["error"] = str(err)
            return None

    async def async_step_env(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask for the values of the env keys the repository declares."""
        assert self._schema is not None
        declared = declared_env(self._schema)
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if (
            user_input is not None
            and (values := self._checked_env(declared, user_input, errors, placeholders))
            is not None
        ):
            uid = new_unit_id()
            data = {
                **self._data,
                DATA_UID: uid,
                DATA_OWNER: None,
                DATA_ENV: self._firmware().seal_env(uid, values),
            }
            return self.async_create_entry(title=self._title, data=data, unique_id=uid)
        return self.async_show_form(
            step_id="env",
            data_schema=env_fields(declared, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change the tracked ref, auto-update and the env values (sent with env_update)."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        firmware = self._firmware()
        uid = subentry.data[DATA_UID]
        declared = declared_env(firmware.hub.units[uid].identity.schema)
        current = firmware.user_env(subentry)
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            extra = {
                key: user_input.pop(key)
                for key in (DATA_TRACK, DATA_AUTO_UPDATE)
                if key in user_input
            }
            values = self._checked_env(declared, user_input, errors, placeholders)
            if values is not None:
                data = {
                    **subentry.data,
                    DATA_TRACK: (extra.get(DATA_TRACK) or "").strip(),
                    DATA_AUTO_UPDATE: bool(extra.get(DATA_AUTO_UPDATE)),
                    DATA_ENV: firmware.seal_env(uid, values),
                }
                if values != current and uid in firmware.hub.units:
                    await firmware.hub.async_send_command(firmware.hub.units[uid], "env_update")
                return self.async_update_and_abort(entry, subentry, data=data)
        fields = env_fields(declared, current).schema
        form = vol.Schema(
            {
                vol.Optional(
                    DATA_TRACK, description={"suggested_value": subentry.data.get(DATA_TRACK)}
                ): str,
                vol.Optional(
                    DATA_AUTO_UPDATE,
                    description={"suggested_value": subentry.data.get(DATA_AUTO_UPDATE, False)},
                ): bool,
                **fields,
            }
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=form,
            errors=errors,
            description_placeholders=placeholders,
        )


SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {
    SUBENTRY_REPOSITORY: RepositorySubentryFlow,
    SUBENTRY_FIRMWARE_UNIT: FirmwareUnitSubentryFlow,
}
"""The firmware's subentry types and their flows (gathered by the config flow)."""
