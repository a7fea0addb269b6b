"""Project sensors: each project's status and cost, and the space's active projects and
month spend."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorStateClass,
)
from homeassistant.const import (
    Platform,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util

from ..const import (
    HUB_DEVICE_ID,
)
from ..core.projects import Project, ProjectStatus
from ..data import makerhub_data
from ..devices import hub_device_info
from ..runtime import MakerhubConfigEntry
from .entity import ProjectEntity
from .store import Projects


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The space's active projects and month spend; each project's status and cost."""
    async_add_entities(
        [
            ActiveProjectsSensor(makerhub_data(hass).projects),
            MonthSpendSensor(makerhub_data(hass).projects),
        ]
    )
    entry.runtime_data.project_devices.register(
        Platform.SENSOR,
        async_add_entities,
        lambda projects, project_id: [
            ProjectStatusSensor(projects, project_id),
            ProjectCostSensor(projects, project_id),
        ],
    )


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
            **makerhub_data(self.hass).todoist.status_attributes(project.id),
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
