"""The one base of every Makerhub entity (named by its device, never polled, with its
unique id and device given when it is made), and the descriptions of fixed sensors and
binary sensors whose value (and attributes) functions compute their state.

The features' entity bases (units, presence, projects, repositories, telemetry) derive
from it; those fed by a ``DataUpdateCoordinator`` put ``CoordinatorEntity`` first, so that
its availability and listening come before this base's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.typing import StateType


class MakerhubEntity(Entity):
    """An entity of the hub: its name is its device's plus its own, it is never polled."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, unique_id: str, device_info: DeviceInfo | None) -> None:
        """Identify the entity and attach it to its device (None: no device)."""
        self._attr_unique_id = unique_id
        self._attr_device_info = device_info


type SensorValue = StateType | date | datetime | Decimal


@dataclass(frozen=True, kw_only=True)
class MakerhubEntityDescription[S, V](EntityDescription):
    """An entity whose state (and attributes) are computed from what the entity reads."""

    value_fn: Callable[[S], V]
    attributes_fn: Callable[[S], dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class MakerhubSensorEntityDescription[S](
    MakerhubEntityDescription[S, SensorValue], SensorEntityDescription
):
    """A sensor computed from what its entity reads."""

    last_reset_fn: Callable[[], datetime] | None = None
    """The start of the period a ``total`` sensor counts (this week, this month)."""


@dataclass(frozen=True, kw_only=True)
class MakerhubBinarySensorEntityDescription[S](
    MakerhubEntityDescription[S, bool], BinarySensorEntityDescription
):
    """A binary sensor computed from what its entity reads."""


class DescribedEntity[S, V](Entity):
    """An entity read through its description from :attr:`described`."""

    entity_description: MakerhubEntityDescription[S, V]

    @property
    def described(self) -> S:
        """Return what the description's functions read."""
        raise NotImplementedError

    @property
    def described_value(self) -> V:
        """Return the description's value."""
        return self.entity_description.value_fn(self.described)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the description's attributes, if it has any."""
        attributes_fn = self.entity_description.attributes_fn
        return None if attributes_fn is None else attributes_fn(self.described)


class DescribedSensor[S](DescribedEntity[S, SensorValue], SensorEntity):
    """A sensor read through its description."""

    entity_description: MakerhubSensorEntityDescription[S]

    @property
    def native_value(self) -> SensorValue:
        """Return the description's value."""
        return self.described_value

    @property
    def last_reset(self) -> datetime | None:
        """Return the start of the period the sensor counts, if it counts one."""
        last_reset_fn = self.entity_description.last_reset_fn
        return None if last_reset_fn is None else last_reset_fn()


class DescribedBinarySensor[S](DescribedEntity[S, bool], BinarySensorEntity):
    """A binary sensor read through its description."""

    entity_description: MakerhubBinarySensorEntityDescription[S]

    @property
    def is_on(self) -> bool:
        """Return the description's value."""
        return self.described_value
