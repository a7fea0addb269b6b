"""Set-points: the desired value of every unit input, owned by the hub.

The hub stores them (Home Assistant storage), shows them on the input entities, and keeps
the broker's retained ``in`` topics holding them. This module is the pure part: the
stored form and its validation, fitting stored values to a changed schema, and the pace
of writes to disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
from typing import Any

from .errors import BadInputError
from .schema import UnitSchema, Value, Variable, VarType, is_valid_name

type InputValues = dict[str, Value]
"""One unit's set-points: input name → desired value."""


class Setpoints:
    """Every unit's set-points, by unit id.

    :meth:`of` hands out the live dictionary of a unit: the hub gives it to the unit's
    runtime as its ``inputs``, so what the entities show and what is stored are one object.
    """

    def __init__(self, values: Mapping[str, InputValues] | None = None) -> None:
        """Start from stored values (already validated, see :meth:`from_json`)."""
        self._values: dict[str, InputValues] = {uid: dict(v) for uid, v in (values or {}).items()}

    def of(self, uid: str) -> InputValues:
        """Return a unit's set-points (the stored dictionary itself, created if missing)."""
        return self._values.setdefault(uid, {})

    def units(self) -> set[str]:
        """Return the units that have (or had) set-points."""
        return set(self._values)

    def forget(self, uid: str) -> bool:
        """Drop a unit's set-points; return whether it had any."""
        return bool(self._values.pop(uid, None))

    def to_json(self) -> dict[str, Any]:
        """Return the stored form; safe to call from another thread while the hub runs.

        ``dict.copy`` of string-keyed dictionaries runs without releasing the GIL, so the
        copies are consistent even while the event loop changes the originals.
        """
        return {"units": {uid: names.copy() for uid, names in self._values.copy().items() if names}}

    @classmethod
    def from_json(cls, data: Any) -> tuple[Setpoints, list[str]]:
        """Read the stored form; return it and what had to be dropped (never raises)."""
        problems: list[str] = []
        units = data.get("units") if isinstance(data, dict) else None
        if data is not None and not isinstance(units, dict):
            return cls(), [f"stored set-points are not {{'units': {{...}}}}: {str(data)[:80]}"]
        values: dict[str, InputValues] = {}
        for uid, names in (units or {}).items():
            if not isinstance(names, dict):
                problems.append(f"unit {uid[:16]!r}: not an object of input values")
                continue
            kept: InputValues = {}
            for name, value in names.items():
                if is_valid_name(name) and isinstance(value, (bool, int, float, str)):
                    kept[name] = value
                else:
                    problems.append(f"unit {uid[:16]!r}: input {str(name)[:40]!r} = {value!r:.40}")
            values[uid] = kept
        return cls(values), problems


@dataclass(frozen=True, slots=True)
class Refit:
    """A stored set-point that a unit's (changed) schema made the hub change or drop."""

    name: str
    old: Value
    new: Value | None
    """The value kept (converted or clamped), or None when it was dropped."""
    reason: str


def fit_value(variable: Variable, value: Value) -> Value | None:
    """Return ``value`` as ``variable`` now declares it, or None if it cannot be.

    The value is read as its wire text would be (an ``int`` 42 fits a ``float`` input as
    42.0, a ``str`` "7" an ``int`` input as 7); numbers outside a new range are clamped
    into it (the nearest value the unit accepts). Anything else the declaration refuses
    (an option no longer offered, a text now too long, a boolean for a number) is None.
    """
    if variable.is_numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        number: float = value
        if variable.min is not None:
            number = max(number, variable.min)
        if variable.max is not None:
            number = min(number, variable.max)
        value = round(number) if variable.type is VarType.INT else float(number)
    try:
        return variable.decode(variable.encode(value))
    except BadInputError:
        return None


def fit_setpoints(values: InputValues, schema: UnitSchema) -> list[Refit]:
    """Fit a unit's set-points to its schema, in place; return what changed.

    A set-point of an input the schema no longer has is dropped (a renamed input is a
    new input: it starts without a value).
    """
    changes: list[Refit] = []
    for name, value in list(values.items()):
        variable = schema.inputs.get(name)
        if variable is None:
            del values[name]
            changes.append(Refit(name, value, None, "the input is gone"))
            continue
        fitted = fit_value(variable, value)
        if fitted is None:
            del values[name]
            changes.append(Refit(name, value, None, "the new declaration refuses it"))
        elif type(fitted) is not type(value) or fitted != value:
            values[name] = fitted
            changes.append(Refit(name, value, fitted, "fitted to the new declaration"))
    return changes


class WritePacer:
    """When to write after a change: at once after a quiet spell, otherwise one
    ``interval`` after the previous write (the changes meanwhile join that one write).

    (Home Assistant's ``Store.async_delay_save`` debounces: a steady stream of changes
    would postpone the write for as long as it lasts.)
    """

    def __init__(self, interval: float) -> None:
        """Allow one write per ``interval`` seconds."""
        self.interval = interval
        self._last = -math.inf
        """Monotonic time of the latest write."""

    def delay(self, now: float) -> float:
        """Return how long after ``now`` the next write may happen (0: at once)."""
        return max(0.0, self._last + self.interval - now)

    def wrote(self, now: float) -> None:
        """Record a write at ``now``."""
        self._last = now
