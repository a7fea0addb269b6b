"""``makerhub.show_on_display``: tell displays, picked by device or by station (area),
what to show: their idle page, a project's desktop, a dashboard or a web page.

Everything is checked before anything is sent, so a refused call changes nothing; each
refusal is counted by its reason (diagnostics). Each display gets its ``target`` input,
then its ``show`` input, through the hub as the display's entities set them (stored and
retained: a display that restarts gets them again).

A desktop is sent as a signed hub page (``views.DisplayDesktopView``) that mints a fresh
connect token on each load, so the kiosk can reload it at any time; its role is
``controller`` only on a display configured as interactive and when the caller may
control the project (its owner, an admin, or an automation), else ``viewer``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import voluptuous as vol

from ..const import DOMAIN
from ..core.desktops_client import Role
from ..core.displays import (
    ShowWhat,
    TargetRefusedError,
    check_dashboard_path,
    check_web_address,
    desktop_page_path,
    idle_page_path,
)
from ..core.errors import BadInputError
from ..core.projects import Project, ProjectStatus
from ..core.unit import UnitRuntime
from ..data import makerhub_data
from ..projects.store import lookup_project, may_change, service_caller
from ..runtime import MakerhubRuntime, loaded_runtime
from .manager import (
    area_name,
    async_page_key,
    display_of_device,
    display_record,
    displays_in_area,
    interactive_displays,
    unique_units,
)

ATTR_DISPLAY: Final = "display"
ATTR_STATION: Final = "station"
ATTR_WHAT: Final = "what"
ATTR_TARGET: Final = "target"
ATTR_PERSON: Final = "person"

SHOW_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Optional(ATTR_DISPLAY): vol.All(cv.ensure_list, [cv.string]),
            vol.Optional(ATTR_STATION): vol.All(cv.ensure_list, [cv.string]),
            vol.Required(ATTR_WHAT): vol.In([what.value for what in ShowWhat]),
            vol.Optional(ATTR_TARGET): cv.string,
            vol.Optional(ATTR_PERSON): cv.entity_domain("person"),
        }
    ),
    cv.has_at_least_one_key(ATTR_DISPLAY, ATTR_STATION),
)


def _refused(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


@dataclass(frozen=True, slots=True)
class _Order:
    """What one display is told: its ``target`` then its ``show``."""

    unit: UnitRuntime
    target: str
    role: Role | None = None


def _chosen_displays(call: ServiceCall, runtime: MakerhubRuntime) -> list[UnitRuntime]:
    """Return the displays the call names (devices, then the stations' displays)."""
    hass, hub = call.hass, runtime.hub
    devices = dr.async_get(hass)
    found: list[UnitRuntime] = []
    for device_id in call.data.get(ATTR_DISPLAY, []):
        device = devices.async_get(device_id)
        unit = None if device is None else display_of_device(hub, device)
        if unit is None:
            name = device_id if device is None else (device.name_by_user or device.name or "")
            raise _refused("unknown_display", display=name)
        found.append(unit)
    for area_id in call.data.get(ATTR_STATION, []):
        if not (in_area := displays_in_area(hass, hub, area_id)):
            raise _refused("station_without_display", station=area_name(hass, area_id))
        found.extend(in_area)
    return unique_units(found)


async def _desktop_project(call: ServiceCall, runtime: MakerhubRuntime) -> Project:
    """Return the project whose desktop to show: the target's, or the person's active one."""
    projects = makerhub_data(call.hass).projects
    if ref := call.data.get(ATTR_TARGET, "").strip():
        project = lookup_project(projects, ref)
    elif person := call.data.get(ATTR_PERSON):
        if (active := projects.active_project(person)) is None:
            raise _refused("person_without_project", person=person)
        project = active
    else:
        raise _refused("desktop_needs_project")
    if not runtime.desktops.configured or project.status is ProjectStatus.ARCHIVED:
        raise _refused("project_without_desktop", project=project.name)
    return project


async def _orders(call: ServiceCall, runtime: MakerhubRuntime) -> list[_Order]:
    """Return what each chosen display is told; raise for anything not allowed."""
    displays = _chosen_displays(call, runtime)
    what = ShowWhat(call.data[ATTR_WHAT])
    key = await async_page_key(call.hass)
    target = call.data.get(ATTR_TARGET, "")
    if what is ShowWhat.IDLE:
        return [_Order(unit, idle_page_path(key, unit.uid)) for unit in displays]
    if what is ShowWhat.DESKTOP:
        project = await _desktop_project(call, runtime)
        user = await service_caller(call)
        may_control = user is None or may_change(user, project)
        interactive = interactive_displays(runtime.hub.entry)
        orders = []
        for unit in displays:
            role = Role.CONTROLLER if may_control and unit.uid in interactive else Role.VIEWER
            path = desktop_page_path(key, unit.uid, project.id, role)
            orders.append(_Order(unit, path, role))
        return orders
    if not target.strip():
        raise _refused("display_target_required", what=what.value)
    check: Callable[[str], str] = (
        check_dashboard_path if what is ShowWhat.DASHBOARD else check_web_address
    )
    try:
        checked = check(target)
    except TargetRefusedError as err:
        raise _refused("display_target_refused", target=target[:80], reason=str(err)) from err
    return [_Order(unit, checked) for unit in displays]


def _check_encodable(order: _Order, what: str) -> None:
    """Refuse a target the display's schema does not take (too long)."""
    schema = order.unit.identity.schema
    try:
        schema.inputs[ATTR_TARGET].encode(order.target)
        schema.inputs["show"].encode(what)
    except BadInputError as err:
        raise _refused("display_target_refused", target=order.target[:80], reason=str(err)) from err


async def _async_show_on_display(call: ServiceCall) -> ServiceResponse:
    runtime = loaded_runtime(call.hass)
    what = call.data[ATTR_WHAT]
    orders = await _orders(call, runtime)
    for order in orders:
        _check_encodable(order, what)
    hub = runtime.hub
    for order in orders:
        await hub.async_set_input(order.unit, ATTR_TARGET, order.target)
        await hub.async_set_input(order.unit, "show", what)
    return {
        "displays": [
            {
                "unit": order.unit.uid,
                "name": order.unit.identity.name,
                "show": what,
                **({} if order.role is None else {"role": str(order.role)}),
            }
            for order in orders
        ]
    }


def _counted(
    handler: Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]],
) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    """Count each refused call by its reason (the error's translation key)."""

    async def counted(call: ServiceCall) -> ServiceResponse:
        try:
            return await handler(call)
        except ServiceValidationError as err:
            display_record(call.hass).refused_calls[err.translation_key or "invalid"] += 1
            raise

    return counted


def async_setup_services(hass: HomeAssistant) -> None:
    """Register ``makerhub.show_on_display``."""
    hass.services.async_register(
        DOMAIN,
        "show_on_display",
        _counted(_async_show_on_display),
        schema=SHOW_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
