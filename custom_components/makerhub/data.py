"""The integration's own state, beside the hub entry: one typed place in ``hass.data``.

Projects, people's accounts, the Todoist sync and the units' broker credentials belong to
the integration, not to the hub entry (they outlive reloads); ``async_setup`` loads them
into one :class:`MakerhubData` and everything reads it with :func:`makerhub_data`.

The secret box is not in it: flows open it before the integration is set up (the first
entry's flow), so ``secrets.async_get_secret_box`` loads it on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .broker_access.access import UnitCredentials
from .const import DOMAIN
from .members.agreement import MemberAgreements
from .presence.active_hours import SpaceActiveHours
from .projects.accounts import Accounts
from .projects.store import Projects
from .projects.todoist import TodoistSync
from .secrets import async_get_secret_box


@dataclass(frozen=True, slots=True)
class MakerhubData:
    """What the integration holds whatever its entries."""

    projects: Projects
    """The projects and each person's active one (``.storage/makerhub.projects``)."""
    accounts: Accounts
    """People's service tokens (GitHub, Todoist), sealed."""
    todoist: TodoistSync
    """The projects' Todoist sync (started with the hub entry)."""
    unit_credentials: UnitCredentials
    """Each unit's broker password and API token, sealed."""
    agreements: MemberAgreements
    """Each person's acceptance of the space's agreement."""
    active_hours: SpaceActiveHours
    """How long the space was active, per week and month."""


DATA_MAKERHUB: HassKey[MakerhubData] = HassKey(DOMAIN)


async def async_load_data(hass: HomeAssistant) -> MakerhubData:
    """Load the integration's state and keep it in ``hass.data``."""
    box = await async_get_secret_box(hass)
    projects = await Projects.async_load(hass)
    accounts = await Accounts.async_load(hass)
    data = hass.data[DATA_MAKERHUB] = MakerhubData(
        projects=projects,
        accounts=accounts,
        todoist=await TodoistSync.async_load(hass, projects, accounts),
        unit_credentials=await UnitCredentials.async_load(hass, box),
        agreements=await MemberAgreements.async_load(hass),
        active_hours=await SpaceActiveHours.async_load(hass),
    )
    return data


def makerhub_data(hass: HomeAssistant) -> MakerhubData:
    """Return the integration's state (loaded by ``async_setup``)."""
    return hass.data[DATA_MAKERHUB]
