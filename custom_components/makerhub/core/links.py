"""Links between units: one unit's output feeds another unit's input.

A link is Pepeunit's output → input edge. The hub never carries the values: the target's
``schema.json`` lists, for the linked input, the source's ``out`` topic next to its own
``in`` topic (:meth:`LinkRegistry.schema_links`), the broker routes the messages, and an
optional :class:`Transform` (``value * scale + offset``, then clamped) travels in the
``transforms`` section of ``schema.json`` for the unit to apply (docs/protocol.md).

Rules a link must pass (:meth:`LinkRegistry.add`):

* both units and both variables exist; a unit never feeds its own input;
* the types fit: bool → bool; number → number (float or int; an int input rounds); any
  type → str; enum → enum when every source option is a target option. A transform is
  only allowed between numbers;
* the source's :class:`Visibility` lets the target read its outputs;
* the same output → input link exists only once.

Cycles longer than a self-link (A.out → B.in and B.out → A.in) are allowed on purpose:
they are ordinary control loops (a thermostat and its heater each reporting to the other),
and every hop is a separate MQTT message, so a loop never recurses inside a unit.

This module is pure Python; the integration persists :meth:`LinkRegistry.to_json`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
import math
from typing import Any, Final

from .protocol import UnitTopics
from .schema import UnitSchema, Variable, VarType, is_valid_name

NUMBER_TYPES: Final = frozenset({VarType.FLOAT, VarType.INT})
_TRANSFORM_KEYS: Final = {"scale": "scale", "offset": "offset", "min": "minimum", "max": "maximum"}
_LINK_KEYS: Final = ("source", "output", "target", "input")


class Visibility(StrEnum):
    """Who may link to a unit's outputs.

    * ``public``: any unit of this hub (and, once hubs federate, units of other hubs);
    * ``instance``: units of this hub's users. On one hub that is every unit, exactly as
      ``public``; the two differ only for federated hubs, which ``instance`` keeps out;
    * ``private``: only units with the same owner. A unit without an owner belongs to
      the hub's admins, so it matches only other unowned units.
    """

    PUBLIC = "public"
    INSTANCE = "instance"
    PRIVATE = "private"


class LinkError(ValueError):
    """A link refused; ``errors`` maps each offending field to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        """Keep the field-level messages."""
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.errors.items()))


class LinkNotFoundError(KeyError):
    """No link with that id."""

    def __str__(self) -> str:
        """Return the message, not KeyError's quoted repr."""
        return str(self.args[0]) if self.args else "link not found"


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class Transform:
    """``value * scale + offset``, then clamped to ``[minimum, maximum]``."""

    scale: float = 1.0
    offset: float = 0.0
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        """Refuse numbers a unit could not apply."""
        errors: dict[str, str] = {}
        for key, attr in _TRANSFORM_KEYS.items():
            value = getattr(self, attr)
            if (value is not None or key in ("scale", "offset")) and not _finite(value):
                errors[f"transform.{key}"] = f"must be a finite number, not {value!r}"
        if (
            not errors
            and self.minimum is not None
            and self.maximum is not None
            and self.minimum > self.maximum
        ):
            errors["transform.min"] = f"min {self.minimum:g} is greater than max {self.maximum:g}"
        if errors:
            raise LinkError(errors)

    @property
    def is_identity(self) -> bool:
        """Return whether applying it changes nothing."""
        return self == Transform()

    def apply(self, value: float) -> float:
        """Return the transformed value."""
        result = value * self.scale + self.offset
        if self.minimum is not None and result < self.minimum:
            result = self.minimum
        if self.maximum is not None and result > self.maximum:
            result = self.maximum
        return float(result)

    def to_json(self) -> dict[str, float]:
        """Return the stored (and ``schema.json``) form, without defaults."""
        data: dict[str, float] = {}
        if self.scale != 1:
            data["scale"] = self.scale
        if self.offset != 0:
            data["offset"] = self.offset
        if self.minimum is not None:
            data["min"] = self.minimum
        if self.maximum is not None:
            data["max"] = self.maximum
        return data

    @classmethod
    def from_json(cls, data: Any) -> Transform:
        """Parse the stored form; raise :class:`LinkError`."""
        if not isinstance(data, Mapping):
            raise LinkError({"transform": 'must be an object like {"scale": 2, "offset": 1}'})
        unknown = sorted(str(key) for key in data if key not in _TRANSFORM_KEYS)
        if unknown:
            raise LinkError(
                {"transform": f"unknown key {', '.join(unknown)}; use scale, offset, min, max"}
            )
        return cls(**{attr: data[key] for key, attr in _TRANSFORM_KEYS.items() if key in data})


@dataclass(frozen=True, slots=True)
class Link:
    """Output ``output`` of unit ``source`` feeds input ``input`` of unit ``target``."""

    source: str
    output: str
    target: str
    input: str
    transform: Transform | None = None

    @property
    def id(self) -> str:
        """Return the stable id: ``source.output>target.input``."""
        return f"{self.source}.{self.output}>{self.target}.{self.input}"

    def to_json(self) -> dict[str, Any]:
        """Return the stored form."""
        data: dict[str, Any] = {
            "source": self.source,
            "output": self.output,
            "target": self.target,
            "input": self.input,
        }
        if self.transform is not None:
            data["transform"] = self.transform.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any) -> Link:
        """Parse the stored form; raise :class:`LinkError`."""
        if not isinstance(data, Mapping):
            raise LinkError({"link": "must be an object of source, output, target, input"})
        errors: dict[str, str] = {}
        for key in _LINK_KEYS:
            value = data.get(key)
            if not isinstance(value, str) or not value:
                errors[key] = "required: a non-empty string"
            elif key in ("output", "input") and not is_valid_name(value):
                errors[key] = f"{value!r} is not a variable name"
        unknown = sorted(str(key) for key in data if key not in (*_LINK_KEYS, "transform"))
        if unknown:
            errors["link"] = f"unknown key {', '.join(unknown)}"
        transform: Transform | None = None
        if data.get("transform") is not None:
            try:
                transform = Transform.from_json(data["transform"])
            except LinkError as err:
                errors.update(err.errors)
        if errors:
            raise LinkError(errors)
        return cls(
            source=data["source"],
            output=data["output"],
            target=data["target"],
            input=data["input"],
            transform=transform,
        )


@dataclass(frozen=True, slots=True)
class LinkUnit:
    """What the registry needs to know of a unit to check links to and from it."""

    uid: str
    name: str
    schema: UnitSchema
    visibility: Visibility = Visibility.PUBLIC
    owner: str | None = None
    """The Home Assistant user id of the unit's owner; None: the hub's admins."""


def _listing(names: Iterable[str], what: str) -> str:
    names = sorted(names)
    return f"{what}: {', '.join(names)}" if names else f"there are no {what}"


def _type_error(output: Variable, input_: Variable) -> str | None:
    """Return why ``output`` cannot feed ``input_``, or None when it can."""
    source, target = output.type, input_.type
    if target is VarType.STR:
        return None
    if source in NUMBER_TYPES and target in NUMBER_TYPES:
        return None
    if source is VarType.BOOL and target is VarType.BOOL:
        return None
    if source is VarType.ENUM and target is VarType.ENUM:
        missing = [option for option in output.options if option not in input_.options]
        if not missing:
            return None
        return (
            f"enum output {output.name} has options the enum input {input_.name} lacks: "
            f"{', '.join(missing)}"
        )
    return f"a {source} output ({output.name}) cannot feed a {target} input ({input_.name})"


def check_link(link: Link, units: Mapping[str, LinkUnit]) -> None:
    """Raise :class:`LinkError` with every reason ``link`` is invalid among ``units``."""
    errors: dict[str, str] = {}
    source, target = units.get(link.source), units.get(link.target)
    for key, uid, unit in (("source", link.source, source), ("target", link.target, target)):
        if unit is None:
            errors[key] = f"unknown unit {uid!r}; " + _listing(units, "units")
    if link.source == link.target:
        errors["target"] = "a unit cannot feed its own input"
    output = source.schema.outputs.get(link.output) if source is not None else None
    input_ = target.schema.inputs.get(link.input) if target is not None else None
    if source is not None and output is None:
        errors["output"] = f"{source.name} has no output {link.output!r}; " + _listing(
            source.schema.outputs, "outputs"
        )
    if target is not None and input_ is None:
        errors["input"] = f"{target.name} has no input {link.input!r}; " + _listing(
            target.schema.inputs, "inputs"
        )
    if output is not None and input_ is not None:
        if (reason := _type_error(output, input_)) is not None:
            errors["input"] = reason
        elif link.transform is not None and not (
            output.type in NUMBER_TYPES and input_.type in NUMBER_TYPES
        ):
            errors["transform"] = (
                "only a number output feeding a number input can be transformed, "
                f"not {output.type} → {input_.type}"
            )
    if (
        source is not None
        and target is not None
        and source.visibility is Visibility.PRIVATE
        and source.owner != target.owner
    ):
        errors["source"] = (
            f"{source.name} is private: only units of the same owner may link to its outputs"
        )
    if errors:
        raise LinkError(errors)


class LinkRegistry:
    """Every link of the hub, checked on the way in; see the module docstring."""

    def __init__(self, links: Iterable[Link] = ()) -> None:
        """Start with ``links`` (already checked, e.g. loaded from storage)."""
        self._links: dict[str, Link] = {}
        for link in links:
            if link.id in self._links:
                raise LinkError({"link": f"{link.id} is listed twice"})
            self._links[link.id] = link

    def links(self) -> list[Link]:
        """Return every link, in the order they were added."""
        return list(self._links.values())

    def get(self, link_id: str) -> Link:
        """Return one link; raise :class:`LinkNotFoundError`."""
        try:
            return self._links[link_id]
        except KeyError:
            raise LinkNotFoundError(f"no link {link_id!r}") from None

    def add(self, link: Link, units: Mapping[str, LinkUnit]) -> Link:
        """Check and store ``link``; return it as stored (an identity transform dropped).

        Raises :class:`LinkError` naming every problem; nothing changes then.
        """
        if link.id in self._links:
            raise LinkError({"link": f"{link.id} already exists"})
        check_link(link, units)
        if link.transform is not None and link.transform.is_identity:
            link = replace(link, transform=None)
        self._links[link.id] = link
        return link

    def remove(self, link_id: str) -> Link:
        """Remove one link and return it; raise :class:`LinkNotFoundError`."""
        link = self.get(link_id)
        del self._links[link_id]
        return link

    def remove_unit(self, uid: str) -> set[str]:
        """Drop every link to or from ``uid``; return the other units whose schema changes.

        Those are the targets of the unit's outputs: their ``schema.json`` listed its topics.
        """
        changed: set[str] = set()
        for link in list(self._links.values()):
            if uid in (link.source, link.target):
                del self._links[link.id]
                if link.source == uid and link.target != uid:
                    changed.add(link.target)
        return changed

    def validate_all(self, units: Mapping[str, LinkUnit]) -> list[tuple[Link, str]]:
        """Return the links no longer valid among ``units``, each with why; keep them all."""
        invalid: list[tuple[Link, str]] = []
        for link in self._links.values():
            try:
                check_link(link, units)
            except LinkError as err:
                invalid.append((link, str(err)))
        return invalid

    def sources_of(self, target_uid: str) -> dict[str, list[Link]]:
        """Return the links into ``target_uid``, by input name."""
        found: dict[str, list[Link]] = {}
        for link in self._sorted():
            if link.target == target_uid:
                found.setdefault(link.input, []).append(link)
        return found

    def targets_of(self, source_uid: str) -> dict[str, list[Link]]:
        """Return the links out of ``source_uid``, by output name."""
        found: dict[str, list[Link]] = {}
        for link in self._sorted():
            if link.source == source_uid:
                found.setdefault(link.output, []).append(link)
        return found

    def schema_links(self, target_uid: str, prefix: str) -> dict[str, list[str]]:
        """Return input → linked ``out`` topics (sorted), for ``build_schema_json``."""
        return {
            name: sorted({_topic(link, prefix) for link in links})
            for name, links in self.sources_of(target_uid).items()
        }

    def transforms(self, target_uid: str, prefix: str) -> dict[str, dict[str, dict[str, float]]]:
        """Return input → {``out`` topic: transform}, only for transformed links."""
        found: dict[str, dict[str, dict[str, float]]] = {}
        for name, links in self.sources_of(target_uid).items():
            for link in links:
                if link.transform is not None and not link.transform.is_identity:
                    found.setdefault(name, {})[_topic(link, prefix)] = link.transform.to_json()
        return found

    def linked_topics(self, target_uid: str, prefix: str) -> set[str]:
        """Return every ``out`` topic ``target_uid`` must be allowed to read."""
        return {_topic(link, prefix) for link in self._links.values() if link.target == target_uid}

    def to_json(self) -> dict[str, Any]:
        """Return the stored form."""
        return {"links": [link.to_json() for link in self._links.values()]}

    @classmethod
    def from_json(cls, data: Any) -> LinkRegistry:
        """Parse the stored form; raise :class:`LinkError` (keyed by the link's index)."""
        raw = data.get("links") if isinstance(data, Mapping) else None
        if not isinstance(raw, list):
            raise LinkError({"links": "must be a list of links"})
        links: list[Link] = []
        for index, item in enumerate(raw):
            try:
                links.append(Link.from_json(item))
            except LinkError as err:
                raise LinkError(
                    {f"links[{index}].{key}": message for key, message in err.errors.items()}
                ) from None
        return cls(links)

    def _sorted(self) -> list[Link]:
        return sorted(self._links.values(), key=lambda link: link.id)


def _topic(link: Link, prefix: str) -> str:
    return UnitTopics(prefix, link.source).output(link.output)
