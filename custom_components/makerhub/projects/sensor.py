"""Project sensors: each project's status, cost and cost this month, and the space's
active projects, month spend, budget used, steps done this week and projects finished this
month (entity descriptions whose functions compute them)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    Platform,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_MONTHLY_BUDGET,
    HUB_DEVICE_ID,
)
from ..core.periods import month_start, next_month_start, next_week_start, week_start, within
from ..core.projects import Project, ProjectStatus
from ..data import makerhub_data
from ..devices import hub_device_info
from ..entity import DescribedSensor, MakerhubEntity, MakerhubSensorEntityDescription
from ..runtime import MakerhubConfigEntry
from .entity import ProjectEntity
from .store import Projects


def _in_currency(totals: dict[str, Decimal], currency: str) -> Decimal:
    return totals.get(currency, Decimal(0))


def _status_attributes(entity: ProjectEntity) -> dict[str, Any]:
    """Return a project's progress and where it lives outside Home Assistant."""
    if (project := entity.project) is None:
        return {}
    return {
        "slug": project.slug,
        "owner": project.owner,
        "steps_done": sum(step.done for step in project.steps),
        "steps_total": len(project.steps),
        "github_url": project.github_url,
        "todoist_project_id": project.todoist_project_id,
        **makerhub_data(entity.hass).todoist.status_attributes(project.id),
    }


def _cost(entity: ProjectEntity) -> Decimal | None:
    """Return what a project spent in the home currency."""
    if (project := entity.project) is None:
        return None
    return _in_currency(project.total_cost(), entity.hass.config.currency)


def _cost_attributes(entity: ProjectEntity) -> dict[str, Any]:
    """Return a project's total this month and its totals in other currencies."""
    if (project := entity.project) is None:
        return {}
    currency = entity.hass.config.currency
    today = dt_util.now().date()
    return {
        # JSON has no decimals: a float, like the state the frontend shows.
        "monthly_total": float(_in_currency(project.month_cost(today.year, today.month), currency)),
        "other_currencies": {
            code: str(total)
            for code, total in sorted(project.total_cost().items())
            if code != currency
        },
    }


def _this_month() -> datetime:
    return month_start(dt_util.now())


def _this_week() -> datetime:
    return week_start(dt_util.now())


def _month_cost(entity: ProjectEntity) -> Decimal | None:
    """Return what a project spent this calendar month in the home currency."""
    if (project := entity.project) is None:
        return None
    today = dt_util.now().date()
    return _in_currency(project.month_cost(today.year, today.month), entity.hass.config.currency)


def _steps_done_this_week(projects: Projects) -> int:
    """Return how many steps of every project were marked done this week."""
    now = dt_util.now()
    start, end = week_start(now), next_week_start(now)
    return sum(
        within(step.completed, start, end)
        for project in projects.registry.find()
        for step in project.steps
        if step.done
    )


def _finished_this_month(projects: Projects) -> list[Project]:
    """Return the projects archived (finished) this calendar month."""
    now = dt_util.now()
    start, end = month_start(now), next_month_start(now)
    return [p for p in projects.registry.find() if within(p.finished, start, end)]


def _month(projects: Projects) -> list[tuple[Project, dict[str, Decimal]]]:
    """Return every project with what it spent this month, per currency."""
    today = dt_util.now().date()
    return [
        (project, project.month_cost(today.year, today.month))
        for project in projects.registry.find()
    ]


def _month_spend(projects: Projects) -> Decimal:
    """Return this month's total of every project in the home currency."""
    currency = projects.hass.config.currency
    return sum((_in_currency(totals, currency) for _, totals in _month(projects)), Decimal(0))


def _month_spend_attributes(projects: Projects) -> dict[str, Any]:
    """Return this month's spend per project, and in other currencies."""
    currency = projects.hass.config.currency
    other: dict[str, Decimal] = {}
    for _, totals in _month(projects):
        for code, total in totals.items():
            if code != currency:
                other[code] = other.get(code, Decimal(0)) + total
    return {
        "projects": {
            project.slug: str(_in_currency(totals, currency))
            for project, totals in _month(projects)
            if _in_currency(totals, currency)
        },
        "other_currencies": {code: str(total) for code, total in sorted(other.items())},
    }


PROJECT_SENSORS: tuple[MakerhubSensorEntityDescription[ProjectEntity], ...] = (
    MakerhubSensorEntityDescription(
        key="status",
        translation_key="project_status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in ProjectStatus],
        value_fn=lambda entity: (
            None if (project := entity.project) is None else project.status.value
        ),
        attributes_fn=_status_attributes,
    ),
    # Expenses in other currencies are listed per currency, never converted.
    MakerhubSensorEntityDescription(
        key="cost",
        translation_key="project_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        value_fn=_cost,
        attributes_fn=_cost_attributes,
    ),
    MakerhubSensorEntityDescription(
        key="month-cost",
        translation_key="project_month_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        value_fn=_month_cost,
        last_reset_fn=_this_month,
    ),
)

STEPS_DONE_WEEK = MakerhubSensorEntityDescription[Projects](
    key="steps-done-week",
    translation_key="steps_done_week",
    state_class=SensorStateClass.TOTAL,
    value_fn=_steps_done_this_week,
    last_reset_fn=_this_week,
)

PROJECTS_FINISHED_MONTH = MakerhubSensorEntityDescription[Projects](
    key="projects-finished-month",
    translation_key="projects_finished_month",
    state_class=SensorStateClass.TOTAL,
    value_fn=lambda projects: len(_finished_this_month(projects)),
    attributes_fn=lambda projects: {"projects": [p.slug for p in _finished_this_month(projects)]},
    last_reset_fn=_this_month,
)

ACTIVE_PROJECTS = MakerhubSensorEntityDescription[Projects](
    key="active-projects",
    translation_key="active_projects",
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda projects: len(projects.registry.find(status=ProjectStatus.ACTIVE)),
)

MONTH_SPEND = MakerhubSensorEntityDescription[Projects](
    key="month-spend",
    translation_key="month_spend",
    device_class=SensorDeviceClass.MONETARY,
    state_class=SensorStateClass.TOTAL,
    value_fn=_month_spend,
    attributes_fn=_month_spend_attributes,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The space's active projects and month spend; each project's status and cost."""
    projects = makerhub_data(hass).projects
    async_add_entities(
        [
            SpaceProjectsSensor(projects, ACTIVE_PROJECTS),
            MonthSpendSensor(projects, MONTH_SPEND),
            SpaceProjectsSensor(projects, STEPS_DONE_WEEK),
            SpaceProjectsSensor(projects, PROJECTS_FINISHED_MONTH),
            BudgetUsedSensor(projects, entry.options.get(CONF_MONTHLY_BUDGET) or 0),
        ]
    )
    entry.runtime_data.project_devices.register(
        Platform.SENSOR,
        async_add_entities,
        lambda projects, project_id: [
            ProjectSensor(projects, project_id, description) for description in PROJECT_SENSORS
        ],
    )


class _ProjectsSensor[S](DescribedSensor[S]):
    """A described sensor about projects; money counted in Home Assistant's currency."""

    def _describe(
        self, projects: Projects, description: MakerhubSensorEntityDescription[S]
    ) -> None:
        self.entity_description = description
        if description.device_class is SensorDeviceClass.MONETARY:
            self._attr_native_unit_of_measurement = projects.hass.config.currency


class ProjectSensor(ProjectEntity, _ProjectsSensor[ProjectEntity]):
    """A figure of one project (its status, its cost), on the project's device."""

    def __init__(
        self,
        projects: Projects,
        project_id: str,
        description: MakerhubSensorEntityDescription[ProjectEntity],
    ) -> None:
        """Attach to the project's device."""
        super().__init__(projects, project_id, description.key)
        self._describe(projects, description)

    @property
    def described(self) -> ProjectEntity:
        """Return the project's entity (its project, and Home Assistant)."""
        return self


class SpaceProjectsSensor(MakerhubEntity, _ProjectsSensor[Projects]):
    """A space-wide figure about projects, on the hub's device."""

    def __init__(
        self, projects: Projects, description: MakerhubSensorEntityDescription[Projects]
    ) -> None:
        """Attach to the hub's device."""
        super().__init__(f"{HUB_DEVICE_ID}-{description.key}", hub_device_info())
        self.projects = projects
        self._describe(projects, description)

    @property
    def described(self) -> Projects:
        """Return the projects."""
        return self.projects

    async def async_added_to_hass(self) -> None:
        """Follow changes of projects."""
        self.async_on_remove(self.projects.add_listener(self.async_write_ha_state))


class MonthSpendSensor(SpaceProjectsSensor):
    """What every project together spent this calendar month, in the home currency."""

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
            if now.day == 1 or now.weekday() == 0:  # a new month, or week (steps done)
                self.projects.notify()

        self.async_on_remove(
            async_track_time_change(self.hass, _midnight, hour=0, minute=0, second=0)
        )


class BudgetUsedSensor(SpaceProjectsSensor):
    """How much of the monthly budget every project together spent this month, in %
    (unknown while no budget is set)."""

    def __init__(self, projects: Projects, budget: float) -> None:
        """Compare this month's spend with ``budget`` (the projects options)."""
        self.budget = Decimal(str(budget))
        super().__init__(projects, BUDGET_USED)

    @property
    def native_value(self) -> float | None:
        """Return the share of the budget spent, in %."""
        if self.budget <= 0:
            return None
        return round(float(_month_spend(self.projects) / self.budget * 100), 1)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the budget, the spend and what remains, in the home currency."""
        spend = _month_spend(self.projects)
        budget = self.budget if self.budget > 0 else None
        return {
            "budget": None if budget is None else float(budget),
            "spend": float(spend),
            "remaining": None if budget is None else float(budget - spend),
            "currency": self.hass.config.currency,
        }


BUDGET_USED = MakerhubSensorEntityDescription[Projects](
    key="budget-used",
    translation_key="budget_used",
    native_unit_of_measurement=PERCENTAGE,
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda projects: None,  # computed by BudgetUsedSensor, which knows the budget
)
