"""Telemetry sensors: the writer's counters, and aggregates (a subentry each) read from
the database."""

from __future__ import annotations

from datetime import datetime, timedelta
import logging

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..const import (
    DATA_AGGREGATION,
    DATA_DIRECTION,
    DATA_UID,
    DATA_VARIABLE,
    DATA_WINDOW,
    HUB_DEVICE_ID,
    SUBENTRY_AGGREGATE,
)
from ..core.schema import Direction, VarType
from ..core.telemetry import Aggregation, TelemetryError, WriterCounters, sample_variable
from ..devices import hub_device_info
from ..entity import DescribedSensor, MakerhubEntity, MakerhubSensorEntityDescription
from ..runtime import MakerhubConfigEntry
from ..subentries import subentries_of
from ..units.hub import MakerhubHub
from .entity import MakerhubTelemetryEntity
from .manager import HubTelemetry

_LOGGER = logging.getLogger(__name__)

NUMERIC_DEVICE_CLASSES = {cls.value for cls in SensorDeviceClass} - {
    SensorDeviceClass.ENUM,
    SensorDeviceClass.TIMESTAMP,
    SensorDeviceClass.DATE,
}
"""Device classes an aggregate of a numeric variable keeps."""

AGGREGATE_MIN_REFRESH = timedelta(seconds=30)
AGGREGATE_MAX_REFRESH = timedelta(minutes=5)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The writer's counters and one sensor per aggregate subentry (with a database)."""
    runtime = entry.runtime_data
    if (telemetry := runtime.telemetry) is None:
        return
    async_add_entities(
        TelemetryCounterSensor(telemetry, description) for description in TELEMETRY_SENSORS
    )
    for subentry in subentries_of(entry, SUBENTRY_AGGREGATE):
        async_add_entities(
            [AggregateSensor(runtime.hub, telemetry, subentry)],
            config_subentry_id=subentry.subentry_id,
        )


TELEMETRY_SENSORS: tuple[MakerhubSensorEntityDescription[WriterCounters], ...] = (
    MakerhubSensorEntityDescription(
        key="written",
        translation_key="telemetry_written",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda counters: counters.written,
    ),
    MakerhubSensorEntityDescription(
        key="buffered",
        translation_key="telemetry_buffered",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda counters: counters.buffered,
    ),
    MakerhubSensorEntityDescription(
        key="spilled",
        translation_key="telemetry_spilled",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda counters: counters.spilled,
    ),
    MakerhubSensorEntityDescription(
        key="dropped",
        translation_key="telemetry_dropped",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda counters: counters.dropped,
    ),
    MakerhubSensorEntityDescription(
        key="rejected",
        translation_key="telemetry_rejected",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda counters: counters.rejected,
    ),
)


class TelemetryCounterSensor(MakerhubTelemetryEntity, DescribedSensor[WriterCounters]):
    """A count of samples: written, waiting in memory or on disk, dropped, rejected."""

    entity_description: MakerhubSensorEntityDescription[WriterCounters]
    _attr_native_unit_of_measurement = "samples"


class AggregateSensor(MakerhubEntity, SensorEntity):
    """A variable's telemetry aggregated over a trailing window, e.g. median over 10 min.

    Queries the database every tenth of the window (30 s to 5 min); unavailable while the
    database cannot answer.
    """

    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, hub: MakerhubHub, telemetry: HubTelemetry, subentry: ConfigSubentry) -> None:
        """Describe the aggregate from its subentry and the variable's schema."""
        data = subentry.data
        self.hub = hub
        self.telemetry = telemetry
        self.uid: str = data[DATA_UID]
        self.direction = Direction(data[DATA_DIRECTION])
        self.variable_name: str = data[DATA_VARIABLE]
        self.aggregation = Aggregation(data[DATA_AGGREGATION])
        self.window = timedelta(seconds=data[DATA_WINDOW])
        self.interval = min(max(self.window / 10, AGGREGATE_MIN_REFRESH), AGGREGATE_MAX_REFRESH)
        super().__init__(f"{HUB_DEVICE_ID}-aggregate-{subentry.subentry_id}", hub_device_info())
        self._attr_name = subentry.title
        self._attr_available = False
        self._attr_extra_state_attributes = {
            "unit_id": self.uid,
            "variable": self.variable_name,
            "aggregation": self.aggregation.value,
            "window_minutes": round(self.window.total_seconds() / 60, 2),
        }
        unit = hub.units.get(self.uid)
        variable = (
            None
            if unit is None
            else unit.identity.schema.variables(self.direction).get(self.variable_name)
        )
        if self.aggregation is Aggregation.COUNT:
            self._attr_native_unit_of_measurement = "samples"
        elif variable is not None and variable.type in (VarType.FLOAT, VarType.INT):
            self._attr_native_unit_of_measurement = variable.unit
            self._attr_suggested_display_precision = variable.precision
            if variable.device_class in NUMERIC_DEVICE_CLASSES:
                self._attr_device_class = SensorDeviceClass(variable.device_class)
        self._logged_unavailable = False

    async def async_added_to_hass(self) -> None:
        """Query now, then every refresh interval (``update_entity`` refreshes too)."""
        self.async_on_remove(
            async_track_time_interval(self.hass, self._async_refresh, self.interval)
        )
        self.hub.entry.async_create_background_task(
            self.hass, self._async_refresh(), f"makerhub aggregate {self.entity_id}"
        )

    async def _async_refresh(self, _now: datetime | None = None) -> None:
        await self.async_update_ha_state(force_refresh=True)

    async def async_update(self) -> None:
        """Query the aggregate over the window that ends now."""
        unit = self.hub.units.get(self.uid)
        if unit is None:
            self._set_unavailable(f"unit {self.uid} no longer exists")
            return
        column = sample_variable(unit.identity.schema, self.direction, self.variable_name)
        end = dt_util.utcnow()
        try:
            history = await self.telemetry.store.get_history(
                self.uid, column, end - self.window, end, aggregation=self.aggregation
            )
        except TelemetryError as err:
            self._set_unavailable(str(err))
            return
        if self._logged_unavailable:
            _LOGGER.info("%s is back", self.entity_id)
            self._logged_unavailable = False
        self._attr_available = True
        value = history.points[0].value if history.points else None
        self._attr_native_value = value if isinstance(value, int | float) else None

    def _set_unavailable(self, reason: str) -> None:
        if not self._logged_unavailable:
            _LOGGER.info("%s is unavailable: %s", self.entity_id, reason)
            self._logged_unavailable = True
        self._attr_available = False
