"""The unit's ``schema.json``: every topic it uses, handed over by the hub.

Units never build topic strings; they read them from here. An input may list the ``out``
topics of other units linked to it, and the optional ``transforms`` section says how to
rescale the numbers arriving on such a topic. The document is kept on the unit's storage
(written atomically, so a power cut never leaves half a file) so a restart keeps the
unit's identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import json
import math
import os
from pathlib import Path
import re
from typing import Any, Final

from .values import NAME_RE

UNIT_ID_RE: Final = re.compile(r"[0-9a-z]{12}")
REQUIRED_SYS: Final = ("status", "state", "log", "cmd")
"""``event`` and ``schema`` are optional: a unit only uses them when present."""
MAX_TOPIC_LENGTH: Final = 1024


TRANSFORM_KEYS: Final = ("scale", "offset", "min", "max")


class SchemaJsonError(ValueError):
    """A ``schema.json`` that the unit cannot use."""


@dataclass(frozen=True, slots=True)
class Transform:
    """How a number from a linked topic becomes the input's value.

    ``value * scale + offset``, then clamped to ``[min, max]`` (either bound optional).
    """

    scale: float = 1.0
    offset: float = 0.0
    min: float | None = None
    max: float | None = None

    @classmethod
    def parse(cls, data: Any, where: str) -> Transform:
        """Validate one transform object; raise :class:`SchemaJsonError` naming ``where``."""
        if not isinstance(data, Mapping):
            raise SchemaJsonError(
                f"schema.json: {where} must be an object of scale, offset, min, max"
            )
        for key in data:
            if key not in TRANSFORM_KEYS:
                raise SchemaJsonError(
                    f"schema.json: {where}: unknown key {key!r} (scale, offset, min, max)"
                )
        numbers: dict[str, float] = {}
        for key, value in data.items():
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise SchemaJsonError(f"schema.json: {where}.{key} must be a finite number")
            numbers[key] = float(value)
        low, high = numbers.get("min"), numbers.get("max")
        if low is not None and high is not None and low > high:
            raise SchemaJsonError(f"schema.json: {where}: min {low:g} is greater than max {high:g}")
        return cls(**numbers)

    def apply(self, value: float) -> float:
        """Return the transformed value."""
        result = value * self.scale + self.offset
        if self.min is not None and result < self.min:
            result = self.min
        if self.max is not None and result > self.max:
            result = self.max
        return float(result)


@dataclass(frozen=True, slots=True)
class SchemaJson:
    """A parsed ``schema.json``."""

    uid: str
    inputs: Mapping[str, tuple[str, ...]]
    outputs: Mapping[str, tuple[str, ...]]
    sys: Mapping[str, str]
    document: Mapping[str, Any] = field(compare=False, repr=False)
    """The document as received, written back unchanged."""
    transforms: Mapping[str, Mapping[str, Transform]] = field(default_factory=dict)
    """Input name → {linked topic: transform}; never for an input's own ``in`` topic."""

    @classmethod
    def parse(cls, data: Any) -> SchemaJson:
        """Validate a decoded ``schema.json``; raise :class:`SchemaJsonError` saying why."""
        if not isinstance(data, Mapping):
            raise SchemaJsonError("schema.json must be a JSON object")
        if data.get("v") != 1:
            raise SchemaJsonError(f"schema.json: unsupported version v={data.get('v')!r}")
        uid = data.get("unit")
        if not isinstance(uid, str) or UNIT_ID_RE.fullmatch(uid) is None:
            raise SchemaJsonError("schema.json: unit must be 12 lowercase letters or digits")
        sys_topics = data.get("sys")
        if not isinstance(sys_topics, Mapping):
            raise SchemaJsonError("schema.json: sys must be an object of topics")
        for key in REQUIRED_SYS:
            if not _is_topic(sys_topics.get(key)):
                raise SchemaJsonError(f"schema.json: sys.{key} must be a topic")
        inputs = _topic_lists(data.get("inputs", {}), "inputs")
        return cls(
            uid=uid,
            inputs=inputs,
            outputs=_topic_lists(data.get("outputs", {}), "outputs"),
            sys={key: topic for key, topic in sys_topics.items() if _is_topic(topic)},
            document=dict(data),
            transforms=_transforms(data.get("transforms", {}), inputs),
        )

    @classmethod
    def parse_payload(cls, payload: bytes) -> SchemaJson:
        """Parse ``schema.json`` as it arrives over MQTT."""
        try:
            return cls.parse(json.loads(payload))
        except (ValueError, UnicodeDecodeError) as err:
            if isinstance(err, SchemaJsonError):
                raise
            raise SchemaJsonError(f"schema.json is not valid JSON: {err}") from None

    def routes(self) -> dict[str, tuple[str, ...]]:
        """Return which inputs each subscribed topic feeds (a topic may feed several)."""
        routes: dict[str, tuple[str, ...]] = {}
        for name, topics in self.inputs.items():
            for topic in topics:
                routes[topic] = (*routes.get(topic, ()), name)
        return routes

    def is_linked(self, name: str, topic: str) -> bool:
        """Return whether ``topic`` is another unit's output linked to input ``name``.

        An input's first topic is its own ``in`` topic; the rest are links.
        """
        topics = self.inputs.get(name, ())
        return topic in topics[1:]

    def transform(self, name: str, topic: str) -> Transform | None:
        """Return the transform for values of input ``name`` arriving on ``topic``."""
        by_topic = self.transforms.get(name)
        return by_topic.get(topic) if by_topic else None

    def subscriptions(self) -> set[str]:
        """Return every topic the unit subscribes to while it has this schema."""
        topics = set(self.routes())
        topics.add(self.sys["cmd"])
        if "schema" in self.sys:
            topics.add(self.sys["schema"])
        return topics


def _is_topic(value: Any) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_TOPIC_LENGTH
        and "+" not in value
        and "#" not in value
        and "\0" not in value
    )


def _topic_lists(raw: Any, section: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise SchemaJsonError(f"schema.json: {section} must be an object of NAME: [topic, ...]")
    lists: dict[str, tuple[str, ...]] = {}
    for name, topics in raw.items():
        if not isinstance(name, str) or NAME_RE.fullmatch(name) is None:
            raise SchemaJsonError(f"schema.json: {section}: {name!r} is not a variable name")
        if not isinstance(topics, list) or not topics or not all(map(_is_topic, topics)):
            raise SchemaJsonError(
                f"schema.json: {section}.{name} must be a non-empty list of topics "
                "without wildcards"
            )
        lists[name] = tuple(topics)
    return lists


def _transforms(raw: Any, inputs: Mapping[str, tuple[str, ...]]) -> dict[str, dict[str, Transform]]:
    if not isinstance(raw, Mapping):
        raise SchemaJsonError(
            "schema.json: transforms must be an object of INPUT: {topic: transform}"
        )
    parsed: dict[str, dict[str, Transform]] = {}
    for name, by_topic in raw.items():
        where = f"transforms.{name}"
        if name not in inputs:
            raise SchemaJsonError(f"schema.json: {where}: {name!r} is not an input")
        if not isinstance(by_topic, Mapping):
            raise SchemaJsonError(f"schema.json: {where} must be an object of topic: transform")
        linked = inputs[name][1:]
        for topic, data in by_topic.items():
            if topic not in linked:
                raise SchemaJsonError(
                    f"schema.json: {where}: {topic!r} is not a linked topic of input {name} "
                    "(an input's own topic is never transformed)"
                )
            parsed.setdefault(name, {})[topic] = Transform.parse(data, f"{where}[{topic!r}]")
    return parsed


def load_schema_file(path: Path) -> SchemaJson | None:
    """Return the stored ``schema.json``, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise SchemaJsonError(f"{path}: not valid JSON ({err})") from None
    try:
        return SchemaJson.parse(data)
    except SchemaJsonError as err:
        raise SchemaJsonError(f"{path}: {err}") from None


def save_schema_file(path: Path, schema: SchemaJson) -> None:
    """Write ``schema.json`` atomically: a temporary file, fsync, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as file:
        json.dump(schema.document, file, indent=2, sort_keys=True)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
