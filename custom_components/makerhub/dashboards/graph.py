"""The fleet as a graph: units with their variables (and the entities that show them),
links from outputs to inputs. What the frontend cannot read from Home Assistant's
registries: which entity is which variable, the links, owners, visibility, repositories."""

from __future__ import annotations

from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ..const import DOMAIN
from ..core.schema import Direction, Variable
from ..firmware.manager import DATA_REPO_ID, firmware_units, repo_subentries
from ..links.subentries import link_title, link_units, stored_links
from ..units.hub import MakerhubHub
from ..units.variables import TOPIC_LEVEL, platform_for, unit_entity_unique_id

SYSTEM_ENTITIES = {
    "connectivity": Platform.BINARY_SENSOR,
    "firmware": Platform.UPDATE,
    "restart": Platform.BUTTON,
}
"""The unit entities the dashboards show besides its variables, by key and platform."""


def _variable_json(
    entities: er.EntityRegistry, uid: str, direction: Direction, variable: Variable
) -> dict[str, Any]:
    unique_id = unit_entity_unique_id(uid, (TOPIC_LEVEL[direction], variable.name))
    data: dict[str, Any] = {
        "name": variable.name,
        "type": variable.type.value,
        "entity_id": entities.async_get_entity_id(
            platform_for(direction, variable), DOMAIN, unique_id
        ),
    }
    if variable.unit is not None:
        data["unit"] = variable.unit
    if variable.options:
        data["options"] = list(variable.options)
    return data


async def async_fleet_graph(hass: HomeAssistant, hub: MakerhubHub) -> dict[str, Any]:
    """Return the units (in a stable order: by name, then uid) and the links."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    owners = {user.id: user.name for user in await hass.auth.async_get_users()}
    repositories = {repo_id: sub.title for repo_id, sub in repo_subentries(hub.entry).items()}
    built_from = {uid: sub.data.get(DATA_REPO_ID) for uid, sub in firmware_units(hub.entry).items()}
    rules = link_units(hub)
    units: list[dict[str, Any]] = []
    for uid, unit in sorted(hub.units.items(), key=lambda item: (item[1].identity.name, item[0])):
        device = devices.async_get_device(identifiers={(DOMAIN, uid)})
        repo_id = built_from.get(uid)
        owner = rules[uid].owner
        schema = unit.identity.schema
        units.append(
            {
                "uid": uid,
                "name": unit.identity.name,
                "model": unit.identity.model,
                "device_id": None if device is None else device.id,
                "area_id": None if device is None else device.area_id,
                "owner": owner,
                "owner_name": None if owner is None else owners.get(owner),
                "visibility": rules[uid].visibility.value,
                "repository": repo_id,
                "repository_name": None if repo_id is None else repositories.get(repo_id),
                "available": unit.available,
                "version": None if unit.state is None else unit.state.version,
                "entities": {
                    key: entities.async_get_entity_id(
                        platform, DOMAIN, unit_entity_unique_id(uid, ("sys", key))
                    )
                    for key, platform in SYSTEM_ENTITIES.items()
                },
                "outputs": [
                    _variable_json(entities, uid, Direction.OUTPUT, variable)
                    for variable in schema.variables(Direction.OUTPUT).values()
                ],
                "inputs": [
                    _variable_json(entities, uid, Direction.INPUT, variable)
                    for variable in schema.variables(Direction.INPUT).values()
                ],
            }
        )
    links = [
        {"id": link.id, "title": link_title(hub, link), **link.to_json()}
        for link in stored_links(hub.entry).links()
    ]
    return {"units": units, "links": links}
