"""The kinds of device the simulator plays, with values that move like real ones.

Sensor values follow mean-reverting random walks (they drift and wander back, as a room
temperature does) rather than white noise; actuators mirror their inputs to their outputs
at once, as a real relay reports its new state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
import random
from typing import Any, ClassVar, Final

from .values import Value

Publish = Callable[[str, Value], object]
DIMMER_MODES: Final = ("normal", "eco", "night")


@dataclass(slots=True)
class RandomWalk:
    """A value that wanders around ``mean`` and is pulled back towards it, within bounds."""

    value: float
    mean: float
    sigma: float
    pull: float
    low: float
    high: float

    def step(self, rng: random.Random) -> float:
        """Move one step and return the new value."""
        moved = self.value + self.pull * (self.mean - self.value) + rng.gauss(0.0, self.sigma)
        self.value = min(self.high, max(self.low, moved))
        return self.value


class SimDevice(ABC):
    """One simulated device: its ``makerhub.json`` and how its values evolve."""

    kind: ClassVar[str]
    schema: ClassVar[Mapping[str, Any]]

    def __init__(self, rng: random.Random) -> None:
        """Draw this device's own starting point from ``rng``."""
        self.rng = rng
        self._next = 0
        self._rssi = RandomWalk(rng.uniform(-75, -45), rng.uniform(-70, -50), 0.7, 0.05, -95, -30)

    @property
    @abstractmethod
    def periodic_outputs(self) -> tuple[str, ...]:
        """Return the outputs reported periodically, in turn."""

    @abstractmethod
    def value_of(self, output: str) -> Value:
        """Return the output's next value (sensors take a step of their walk)."""

    def next_output(self) -> tuple[str, Value]:
        """Return the next periodic output and its value, cycling through the outputs."""
        outputs = self.periodic_outputs
        name = outputs[self._next % len(outputs)]
        self._next += 1
        return name, self.value_of(name)

    def bind(
        self, on_input: Callable[[str, Callable[[Value], None]], None], publish: Publish
    ) -> None:
        """Wire inputs to outputs; devices without inputs have nothing to wire."""
        del on_input, publish

    def state_extras(self) -> dict[str, Any]:
        """Return simulated radio figures for the unit's state report."""
        return {"rssi": round(self._rssi.step(self.rng))}


class Thermometer(SimDevice):
    """Room temperature and humidity drifting slowly."""

    kind = "thermometer"
    schema: ClassVar[Mapping[str, Any]] = {
        "name": "Simulated thermometer",
        "platforms": ["python"],
        "outputs": {
            "temperature": {
                "type": "float",
                "unit": "°C",
                "device_class": "temperature",
                "state_class": "measurement",
                "precision": 1,
                "min": -40,
                "max": 85,
            },
            "humidity": {
                "type": "float",
                "unit": "%",
                "device_class": "humidity",
                "state_class": "measurement",
                "precision": 0,
                "min": 0,
                "max": 100,
            },
        },
        "inputs": {},
    }

    def __init__(self, rng: random.Random) -> None:
        """Start near a typical indoor climate."""
        super().__init__(rng)
        mean = rng.uniform(18.0, 24.0)
        self.temperature = RandomWalk(mean + rng.uniform(-1, 1), mean, 0.04, 0.01, -40, 85)
        wet = rng.uniform(35.0, 60.0)
        self.humidity = RandomWalk(wet, wet, 0.3, 0.01, 0, 100)

    @property
    def periodic_outputs(self) -> tuple[str, ...]:
        """Temperature and humidity, in turn."""
        return ("temperature", "humidity")

    def value_of(self, output: str) -> Value:
        """Step the output's walk."""
        if output == "temperature":
            return round(self.temperature.step(self.rng), 1)
        return round(self.humidity.step(self.rng))


class Relay(SimDevice):
    """A switched socket: the ``relay`` input sets ``state``; ``power`` follows the load."""

    kind = "relay"
    schema: ClassVar[Mapping[str, Any]] = {
        "name": "Simulated relay",
        "platforms": ["python"],
        "outputs": {
            "state": {"type": "bool", "device_class": "power"},
            "power": {
                "type": "float",
                "unit": "W",
                "device_class": "power",
                "state_class": "measurement",
                "precision": 1,
                "min": 0,
            },
        },
        "inputs": {"relay": {"type": "bool"}},
    }

    def __init__(self, rng: random.Random) -> None:
        """Start switched off with a load of its own size waiting."""
        super().__init__(rng)
        self.on = False
        load = rng.uniform(20.0, 150.0)
        self.load = RandomWalk(load, load, load * 0.01, 0.02, 0, load * 2)
        self.standby = RandomWalk(0.4, 0.4, 0.01, 0.1, 0.1, 1.0)

    @property
    def periodic_outputs(self) -> tuple[str, ...]:
        """State and power, in turn."""
        return ("state", "power")

    def value_of(self, output: str) -> Value:
        """Report the switch or the power drawn through it."""
        if output == "state":
            return self.on
        walk = self.load if self.on else self.standby
        return round(walk.step(self.rng), 1)

    def bind(
        self, on_input: Callable[[str, Callable[[Value], None]], None], publish: Publish
    ) -> None:
        """Mirror ``relay`` to ``state`` at once."""

        def switch(value: Value) -> None:
            self.on = bool(value)
            publish("state", self.on)

        on_input("relay", switch)


class Door(SimDevice):
    """A door contact that opens and closes now and then."""

    kind = "door"
    TOGGLE_CHANCE: ClassVar[float] = 0.01
    schema: ClassVar[Mapping[str, Any]] = {
        "name": "Simulated door",
        "platforms": ["python"],
        "outputs": {"door": {"type": "bool", "device_class": "door"}},
        "inputs": {},
    }

    def __init__(self, rng: random.Random) -> None:
        """Start closed."""
        super().__init__(rng)
        self.open = False

    @property
    def periodic_outputs(self) -> tuple[str, ...]:
        """The door contact."""
        return ("door",)

    def value_of(self, output: str) -> Value:
        """Occasionally toggle, then report."""
        if self.rng.random() < self.TOGGLE_CHANCE:
            self.open = not self.open
        return self.open


class Dimmer(SimDevice):
    """A dimmer whose ``level`` and ``mode`` inputs are mirrored to its outputs."""

    kind = "dimmer"
    schema: ClassVar[Mapping[str, Any]] = {
        "name": "Simulated dimmer",
        "platforms": ["python"],
        "outputs": {
            "level_actual": {"type": "int", "unit": "%", "min": 0, "max": 100},
            "mode": {"type": "enum", "options": list(DIMMER_MODES)},
        },
        "inputs": {
            "level": {"type": "int", "unit": "%", "min": 0, "max": 100, "step": 1},
            "mode": {"type": "enum", "options": list(DIMMER_MODES)},
        },
    }

    def __init__(self, rng: random.Random) -> None:
        """Start dark, in normal mode."""
        super().__init__(rng)
        self.level = 0
        self.mode = DIMMER_MODES[0]

    @property
    def periodic_outputs(self) -> tuple[str, ...]:
        """Level and mode, in turn."""
        return ("level_actual", "mode")

    def value_of(self, output: str) -> Value:
        """Report the current level or mode."""
        return self.level if output == "level_actual" else self.mode

    def bind(
        self, on_input: Callable[[str, Callable[[Value], None]], None], publish: Publish
    ) -> None:
        """Mirror ``level`` to ``level_actual`` and ``mode`` to ``mode`` at once."""

        def set_level(value: Value) -> None:
            self.level = int(value)
            publish("level_actual", self.level)

        def set_mode(value: Value) -> None:
            self.mode = str(value)
            publish("mode", self.mode)

        on_input("level", set_level)
        on_input("mode", set_mode)


KINDS: Final[Mapping[str, type[SimDevice]]] = {
    device.kind: device for device in (Thermometer, Relay, Door, Dimmer)
}
