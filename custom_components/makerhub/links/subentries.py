"""Links in Home Assistant: each link is a subentry of the hub, so it is stored with the
hub, listed on its page, and deleted from there.

The rules are the pure core (``core/links.py``). A link is checked against the units as
they are now before its subentry is added; the hub then republishes the target's
``schema.json`` (the broker routes the value from then on, with Home Assistant out of the
data path) and, when the hub manages the broker, lets the target read the source's topic.
The hub is known here only as :class:`LinkedHub` (its entry, units and links).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Final, Protocol

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback

from ..const import DATA_LINK, DATA_OWNER, DATA_VISIBILITY, SUBENTRY_LINK
from ..core.links import Link, LinkError, LinkRegistry, LinkUnit, Transform, Visibility
from ..core.schema import Direction
from ..core.unit import UnitRuntime
from ..units.subentries import unit_subentries


class LinkedHub(Protocol):
    """What the link rules need of the hub (``hub.MakerhubHub``)."""

    @property
    def entry(self) -> ConfigEntry:
        """The hub's config entry (its unit and link subentries)."""

    @property
    def units(self) -> Mapping[str, UnitRuntime]:
        """The adopted units, by uid."""

    @property
    def links(self) -> LinkRegistry:
        """The links as last reconciled."""

    def variable_of_entity(self, entity_id: str) -> tuple[UnitRuntime, Direction, str] | None:
        """Return the unit, direction and name of the variable an entity shows, if any."""


def link_subentries(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """Return the hub's link subentries by link id (unreadable ones left out)."""
    found: dict[str, ConfigSubentry] = {}
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_LINK:
            continue
        try:
            link = Link.from_json(subentry.data[DATA_LINK])
        except (KeyError, TypeError, ValueError):
            continue
        found[link.id] = subentry
    return found


def stored_links(entry: ConfigEntry) -> LinkRegistry:
    """Return the links stored in the hub's subentries."""
    return LinkRegistry.from_json(
        {"links": [dict(s.data[DATA_LINK]) for s in link_subentries(entry).values()]}
    )


def link_units(hub: LinkedHub) -> dict[str, LinkUnit]:
    """Return what the link rules need to know of every loaded unit."""
    subentries = unit_subentries(hub.entry)
    units: dict[str, LinkUnit] = {}
    for uid, unit in hub.units.items():
        data: Mapping[str, Any] = subentries[uid].data if uid in subentries else {}
        units[uid] = LinkUnit(
            uid=uid,
            name=unit.identity.name,
            schema=unit.identity.schema,
            visibility=Visibility(data.get(DATA_VISIBILITY, Visibility.PUBLIC)),
            owner=data.get(DATA_OWNER),
        )
    return units


def links_broken_by(hub: LinkedHub, uid: str, data: Mapping[str, Any]) -> str:
    """Return why stored links would break if a unit's subentry data became ``data``
    (visibility, owner), or an empty string."""
    units = link_units(hub)
    if uid in units:
        units[uid] = replace(
            units[uid],
            visibility=Visibility(data.get(DATA_VISIBILITY, Visibility.PUBLIC)),
            owner=data.get(DATA_OWNER),
        )
    return "; ".join(
        f"{link_title(hub, link)}: {reason}" for link, reason in hub.links.validate_all(units)
    )


def link_title(hub: LinkedHub, link: Link) -> str:
    """Return a link's name: ``Bench temperature → Fan speed``."""

    def name(uid: str) -> str:
        unit = hub.units.get(uid)
        return uid if unit is None else unit.identity.name

    return f"{name(link.source)} {link.output} → {name(link.target)} {link.input}"


def check_link(hub: LinkedHub, link: Link) -> Link:
    """Return the link if it may be added now; raise LinkError saying why not."""
    return stored_links(hub.entry).add(link, link_units(hub))


@callback
def async_add_link(hass: HomeAssistant, hub: LinkedHub, link: Link) -> Link:
    """Check a link and store it as a subentry; raise LinkError (nothing changed)."""
    checked = check_link(hub, link)
    hass.config_entries.async_add_subentry(
        hub.entry,
        ConfigSubentry(
            data=MappingProxyType({DATA_LINK: checked.to_json()}),
            subentry_type=SUBENTRY_LINK,
            title=link_title(hub, checked),
            unique_id=checked.id,
        ),
    )
    return checked


@callback
def async_remove_link(hass: HomeAssistant, hub: LinkedHub, link_id: str) -> Link:
    """Delete a stored link; raise LinkError when there is no such link."""
    subentry = link_subentries(hub.entry).get(link_id)
    if subentry is None:
        raise LinkError({"link": f"no link {link_id}"})
    hass.config_entries.async_remove_subentry(hub.entry, subentry.subentry_id)
    return Link.from_json(subentry.data[DATA_LINK])


@callback
def async_remove_links_of(hass: HomeAssistant, entry: ConfigEntry, uid: str) -> None:
    """Delete every link to or from a deleted unit."""
    for subentry in link_subentries(entry).values():
        link = Link.from_json(subentry.data[DATA_LINK])
        if uid in (link.source, link.target):
            hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)


CONF_SOURCE: Final = "source"


CONF_TARGET: Final = "target"


CONF_LINK: Final = "link"


def link_from_entities(hub: LinkedHub, data: dict[str, Any]) -> Link:
    """Return the link from an output's entity to an input's entity; raise LinkError."""
    source = hub.variable_of_entity(data[CONF_SOURCE])
    target = hub.variable_of_entity(data[CONF_TARGET])
    errors: dict[str, str] = {}
    if source is None or source[1] is not Direction.OUTPUT:
        errors[CONF_SOURCE] = f"{data[CONF_SOURCE]} does not show a unit's output"
    if target is None or target[1] is not Direction.INPUT:
        errors[CONF_TARGET] = f"{data[CONF_TARGET]} does not show a unit's input"
    if errors:
        raise LinkError(errors)
    assert source is not None
    assert target is not None
    transform = None
    if any(data.get(name) is not None for name in TRANSFORM_FIELDS):
        transform = Transform(
            scale=float(data.get("scale", 1.0)),
            offset=float(data.get("offset", 0.0)),
            minimum=None if data.get("minimum") is None else float(data["minimum"]),
            maximum=None if data.get("maximum") is None else float(data["maximum"]),
        )
    return Link(source[0].uid, source[2], target[0].uid, target[2], transform)


TRANSFORM_FIELDS: Final = ("scale", "offset", "minimum", "maximum")
