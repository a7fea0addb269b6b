"""Sensors: unit outputs (numbers, text, enums), the unit's diagnostic state, telemetry,
presence, and projects (status and costs, and the space's totals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
import logging
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import (
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    Platform,
    UnitOfInformation,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_change, async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import (
    DATA_AGGREGATION,
    DATA_DIRECTION,
    DATA_UID,
    DATA_VARIABLE,
    DATA_WINDOW,
    HUB_DEVICE_ID,
    SUBENTRY_AGGREGATE,
)
from .core.presence import Station
from .core.projects import Project, ProjectStatus
from .core.protocol import UnitState
from .core.schema import Direction, Variable, VarType
from .core.telemetry import Aggregation, TelemetryError, WriterCounters, sample_variable
from .core.unit import UnitRuntime
from .entity import (
    MakerhubPresenceEntity,
    MakerhubStateEntity,
    MakerhubStationEntity,
    MakerhubTelemetryEntity,
    MakerhubUnitEntity,
    MakerhubVariableEntity,
    hub_device_info,
    variables_on,
)
from .firmware import HubFirmware, RepositoryEntity, repository_entities
from .hub import MakerhubHub
from .presence import HubPresence, person_name, wall_time
from .project_devices import ProjectEntity
from .project_sync import DATA_TODOIST
from .projects import DATA_PROJECTS, Projects
from .runtime import MakerhubConfigEntry
from .telemetry import HubTelemetry

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0
AGGREGATE_MIN_REFRESH = timedelta(seconds=30)
AGGREGATE_MAX_REFRESH = timedelta(minutes=5)
NUMERIC_DEVICE_CLASSES = {cls.value for cls in SensorDeviceClass} - {
    SensorDeviceClass.ENUM,
    SensorDeviceClass.TIMESTAMP,
    SensorDeviceClass.DATE,
}
RESTART_JITTER = timedelta(seconds=60)
"""Uptime-derived restart times within this of the last one are the same restart."""


@dataclass(frozen=True, kw_only=True)
class UnitStateSensorDescription(SensorEntityDescription):
    """A diagnostic sensor read from the unit's state report."""

    value_fn: Callable[[UnitState], str | int | None]


STATE_SENSORS: tuple[UnitStateSensorDescription, ...] = (
    UnitStateSensorDescription(
        key="firmware_version",
        translation_key="firmware_version",
        entity_category=EntityCategory.DIAGNOSTIC,
        # The device page shows the version already; a sensor is for automations.
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.version,
    ),
    UnitStateSensorDescription(
        key="ip_address",
        translation_key="ip_address",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.ip,
    ),
    UnitStateSensorDescription(
        key="rssi",
        translation_key="rssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.rssi,
    ),
    UnitStateSensorDescription(
        key="memory_free",
        translation_key="memory_free",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.KIBIBYTES,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.mem_free,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create sensors for every unit, now and as units are adopted; telemetry sensors."""
    runtime = entry.runtime_data
    hub = runtime.hub
    if (telemetry := runtime.telemetry) is not None:
        async_add_entities(
            TelemetryCounterSensor(telemetry, description) for description in TELEMETRY_SENSORS
        )
        for subentry in entry.subentries.values():
            if subentry.subentry_type == SUBENTRY_AGGREGATE:
                async_add_entities(
                    [AggregateSensor(hub, telemetry, subentry)],
                    config_subentry_id=subentry.subentry_id,
                )
    hub.register_platform(Platform.SENSOR, async_add_entities, build_sensors)
    presence = runtime.presence
    async_add_entities(
        [
            PeoplePresentSensor(presence),
            *(StationPeopleSensor(presence, station) for station in presence.stations),
            *(PersonStationSensor(presence, person) for person in sorted(presence.people)),
        ]
    )
    entry.async_on_unload(
        presence.add_person_listener(
            lambda person: async_add_entities([PersonStationSensor(presence, person)])
        )
    )
    projects = hass.data[DATA_PROJECTS]
    async_add_entities([ActiveProjectsSensor(projects), MonthSpendSensor(projects)])
    repository_entities(
        entry,
        runtime.firmware,
        lambda firmware, subentry: [
            RepositoryLastSyncSensor(firmware, subentry),
            RepositoryErrorSensor(firmware, subentry),
        ],
        async_add_entities,
    )
    async_add_entities([RolloutSensor(runtime.firmware)])
    runtime.project_devices.register(
        Platform.SENSOR,
        async_add_entities,
        lambda projects, project_id: [
            ProjectStatusSensor(projects, project_id),
            ProjectCostSensor(projects, project_id),
        ],
    )


@dataclass(frozen=True, kw_only=True)
class TelemetryCounterDescription(SensorEntityDescription):
    """One of the telemetry writer's counters."""

    value_fn: Callable[[WriterCounters], int]


TELEMETRY_SENSORS: tuple[TelemetryCounterDescription, ...] = (
    TelemetryCounterDescription(
        key="written",
        translation_key="telemetry_written",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda counters: counters.written,
    ),
    TelemetryCounterDescription(
        key="buffered",
        translation_key="telemetry_buffered",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda counters: counters.buffered,
    ),
    TelemetryCounterDescription(
        key="spilled",
        translation_key="telemetry_spilled",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda counters: counters.spilled,
    ),
    TelemetryCounterDescription(
        key="dropped",
        translation_key="telemetry_dropped",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda counters: counters.dropped,
    ),
    TelemetryCounterDescription(
        key="rejected",
        translation_key="telemetry_rejected",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda counters: counters.rejected,
    ),
)


def build_sensors(hub: MakerhubHub, unit: UnitRuntime) -> list[MakerhubUnitEntity]:
    """Return a unit's sensors."""
    entities: list[MakerhubUnitEntity] = [
        MakerhubOutputSensor(hub, unit, variable)
        for variable in variables_on(Platform.SENSOR, unit, Direction.OUTPUT)
    ]
    entities.extend(UnitStateSensor(hub, unit, description) for description in STATE_SENSORS)
    entities.append(LastRestartSensor(hub, unit))
    return entities


class MakerhubOutputSensor(MakerhubVariableEntity, SensorEntity):
    """A unit output shown as a sensor."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, variable: Variable) -> None:
        """Take unit, device class, state class and precision from the schema."""
        super().__init__(hub, unit, Direction.OUTPUT, variable)
        if variable.type is VarType.ENUM:
            self._attr_device_class = SensorDeviceClass.ENUM
            self._attr_options = list(variable.options)
        elif variable.device_class is not None:
            self._attr_device_class = SensorDeviceClass(variable.device_class)
        if variable.is_numeric:
            self._attr_native_unit_of_measurement = variable.unit
            self._attr_suggested_display_precision = variable.precision
            if variable.state_class is not None:
                self._attr_state_class = SensorStateClass(variable.state_class)

    @property
    def native_value(self) -> str | int | float | None:
        """Return the latest output value."""
        return self.variable_value


class UnitStateSensor(MakerhubStateEntity, SensorEntity):
    """A field of the unit's state report."""

    entity_description: UnitStateSensorDescription

    @property
    def native_value(self) -> str | int | None:
        """Return the field from the latest state report."""
        state = self.unit.state
        return None if state is None else self.entity_description.value_fn(state)


class LastRestartSensor(MakerhubStateEntity, SensorEntity):
    """When the unit last started, from its uptime (a timestamp does not tick)."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime) -> None:
        """Describe the timestamp sensor."""
        super().__init__(
            hub,
            unit,
            SensorEntityDescription(
                key="last_restart",
                translation_key="last_restart",
                device_class=SensorDeviceClass.TIMESTAMP,
                entity_category=EntityCategory.DIAGNOSTIC,
                # A crash loop shows as the connectivity sensor flapping already; each
                # live entity costs every unit memory (see bench/ingest.py).
                entity_registry_enabled_default=False,
            ),
        )
        self._restarted_at: datetime | None = None

    @callback
    def _on_state(self) -> None:
        state = self.unit.state
        if state is None or state.uptime_ms is None:
            return
        restarted = dt_util.utcnow() - timedelta(milliseconds=state.uptime_ms)
        if self._restarted_at is None or abs(restarted - self._restarted_at) > RESTART_JITTER:
            self._restarted_at = restarted.replace(microsecond=0)
            self.async_write_ha_state()

    async def async_added_to_hass(self) -> None:
        """Compute from a state that arrived before the entity was added."""
        await super().async_added_to_hass()
        self._on_state()

    @property
    def native_value(self) -> datetime | None:
        """Return the restart time."""
        return self._restarted_at


class TelemetryCounterSensor(MakerhubTelemetryEntity, SensorEntity):
    """A count of samples: written, waiting in memory or on disk, dropped, rejected."""

    entity_description: TelemetryCounterDescription
    _attr_native_unit_of_measurement = "samples"

    @property
    def native_value(self) -> int:
        """Return the counter."""
        return self.entity_description.value_fn(self.coordinator.data)


class AggregateSensor(SensorEntity):
    """A variable's telemetry aggregated over a trailing window, e.g. median over 10 min.

    Queries the database every tenth of the window (30 s to 5 min); unavailable while the
    database cannot answer.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
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
        self._attr_unique_id = f"{HUB_DEVICE_ID}-aggregate-{subentry.subentry_id}"
        self._attr_name = subentry.title
        self._attr_device_info = hub_device_info()
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


class PersonStationSensor(MakerhubPresenceEntity, SensorEntity):
    """Where a person is: a station's name, or ``away``."""

    _attr_translation_key = "person_station"

    def __init__(self, presence: HubPresence, person: str) -> None:
        """Name the sensor after the person."""
        super().__init__(presence, f"person-{person}", hub_device_info())
        self.person = person
        self._attr_translation_placeholders = {"person": person_name(presence.hass, person)}

    @property
    def native_value(self) -> str:
        """Return the station's name, or away."""
        current = self.presence.engine.person(self.person)
        return self.presence.station_name(None if current is None else current.station)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the distance, the source and when the person was last seen."""
        current = self.presence.engine.person(self.person)
        if current is None:
            return {"person": self.person}
        return {
            "person": self.person,
            "distance": None if current.distance is None else round(current.distance, 2),
            "source": None if current.source is None else current.source.value,
            "last_seen": (
                None
                if current.last_seen is None
                else dt_util.utc_from_timestamp(wall_time(current.last_seen)).isoformat()
            ),
            "project": current.project,
        }


class StationPeopleSensor(MakerhubStationEntity, SensorEntity):
    """How many people are at a station."""

    _attr_translation_key = "station_people"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, presence: HubPresence, station: Station) -> None:
        """Attach to the station's device."""
        super().__init__(presence, station, "people")

    @property
    def native_value(self) -> int:
        """Return the number of people at the station."""
        return len(self.occupants)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return who is there."""
        return {"people": sorted(self.occupants)}


class PeoplePresentSensor(MakerhubPresenceEntity, SensorEntity):
    """How many people are in the space (at any station)."""

    _attr_translation_key = "people_present"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, presence: HubPresence) -> None:
        """Attach to the hub's device."""
        super().__init__(presence, "people-present", hub_device_info())

    @property
    def native_value(self) -> int:
        """Return the number of people present."""
        return len(self.presence.engine.space().present)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return who is present."""
        return {"people": sorted(self.presence.engine.space().present)}


# -- projects ---------------------------------------------------------------------------


def _in_currency(totals: dict[str, Decimal], currency: str) -> Decimal:
    return totals.get(currency, Decimal(0))


class ProjectStatusSensor(ProjectEntity, SensorEntity):
    """Where a project stands (active, paused, archived), with its progress."""

    _attr_translation_key = "project_status"
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [status.value for status in ProjectStatus]

    def __init__(self, projects: Projects, project_id: str) -> None:
        """Attach to the project's device."""
        super().__init__(projects, project_id, "status")

    @property
    def native_value(self) -> str | None:
        """Return the status."""
        return None if (project := self.project) is None else project.status.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the progress and where the project lives outside Home Assistant."""
        if (project := self.project) is None:
            return {}
        return {
            "slug": project.slug,
            "owner": project.owner,
            "steps_done": sum(step.done for step in project.steps),
            "steps_total": len(project.steps),
            "github_url": project.github_url,
            "todoist_project_id": project.todoist_project_id,
            **self.hass.data[DATA_TODOIST].status_attributes(project.id),
        }


class ProjectCostSensor(ProjectEntity, SensorEntity):
    """What a project has cost, in the home currency; this month's total as an attribute.

    Expenses in other currencies are listed per currency, never converted."""

    _attr_translation_key = "project_cost"
    _attr_device_class = SensorDeviceClass.MONETARY
    _attr_state_class = SensorStateClass.TOTAL

    def __init__(self, projects: Projects, project_id: str) -> None:
        """Attach to the project's device; count in Home Assistant's currency."""
        super().__init__(projects, project_id, "cost")
        self._attr_native_unit_of_measurement = projects.hass.config.currency

    @property
    def native_value(self) -> Decimal | None:
        """Return the total spent in the home currency."""
        if (project := self.project) is None:
            return None
        return _in_currency(project.total_cost(), self.hass.config.currency)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return this month's total and the totals in other currencies."""
        if (project := self.project) is None:
            return {}
        currency = self.hass.config.currency
        today = dt_util.now().date()
        return {
            # JSON has no decimals: a float, like the state the frontend shows.
            "monthly_total": float(
                _in_currency(project.month_cost(today.year, today.month), currency)
            ),
            "other_currencies": {
                code: str(total)
                for code, total in sorted(project.total_cost().items())
                if code != currency
            },
        }


class _SpaceProjectsSensor(SensorEntity):
    """A space-wide figure about projects, on the hub's device."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, projects: Projects, key: str) -> None:
        """Attach to the hub's device."""
        self.projects = projects
        self._attr_unique_id = f"{HUB_DEVICE_ID}-{key}"
        self._attr_device_info = hub_device_info()

    async def async_added_to_hass(self) -> None:
        """Follow changes of projects."""
        self.async_on_remove(self.projects.add_listener(self.async_write_ha_state))


class ActiveProjectsSensor(_SpaceProjectsSensor):
    """How many projects are active."""

    _attr_translation_key = "active_projects"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, projects: Projects) -> None:
        """Attach to the hub's device."""
        super().__init__(projects, "active-projects")

    @property
    def native_value(self) -> int:
        """Return the number of active projects."""
        return len(self.projects.registry.find(status=ProjectStatus.ACTIVE))


class MonthSpendSensor(_SpaceProjectsSensor):
    """What every project together spent this calendar month, in the home currency."""

    _attr_translation_key = "month_spend"
    _attr_device_class = SensorDeviceClass.MONETARY
    _attr_state_class = SensorStateClass.TOTAL

    def __init__(self, projects: Projects) -> None:
        """Count in Home Assistant's currency."""
        super().__init__(projects, "month-spend")
        self._attr_native_unit_of_measurement = projects.hass.config.currency

    @property
    def last_reset(self) -> datetime:
        """Return the start of this month."""
        return dt_util.start_of_local_day(dt_util.now().date().replace(day=1))

    async def async_added_to_hass(self) -> None:
        """Follow changes of projects, and start again at midnight on the 1st.

        The month starts again for every project's cost sensor too (its monthly total), so
        the 1st tells every listener of the projects, this sensor among them. The next
        midnight is found from the clock when the sensor is added, whatever day that is."""
        await super().async_added_to_hass()

        @callback
        def _midnight(now: datetime) -> None:
            if now.day == 1:
                self.projects.notify()

        self.async_on_remove(
            async_track_time_change(self.hass, _midnight, hour=0, minute=0, second=0)
        )

    def _month(self) -> list[tuple[Project, dict[str, Decimal]]]:
        today = dt_util.now().date()
        return [
            (project, project.month_cost(today.year, today.month))
            for project in self.projects.registry.find()
        ]

    @property
    def native_value(self) -> Decimal:
        """Return this month's total in the home currency."""
        currency = self.hass.config.currency
        return sum((_in_currency(totals, currency) for _, totals in self._month()), Decimal(0))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return this month's spend per project, and in other currencies."""
        currency = self.hass.config.currency
        other: dict[str, Decimal] = {}
        for _, totals in self._month():
            for code, total in totals.items():
                if code != currency:
                    other[code] = other.get(code, Decimal(0)) + total
        return {
            "projects": {
                project.slug: str(_in_currency(totals, currency))
                for project, totals in self._month()
                if _in_currency(totals, currency)
            },
            "other_currencies": {code: str(total) for code, total in sorted(other.items())},
        }


# -- firmware ---------------------------------------------------------------------------


class RepositoryLastSyncSensor(RepositoryEntity, SensorEntity):
    """When the repository was last synced successfully."""

    _attr_translation_key = "repository_last_sync"
    _attr_device_class = SensorDeviceClass.TIMESTAMP

    def __init__(self, firmware: HubFirmware, subentry: ConfigSubentry) -> None:
        """Attach to the repository's device."""
        super().__init__(firmware, subentry, "last-sync")

    @property
    def native_value(self) -> datetime | None:
        """Return the last successful sync."""
        status = self.repo_status
        if status is None or status.repo.last_sync is None:
            return None
        return dt_util.utc_from_timestamp(status.repo.last_sync)


class RepositoryErrorSensor(RepositoryEntity, SensorEntity):
    """Why the repository's last sync failed (empty when it worked)."""

    _attr_translation_key = "repository_error"
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, firmware: HubFirmware, subentry: ConfigSubentry) -> None:
        """Attach to the repository's device."""
        super().__init__(firmware, subentry, "error")

    @property
    def native_value(self) -> str | None:
        """Return the last error, cut to a state's length."""
        status = self.repo_status
        if status is None or status.repo.last_error is None:
            return "ok"
        return status.repo.last_error[:255]


class RolloutSensor(SensorEntity):
    """The fleet rollout: idle, waiting, running, finished or stopped, with progress."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "rollout"
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = ["idle", "waiting", "running", "finished", "stopped"]

    def __init__(self, firmware: HubFirmware) -> None:
        """Attach to the hub's device."""
        self.firmware = firmware
        self._attr_unique_id = f"{HUB_DEVICE_ID}-rollout"
        self._attr_device_info = hub_device_info()

    @property
    def native_value(self) -> str:
        """Return where the last rollout is."""
        rollout = self.firmware.rollout
        return "idle" if rollout is None else rollout.state.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the last rollout's progress."""
        rollout = self.firmware.rollout
        return {} if rollout is None else rollout.summary()

    async def async_added_to_hass(self) -> None:
        """Follow rollouts."""
        self.async_on_remove(self.firmware.add_listener(self.async_write_ha_state))
