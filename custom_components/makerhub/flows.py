"""What the hub's flows share: the loaded-hub abort, sealed fields, common fields and checks.

Every flow of the integration is built from these pieces: the config flow (``config_flow.py``),
the options flow (composed of the features' sections, each an :class:`OptionsSection`) and
the features' subentry flows (``<feature>/flow.py``, those needing the loaded hub a
:class:`HubSubentryFlow`).

A secret kept in the options (the broker admin password, the firmware service token, the
telemetry DSN) is a :class:`SealedField`: its form shows a stand-in, never the secret;
the stand-in sent back keeps the stored secret; what is saved is sealed with the hub's
secret box. An add-on service whose token is refused later gets a repair whose fix flow is
a :class:`ServiceTokenFlow`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigFlowResult, ConfigSubentryFlow, OptionsFlow
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from .const import DATA_VISIBILITY
from .core.links import Visibility
from .runtime import MakerhubRuntime, flow_runtime
from .secrets import async_get_secret_box, open_text_or_none, seal_text

MAX_NAME_LENGTH: Final = 64
STAND_IN: Final = "***"
"""What a form shows in place of a stored password or token."""

PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
VISIBILITY = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=[v.value for v in Visibility], translation_key=DATA_VISIBILITY
    )
)


def box_number(
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    step: float | Literal["any"] = 1,
    unit: str | None = None,
) -> selector.NumberSelector:
    """Return a number field typed in a box (not a slider), with its bounds and unit."""
    config = selector.NumberSelectorConfig(mode=selector.NumberSelectorMode.BOX, step=step)
    if minimum is not None:
        config["min"] = minimum
    if maximum is not None:
        config["max"] = maximum
    if unit is not None:
        config["unit_of_measurement"] = unit
    return selector.NumberSelector(config)


def name_error(name: str, taken: Iterable[str] = ()) -> str | None:
    """Return the form error of a name (``taken``: the names in use, case-folded), or None."""
    if not name or len(name) > MAX_NAME_LENGTH:
        return "invalid_name"
    if name.casefold() in taken:
        return "name_taken"
    return None


def people_with_users(hass: HomeAssistant) -> dict[str, str]:
    """Return person entity id → user id, for the people who can own units and projects."""
    return {
        state.entity_id: state.attributes["user_id"]
        for state in hass.states.async_all("person")
        if state.attributes.get("user_id")
    }


def person_selector(people: Iterable[str], label: Callable[[str], str]) -> selector.SelectSelector:
    """Return a selector of people, each shown as ``label(person)``."""
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=[
                selector.SelectOptionDict(value=person, label=label(person))
                for person in sorted(people)
            ]
        )
    )


class HubSubentryFlow(ConfigSubentryFlow):
    """A subentry flow that needs the loaded hub."""

    def hub_runtime(self) -> MakerhubRuntime:
        """Return the loaded hub's runtime; abort the flow ``hub_not_loaded`` without it."""
        return flow_runtime(self._get_entry())


class OptionsSection(OptionsFlow):
    """A section of the options flow (one step or a few): a feature's part of the menu.

    The options flow is one class made of the sections (``config_flow.py``); each section
    is a mixin of this class holding its ``async_step_<section>`` and saving with
    :meth:`save`.
    """

    def save(self, changes: Mapping[str, Any]) -> ConfigFlowResult:
        """Finish the options flow with ``changes`` over the stored options."""
        return self.async_create_entry(data={**self.config_entry.options, **changes})

    async def async_service_step[E: Exception](
        self, service: ServiceOption[E], user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Run the step that points the hub at ``service``: its URL and token, checked with
        it (the token stored sealed); an empty URL disconnects the service."""
        options = self.config_entry.options
        stored = await service.token.async_stored(self.hass, options)
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            url = (user_input.get(service.url_key) or "").strip().rstrip("/")
            token = service.token.meant(user_input.get(service.token.key) or "", stored)
            if not url:
                return self.save({service.url_key: "", service.token.key: ""})
            try:
                await service.check(self.hass, url, token)
            except service.error as err:
                errors["base"] = service.form_error(err)
                placeholders["error"] = str(err)
            else:
                sealed = await service.token.async_seal(self.hass, token)
                return self.save({service.url_key: url, service.token.key: sealed})
        suggested = user_input or {
            service.url_key: options.get(service.url_key, ""),
            service.token.key: service.token.shown(stored),
        }
        return self.async_show_form(
            step_id=service.step_id,
            data_schema=self.add_suggested_values_to_schema(service.schema, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )


class SealedField:
    """An option kept sealed and edited in a form.

    The form shows :meth:`shown` (a stand-in, never the secret); :meth:`meant` turns the
    stand-in sent back into the stored secret; :meth:`async_seal` seals what is saved. A
    stored secret that cannot be opened counts as none (it must be entered again).
    """

    def __init__(self, key: str, context: str) -> None:
        """The option ``key`` holds the secret sealed for ``context``."""
        self.key = key
        self.context = context

    def stand_in(self, secret: str) -> str | None:
        """Return what the form shows for a stored secret; None when it cannot be used."""
        return STAND_IN

    async def async_stored(self, hass: HomeAssistant, options: Mapping[str, Any]) -> str | None:
        """Return the stored secret; None when none is stored or it cannot be used."""
        sealed = options.get(self.key)
        if not sealed:
            return None
        secret = open_text_or_none(await async_get_secret_box(hass), sealed, self.context)
        return secret if secret is not None and self.stand_in(secret) is not None else None

    def shown(self, stored: str | None) -> str:
        """Return what the form shows for the stored secret ("" when there is none)."""
        return (self.stand_in(stored) or "") if stored is not None else ""

    def meant(self, typed: str, stored: str | None) -> str:
        """Return the secret a form means: the stored one when its stand-in came back."""
        if stored is not None and typed == self.stand_in(stored):
            return stored
        return typed

    async def async_seal(self, hass: HomeAssistant, secret: str) -> str:
        """Return ``secret`` sealed for the options ("" stays "": nothing stored)."""
        return seal_text(await async_get_secret_box(hass), secret, self.context) if secret else ""


@dataclass(frozen=True, slots=True)
class ServiceOption[E: Exception]:
    """An add-on service the options point at (:meth:`OptionsSection.async_service_step`):
    the step, the URL option, the sealed token, and how the pair is checked."""

    step_id: str
    url_key: str
    token: SealedField
    check: Callable[[HomeAssistant, str, str], Awaitable[None]]
    """Raise ``error`` unless the service at the URL answers and accepts the token."""
    error: type[E]
    form_error: Callable[[E], str]
    """The form's error key for a failed check."""

    @property
    def schema(self) -> vol.Schema:
        """Return the step's form: the URL and the token (a password field)."""
        return vol.Schema(
            {
                vol.Optional(self.url_key): selector.TextSelector(
                    selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
                ),
                vol.Optional(self.token.key): PASSWORD,
            }
        )


class ServiceTokenFlow(RepairsFlow):
    """The fix flow of an add-on service's refused token (a feature's ``<service>_token_
    refused`` issue): enter a new one, checked with the service, stored sealed in the hub's
    options (the hub reloads with it; the next good poll keeps the issue away)."""

    service: ServiceOption[Any]
    not_configured: str
    """The abort reason when the service was turned off since the issue was raised."""

    def __init__(self, entry_id: str) -> None:
        """Fix the token of the hub ``entry_id``."""
        self.entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Show the form; check a token entered with the service before storing it."""
        service = self.service
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        url = entry.options.get(service.url_key) if entry is not None else None
        if entry is None or not url:
            return self.async_abort(reason=self.not_configured)
        errors: dict[str, str] = {}
        placeholders = {"url": url, "error": ""}
        # The flow starts with the issue's own data, not the form's.
        if user_input is not None and service.token.key in user_input:
            token = str(user_input[service.token.key]).strip()
            try:
                await service.check(self.hass, url, token)
            except service.error as err:
                errors["base"] = service.form_error(err)
                placeholders["error"] = str(err)
            else:
                sealed = await service.token.async_seal(self.hass, token)
                self.hass.config_entries.async_update_entry(
                    entry, options={**entry.options, service.token.key: sealed}
                )
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema({vol.Required(service.token.key): PASSWORD}),
            errors=errors,
            description_placeholders=placeholders,
        )
