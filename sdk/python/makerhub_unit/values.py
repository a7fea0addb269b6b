"""Variable values on the wire: UTF-8 text, typed by the unit's ``makerhub.json``.

The hub has its own, stricter implementation; a unit needs only enough to turn the text it
receives into Python values and the values it sends into text, so this module is small
and has no dependency beyond the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import math
import re
from typing import Any, Final, TypeVar, Union

# Plain aliases and TypeVars: the library runs on Python 3.11, which has no `type` statement.
Value = Union[bool, int, float, str]  # noqa: UP007
_Number = TypeVar("_Number", int, float)

NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
_INT_RE: Final = re.compile(r"[+-]?[0-9]{1,100}")
VAR_TYPES: Final = ("float", "int", "bool", "str", "enum")
MAX_STR_LENGTH: Final = 255
TRUE_TEXTS: Final = frozenset({"true", "1", "on"})
FALSE_TEXTS: Final = frozenset({"false", "0", "off"})


class InvalidValueError(ValueError):
    """A value that does not fit its variable: wrong type, out of range, not an option."""


def encode(value: Value) -> str:
    """Return a value as wire text when nothing is known about its variable."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValueError(f"{value!r} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return value
    raise InvalidValueError(
        f"{type(value).__name__} values cannot be sent; use bool, int, float or str"
    )


def round_half_away(number: float) -> int:
    """Return ``number`` rounded to the nearest integer, halves away from zero."""
    return int(math.copysign(math.floor(abs(number) + 0.5), number))


def parse_number(text: str, name: str) -> float:
    """Return the finite number ``text`` stands for; raise :class:`InvalidValueError`."""
    try:
        number = float(text)
    except ValueError:
        raise InvalidValueError(f"{name}: {text[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidValueError(f"{name}: {text[:40]!r} is not a finite number")
    return number


def number_text(number: float) -> str:
    """Return a number as wire text; whole numbers without a fraction (``20``, not ``20.0``)."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


@dataclass(frozen=True, slots=True)
class VarSpec:
    """What a unit needs to know about one variable to encode and decode its values."""

    name: str
    type: str
    min: float | None = None
    max: float | None = None
    options: tuple[str, ...] = ()
    max_length: int = MAX_STR_LENGTH

    def decode(self, text: str) -> Value:
        """Return the value a wire text stands for; raise :class:`InvalidValueError`."""
        if self.type == "bool":
            lowered = text.strip().lower()
            if lowered in TRUE_TEXTS:
                return True
            if lowered in FALSE_TEXTS:
                return False
            raise InvalidValueError(f"{self.name}: {text[:40]!r} is not true or false")
        if self.type == "float":
            return self._in_range(self._number(text))
        if self.type == "int":
            number = self._number(text)
            if not number.is_integer():
                raise InvalidValueError(f"{self.name}: {text[:40]!r} is not an integer")
            return self._in_range(int(number))
        return self._text(text)

    def decode_linked(self, text: str, transform: Callable[[float], float] | None = None) -> Value:
        """Return the value of text that another unit's output sent over a link.

        A number input takes any number: ``transform`` applies first, then an ``int``
        input rounds (halves away from zero); ``min``/``max`` still apply. Other types
        decode as :meth:`decode` does.
        """
        if self.type not in ("float", "int"):
            return self.decode(text)
        if self.type == "int" and transform is None and _INT_RE.fullmatch(text):
            return self._in_range(int(text))  # exact, even beyond a float's 53 bits
        number = self._number(text)
        if transform is not None:
            number = transform(number)
            if not math.isfinite(number):
                raise InvalidValueError(f"{self.name}: the transform gave {number!r}")
        if self.type == "int":
            return self._in_range(round_half_away(number))
        return self._in_range(float(number))

    def encode(self, value: Value) -> str:
        """Return a value as wire text after checking it fits; raise :class:`InvalidValueError`."""
        if self.type == "bool":
            if not isinstance(value, bool):
                raise InvalidValueError(f"{self.name}: expects true or false, got {value!r}")
            return encode(value)
        if self.type in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidValueError(f"{self.name}: expects a number, got {value!r}")
            if self.type == "int":
                if isinstance(value, float) and not value.is_integer():
                    raise InvalidValueError(f"{self.name}: expects an integer, got {value!r}")
                value = int(value)
            return encode(self._in_range(value))
        if not isinstance(value, str):
            raise InvalidValueError(f"{self.name}: expects text, got {value!r}")
        return self._text(value)

    def _number(self, text: str) -> float:
        return parse_number(text, self.name)

    def _in_range(self, number: _Number) -> _Number:
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise InvalidValueError(f"{self.name}: {number!r} is outside [{self.min}, {self.max}]")
        return number

    def _text(self, text: str) -> str:
        if self.type == "enum" and text not in self.options:
            options = ", ".join(self.options)
            raise InvalidValueError(f"{self.name}: {text[:40]!r} is not one of {options}")
        if len(text) > self.max_length:
            raise InvalidValueError(f"{self.name}: {len(text)} characters exceed {self.max_length}")
        return text


@dataclass(frozen=True, slots=True)
class Declaration:
    """The variables a ``makerhub.json`` declares, reduced to what encoding needs."""

    inputs: Mapping[str, VarSpec]
    outputs: Mapping[str, VarSpec]

    @classmethod
    def from_json(cls, data: Any, source: str = "makerhub.json") -> Declaration:
        """Parse a ``makerhub.json`` document; raise ValueError listing every problem."""
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise ValueError(f"{source}: must be a JSON object")
        inputs = _parse_section(data.get("inputs", {}), "inputs", problems)
        outputs = _parse_section(data.get("outputs", {}), "outputs", problems)
        if problems:
            raise ValueError(f"{source}: " + "; ".join(problems))
        return cls(inputs=inputs, outputs=outputs)


def _parse_section(raw: Any, section: str, problems: list[str]) -> dict[str, VarSpec]:
    if not isinstance(raw, Mapping):
        problems.append(f"{section}: must be an object of NAME: variable")
        return {}
    specs: dict[str, VarSpec] = {}
    for name, spec in raw.items():
        path = f"{section}.{name}"
        if not isinstance(name, str) or NAME_RE.fullmatch(name) is None:
            problems.append(f"{path}: name must match [a-z][a-z0-9_]{{0,31}}")
        elif not isinstance(spec, Mapping) or spec.get("type") not in VAR_TYPES:
            problems.append(f"{path}.type: required, one of {', '.join(VAR_TYPES)}")
        elif (parsed := _parse_spec(name, spec, path, problems)) is not None:
            specs[name] = parsed
    return specs


def _parse_spec(
    name: str, spec: Mapping[str, Any], path: str, problems: list[str]
) -> VarSpec | None:
    before = len(problems)
    bounds: dict[str, float | None] = {}
    for key in ("min", "max"):
        bound = spec.get(key)
        bounds[key] = None
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            problems.append(f"{path}.{key}: must be a number")
        elif bound is not None:
            bounds[key] = float(bound)
    options = spec.get("options", [])
    if spec["type"] == "enum" and (
        not isinstance(options, list)
        or not options
        or not all(isinstance(option, str) and option for option in options)
    ):
        problems.append(f"{path}.options: an enum needs a list of non-empty strings")
    max_length = spec.get("max_length", MAX_STR_LENGTH)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        problems.append(f"{path}.max_length: must be a positive integer")
    if len(problems) != before:
        return None
    return VarSpec(
        name=name,
        type=spec["type"],
        min=bounds["min"],
        max=bounds["max"],
        options=tuple(options) if spec["type"] == "enum" else (),
        max_length=max_length,
    )
