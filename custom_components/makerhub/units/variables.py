"""How a unit's variables map onto Home Assistant platforms and entity metadata."""

from __future__ import annotations

from enum import StrEnum

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.components.number import NumberDeviceClass
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.components.switch import SwitchDeviceClass
from homeassistant.const import Platform

from ..core.errors import SchemaIssue
from ..core.schema import Direction, UnitSchema, Variable, VarType

type EntityKey = tuple[str, str]
"""``(direction or "sys", name)``: identifies one entity of a unit."""

TOPIC_LEVEL = {Direction.OUTPUT: "out", Direction.INPUT: "in"}
"""The topic level, and entity key part, of each direction."""
LEVEL_DIRECTION = {level: direction for direction, level in TOPIC_LEVEL.items()}


def unit_entity_unique_id(uid: str, key: EntityKey) -> str:
    """Return the unique id of a unit's entity: ``<uid>-<out|in|sys>-<name>``."""
    return f"{uid}-{key[0]}-{key[1]}"


def parse_unit_entity_unique_id(unique_id: str) -> tuple[str, EntityKey] | None:
    """Return the unit id and entity key of :func:`unit_entity_unique_id`'s result."""
    parts = unique_id.split("-", 2)
    return (parts[0], (parts[1], parts[2])) if len(parts) == 3 else None


_OUTPUT_PLATFORMS = {VarType.BOOL: Platform.BINARY_SENSOR}
_INPUT_PLATFORMS = {
    VarType.FLOAT: Platform.NUMBER,
    VarType.INT: Platform.NUMBER,
    VarType.BOOL: Platform.SWITCH,
    VarType.ENUM: Platform.SELECT,
    VarType.STR: Platform.TEXT,
}
_DEVICE_CLASSES: dict[Platform, type[StrEnum]] = {
    Platform.SENSOR: SensorDeviceClass,
    Platform.BINARY_SENSOR: BinarySensorDeviceClass,
    Platform.NUMBER: NumberDeviceClass,
    Platform.SWITCH: SwitchDeviceClass,
}


def platform_for(direction: Direction, variable: Variable) -> Platform:
    """Return the platform of the entity that shows ``variable``."""
    if direction is Direction.OUTPUT:
        return _OUTPUT_PLATFORMS.get(variable.type, Platform.SENSOR)
    return _INPUT_PLATFORMS[variable.type]


def entity_name(variable: Variable) -> str:
    """Return the entity name for a variable: ``target_temp`` → ``Target temp``."""
    return variable.name.replace("_", " ").capitalize()


def check_schema(schema: UnitSchema) -> list[SchemaIssue]:
    """Return what Home Assistant cannot show as declared (device classes per platform)."""
    issues: list[SchemaIssue] = []
    for direction, variables in (
        (Direction.OUTPUT, schema.outputs),
        (Direction.INPUT, schema.inputs),
    ):
        for variable in variables.values():
            if variable.device_class is None:
                continue
            path = f"{direction.value}.{variable.name}.device_class"
            platform = platform_for(direction, variable)
            classes = _DEVICE_CLASSES.get(platform)
            if variable.type is VarType.ENUM:
                issues.append(SchemaIssue(path, "enum variables take no device class"))
            elif classes is None:
                issues.append(SchemaIssue(path, f"a {platform} entity has no device class"))
            elif variable.device_class not in {member.value for member in classes}:
                issues.append(
                    SchemaIssue(path, f"{variable.device_class!r} is not a {platform} device class")
                )
    return issues


def variable_signatures(schema: UnitSchema) -> dict[EntityKey, tuple[Platform, Variable]]:
    """Return, per entity key, the platform and variable that make up its entity."""
    return {
        (TOPIC_LEVEL[direction], name): (platform_for(direction, variable), variable)
        for direction, variables in (
            (Direction.OUTPUT, schema.outputs),
            (Direction.INPUT, schema.inputs),
        )
        for name, variable in variables.items()
    }
