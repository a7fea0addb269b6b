"""Telemetry actions: ``makerhub.get_history`` and ``makerhub.backup_telemetry``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..const import DOMAIN
from ..core.telemetry import (
    Aggregation,
    BackupError,
    QueryError,
    TelemetryStore,
    TelemetryUnavailableError,
    sample_variable,
)
from ..runtime import loaded_runtime
from ..units.hub import MakerhubHub
from ..units.lookup import unit_by_reference

SERVICE_GET_HISTORY: Final = "get_history"


SERVICE_BACKUP_TELEMETRY: Final = "backup_telemetry"


ATTR_UNIT: Final = "unit"


ATTR_VARIABLE: Final = "variable"


ATTR_START: Final = "start"


ATTR_END: Final = "end"


ATTR_AGGREGATION: Final = "aggregation"


ATTR_BUCKET: Final = "bucket"


DEFAULT_RANGE: Final = timedelta(hours=1)


BACKUP_FOLDER: Final = "backups"
"""Home Assistant's backup folder, under the configuration directory."""


GET_HISTORY_SCHEMA: Final = vol.Schema(
    vol.All(
        {
            vol.Optional(ATTR_ENTITY_ID): cv.entity_id,
            vol.Optional(ATTR_UNIT): cv.string,
            vol.Optional(ATTR_VARIABLE): cv.string,
            vol.Optional(ATTR_START): cv.datetime,
            vol.Optional(ATTR_END): cv.datetime,
            vol.Optional(ATTR_AGGREGATION, default=Aggregation.RAW.value): vol.In(
                [aggregation.value for aggregation in Aggregation]
            ),
            vol.Optional(ATTR_BUCKET): cv.positive_time_period,
        },
        cv.has_at_least_one_key(ATTR_ENTITY_ID, ATTR_UNIT),
    )
)


def _store(hass: HomeAssistant) -> TelemetryStore:
    telemetry = loaded_runtime(hass).telemetry
    if telemetry is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="telemetry_not_configured"
        )
    return telemetry.store


def _series_of_entity(hub: MakerhubHub, entity_id: str) -> tuple[str, str]:
    """Return the (unit, variable) series an input or output entity shows."""
    if (found := hub.variable_of_entity(entity_id)) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_variable_entity",
            translation_placeholders={"entity_id": entity_id},
        )
    unit, direction, name = found
    return unit.uid, sample_variable(unit.identity.schema, direction, name)


def _series(hass: HomeAssistant, call: ServiceCall) -> tuple[str, str]:
    hub = loaded_runtime(hass).hub
    if entity_id := call.data.get(ATTR_ENTITY_ID):
        return _series_of_entity(hub, entity_id)
    unit = unit_by_reference(hass, hub, call.data[ATTR_UNIT])
    name = call.data.get(ATTR_VARIABLE, "")
    schema = unit.identity.schema
    if name in schema.outputs or name.removesuffix(".in") in schema.inputs:
        return unit.uid, name
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_variable",
        translation_placeholders={"unit": unit.identity.name, "variable": name},
    )


def _aware(value: datetime | None, default: datetime) -> datetime:
    if value is None:
        return default
    return value if value.tzinfo else value.replace(tzinfo=dt_util.get_default_time_zone())


async def _async_get_history(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    store = _store(hass)
    unit, variable = _series(hass, call)
    end = _aware(call.data.get(ATTR_END), dt_util.utcnow())
    start = _aware(call.data.get(ATTR_START), end - DEFAULT_RANGE)
    try:
        history = await store.get_history(
            unit,
            variable,
            start,
            end,
            aggregation=call.data[ATTR_AGGREGATION],
            bucket=call.data.get(ATTR_BUCKET),
        )
    except QueryError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_history_query",
            translation_placeholders={"error": str(err)},
        ) from err
    except TelemetryUnavailableError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="telemetry_unavailable",
            translation_placeholders={"error": str(err)},
        ) from err
    response: dict[str, Any] = history.as_dict()
    return response


async def _async_backup_telemetry(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    store = _store(hass)
    try:
        path = await store.backup(Path(hass.config.path(BACKUP_FOLDER)))
    except BackupError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="backup_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    size = await hass.async_add_executor_job(lambda: path.stat().st_size)
    return {"path": str(path), "size": size}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register ``makerhub.get_history`` and ``makerhub.backup_telemetry``."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_HISTORY,
        _async_get_history,
        schema=GET_HISTORY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_BACKUP_TELEMETRY,
        _async_backup_telemetry,
        schema=vol.Schema({}),
        supports_response=SupportsResponse.OPTIONAL,
    )
