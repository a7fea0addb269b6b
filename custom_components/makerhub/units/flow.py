"""The unit subentry flow: adopt an announced unit from the hub's page; rename a unit, say
who owns it and who may link to its outputs.

Units announced over MQTT are also offered by discovery (the config flow's ``mqtt`` step).
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import DATA_OWNER, DATA_UID, DATA_VISIBILITY, SUBENTRY_UNIT
from ..core.links import Visibility
from ..core.protocol import new_unit_id
from ..flows import VISIBILITY, HubSubentryFlow, name_error, people_with_users
from ..links.subentries import links_broken_by
from ..presence.manager import person_name
from ..runtime import entry_runtime
from .subentries import unit_names, unit_subentry_data


class UnitSubentryFlow(HubSubentryFlow):
    """Adopt an announced unit from the hub's page; rename a unit."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick one of the units that announced themselves and are not adopted."""
        entry = self._get_entry()
        announced = self.hub_runtime().hub.announced
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
            elif error := name_error(name, unit_names(entry)):
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
        """Rename a unit; say who owns it and who may link to its outputs.

        Works while the hub is not loaded too (the links it would break are then not
        checked: the hub checks them when it loads).
        """
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
            if error := name_error(name, unit_names(entry, exclude_uid=uid)):
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
                vol.Optional(DATA_VISIBILITY): VISIBILITY,
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


SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {SUBENTRY_UNIT: UnitSubentryFlow}
"""The units' subentry types and their flows (gathered by the config flow)."""
