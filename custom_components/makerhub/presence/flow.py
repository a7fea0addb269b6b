"""The presence subentry flows: stations (a place in the space marked by an iBeacon, heard
by scanners) and people's phones (the companion app device, the iBeacon it transmits).

Both work while the hub is not loaded; the hub picks them up when it loads.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigSubentry, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import (
    DATA_AREA,
    DATA_DEVICE,
    DATA_DISPLAY,
    DATA_MAJOR,
    DATA_MEASURED_POWER,
    DATA_MINOR,
    DATA_PERSON,
    DATA_SCANNERS,
    DATA_UUID,
    DOMAIN,
    SUBENTRY_PHONE,
    SUBENTRY_STATION,
)
from ..core.presence import (
    DEFAULT_MEASURED_POWER,
    BeaconId,
    PresenceConfigError,
    PresenceInputError,
    Station,
)
from ..flows import box_number, name_error
from .manager import (
    phone_from_subentry,
    phone_subentries,
    station_from_subentry,
    station_subentries,
)

BEACON_NUMBER = box_number(0, 65535)
STATION_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): str,
        vol.Required(DATA_UUID): str,
        vol.Required(DATA_MAJOR): BEACON_NUMBER,
        vol.Required(DATA_MINOR): BEACON_NUMBER,
        vol.Required(DATA_MEASURED_POWER): box_number(-127, 0, unit="dBm"),
        vol.Optional(DATA_SCANNERS): selector.TextSelector(),
        vol.Optional(DATA_AREA): selector.AreaSelector(),
        vol.Optional(DATA_DISPLAY): selector.DeviceSelector(
            selector.DeviceSelectorConfig(integration=DOMAIN)
        ),
    }
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
            if error := name_error(name):
                errors[CONF_NAME] = error
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


SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {
    SUBENTRY_STATION: StationSubentryFlow,
    SUBENTRY_PHONE: PhoneSubentryFlow,
}
"""Presence's subentry types and their flows (gathered by the config flow)."""
