"""The unit schema: what a firmware repository (or a self-describing unit) declares.

Two source formats are accepted, as docs/protocol.md describes (`makerhub.json`):

* ``makerhub.json`` (native): outputs, inputs and env with Home Assistant metadata;
* Pepeunit's ``schema_example.json`` + ``env_example.json``, unchanged.

Both become a :class:`UnitSchema`. Parsing collects *every* problem with its JSON path,
so a firmware author sees all mistakes at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import math
import re
from typing import Any, Final

from .errors import BadInputError, BadInputReason, SchemaError, SchemaIssue

NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
"""Variable names; they become MQTT topic levels and entity keys."""
ENV_KEY_RE: Final = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
MAX_OPTIONS: Final = 64
MAX_STR_LENGTH: Final = 255
"""Home Assistant's limit for a state, and so for a text/str variable."""
MAX_VARIABLES: Final = 128
"""Per direction; far above any real unit, low enough to bound what a schema can cost."""
PEPEUNIT_SUFFIX: Final = "/pepeunit"
ASSET_NAME_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}")
"""A release asset's file name: it becomes a file at the root of the unit archive."""

type Value = float | int | bool | str


def is_valid_name(name: object) -> bool:
    """Return whether ``name`` is a valid variable name."""
    return isinstance(name, str) and NAME_RE.fullmatch(name) is not None


class VarType(StrEnum):
    """The value types a variable may have."""

    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    STR = "str"
    ENUM = "enum"


class Direction(StrEnum):
    """Whether the unit publishes a variable (output) or receives it (input)."""

    OUTPUT = "outputs"
    INPUT = "inputs"


STATE_CLASSES: Final = frozenset({"measurement", "total", "total_increasing"})
TRUE_TEXTS: Final = frozenset({"true", "1", "on"})
FALSE_TEXTS: Final = frozenset({"false", "0", "off"})


@dataclass(frozen=True, slots=True)
class Variable:
    """One input or output of a unit, with its Home Assistant metadata."""

    name: str
    type: VarType
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple[str, ...] = ()
    max_length: int = MAX_STR_LENGTH
    icon: str | None = None
    precision: int | None = None
    decode: Callable[[str], Value] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Bind the decoder once: it runs for every message on the hot path."""
        decoders: dict[VarType, Callable[[str], Value]] = {
            VarType.FLOAT: self._decode_float,
            VarType.INT: self._decode_int,
            VarType.BOOL: _decode_bool,
            VarType.STR: self._decode_str,
            VarType.ENUM: self._decode_enum,
        }
        object.__setattr__(self, "decode", decoders[self.type])

    @property
    def is_numeric(self) -> bool:
        """Return whether values are numbers."""
        return self.type in (VarType.FLOAT, VarType.INT)

    def encode(self, value: Value) -> str:
        """Render a value as wire text, after checking it against this variable."""
        text = _encode(value)
        self.decode(text)
        return text

    def _check_range(self, number: float, text: str) -> None:
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise BadInputError(
                BadInputReason.OUT_OF_RANGE,
                f"{self.name}: {text} is outside [{_fmt(self.min)}, {_fmt(self.max)}]",
            )

    def _decode_float(self, text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise BadInputError(
                BadInputReason.WRONG_TYPE, f"{self.name}: {text[:40]!r} is not a number"
            ) from None
        if not math.isfinite(number):
            raise BadInputError(
                BadInputReason.WRONG_TYPE, f"{self.name}: {text!r} is not a finite number"
            )
        self._check_range(number, text)
        return number

    def _decode_int(self, text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise BadInputError(
                BadInputReason.WRONG_TYPE, f"{self.name}: {text[:40]!r} is not an integer"
            ) from None
        self._check_range(number, text)
        return number

    def _decode_str(self, text: str) -> str:
        if len(text) > self.max_length:
            raise BadInputError(
                BadInputReason.OUT_OF_RANGE,
                f"{self.name}: text of {len(text)} characters exceeds max_length {self.max_length}",
            )
        return text

    def _decode_enum(self, text: str) -> str:
        if text not in self.options:
            raise BadInputError(
                BadInputReason.OUT_OF_RANGE,
                f"{self.name}: {text[:40]!r} is not one of {', '.join(self.options)}",
            )
        return text

    def to_json(self) -> dict[str, Any]:
        """Return the ``makerhub.json`` form, without defaults."""
        data: dict[str, Any] = {"type": self.type.value}
        for key in ("unit", "device_class", "state_class", "min", "max", "step", "icon"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        if self.precision is not None:
            data["precision"] = self.precision
        if self.options:
            data["options"] = list(self.options)
        if self.type is VarType.STR and self.max_length != MAX_STR_LENGTH:
            data["max_length"] = self.max_length
        return data


def _decode_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in TRUE_TEXTS:
        return True
    if lowered in FALSE_TEXTS:
        return False
    raise BadInputError(BadInputReason.WRONG_TYPE, f"{text[:40]!r} is not true or false")


def _encode(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def _fmt(bound: float | None) -> str:
    return "…" if bound is None else f"{bound:g}"


@dataclass(frozen=True, slots=True)
class EnvKey:
    """One key of a unit's ``env.json`` that the repository declares."""

    name: str
    default: Any = None
    type: str = "str"
    secret: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the ``makerhub.json`` form."""
        data: dict[str, Any] = {"type": self.type}
        if self.default is not None:
            data["default"] = self.default
        if self.secret:
            data["secret"] = True
        return data


@dataclass(frozen=True, slots=True)
class FirmwareSpec:
    """Compiled firmware: the release asset a unit archive carries next to the tree."""

    asset: str

    def to_json(self) -> dict[str, Any]:
        """Return the ``makerhub.json`` form."""
        return {"asset": self.asset}


@dataclass(frozen=True, slots=True)
class UnitSchema:
    """What a unit declares: its variables and the env keys its firmware reads."""

    name: str
    outputs: Mapping[str, Variable]
    inputs: Mapping[str, Variable]
    env: Mapping[str, EnvKey] = field(default_factory=dict)
    platforms: tuple[str, ...] = ()
    firmware: FirmwareSpec | None = None

    def variables(self, direction: Direction) -> Mapping[str, Variable]:
        """Return the outputs or the inputs."""
        return self.outputs if direction is Direction.OUTPUT else self.inputs

    def to_json(self) -> dict[str, Any]:
        """Return the native ``makerhub.json`` form (round-trips through ``parse``)."""
        data: dict[str, Any] = {
            "name": self.name,
            "outputs": {name: var.to_json() for name, var in self.outputs.items()},
            "inputs": {name: var.to_json() for name, var in self.inputs.items()},
        }
        if self.platforms:
            data["platforms"] = list(self.platforms)
        if self.env:
            data["env"] = {name: key.to_json() for name, key in self.env.items()}
        if self.firmware is not None:
            data["firmware"] = self.firmware.to_json()
        return data


ENV_TYPES: Final = frozenset({"str", "int", "float", "bool"})
_VAR_KEYS: Final = frozenset(
    {
        "type",
        "unit",
        "device_class",
        "state_class",
        "min",
        "max",
        "step",
        "options",
        "max_length",
        "icon",
        "precision",
    }
)


class _Collector:
    """Accumulates issues so one pass reports every problem."""

    def __init__(self) -> None:
        self.issues: list[SchemaIssue] = []

    def add(self, path: str, reason: str) -> None:
        self.issues.append(SchemaIssue(path, reason))

    def text(self, data: Mapping[str, Any], key: str, path: str, max_len: int) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value or len(value) > max_len:
            self.add(f"{path}.{key}", f"must be a non-empty string of at most {max_len} characters")
            return None
        return value

    def number(self, data: Mapping[str, Any], key: str, path: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.add(f"{path}.{key}", "must be a finite number")
            return None
        return float(value)


def parse_makerhub_json(data: Any, source: str = "makerhub.json") -> UnitSchema:
    """Parse and validate a native schema document; raise :class:`SchemaError`."""
    issues = _Collector()
    if not isinstance(data, Mapping):
        raise SchemaError([SchemaIssue("", "must be a JSON object")], source)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        issues.add("name", "required: a non-empty string of at most 64 characters")
        name = ""
    platforms: tuple[str, ...] = ()
    raw_platforms = data.get("platforms", [])
    if not isinstance(raw_platforms, list) or not all(
        isinstance(p, str) and p for p in raw_platforms
    ):
        issues.add("platforms", "must be a list of strings")
    else:
        platforms = tuple(raw_platforms)
    outputs = _parse_variables(data.get("outputs", {}), Direction.OUTPUT, issues)
    inputs = _parse_variables(data.get("inputs", {}), Direction.INPUT, issues)
    env = _parse_env(data.get("env", {}), issues)
    firmware = _parse_firmware(data.get("firmware"), issues)
    run = data.get("run")
    if run is not None and not (
        (isinstance(run, str) and run.strip())
        or (isinstance(run, list) and run and all(isinstance(a, str) and a for a in run))
    ):
        issues.add("run", "the unit program's command: a string or a non-empty list of strings")
    for key in data:
        if key not in {"name", "platforms", "outputs", "inputs", "env", "firmware", "run"}:
            issues.add(str(key), "unknown key")
    if issues.issues:
        raise SchemaError(issues.issues, source)
    return UnitSchema(
        name=name.strip(),
        outputs=outputs,
        inputs=inputs,
        env=env,
        platforms=platforms,
        firmware=firmware,
    )


def _parse_firmware(raw: Any, issues: _Collector) -> FirmwareSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        issues.add("firmware", 'must be an object like {"asset": "firmware.bin"}')
        return None
    for key in raw:
        if key != "asset":
            issues.add(f"firmware.{key}", "unknown key")
    asset = raw.get("asset")
    if not isinstance(asset, str) or ASSET_NAME_RE.fullmatch(asset) is None:
        issues.add(
            "firmware.asset",
            "required: a release asset file name of letters, digits and . _ + - "
            "(at most 128, not starting with '.')",
        )
        return None
    return FirmwareSpec(asset=asset)


def _parse_variables(raw: Any, direction: Direction, issues: _Collector) -> dict[str, Variable]:
    path = direction.value
    if not isinstance(raw, Mapping):
        issues.add(path, "must be an object of NAME: variable")
        return {}
    if len(raw) > MAX_VARIABLES:
        issues.add(path, f"declares {len(raw)} variables; at most {MAX_VARIABLES} are allowed")
        return {}
    variables: dict[str, Variable] = {}
    for name, spec in raw.items():
        var_path = f"{path}.{name}"
        if not is_valid_name(name):
            issues.add(var_path, "name must match [a-z][a-z0-9_]{0,31}")
            continue
        if not isinstance(spec, Mapping):
            issues.add(var_path, "must be an object")
            continue
        if (variable := _parse_variable(name, spec, var_path, issues)) is not None:
            variables[name] = variable
    return variables


def _parse_variable(
    name: str, spec: Mapping[str, Any], path: str, issues: _Collector
) -> Variable | None:
    before = len(issues.issues)
    for key in spec:
        if key not in _VAR_KEYS:
            issues.add(f"{path}.{key}", "unknown key")
    try:
        var_type = VarType(str(spec.get("type")))
    except ValueError:
        issues.add(f"{path}.type", "required: one of float, int, bool, str, enum")
        return None
    numeric = var_type in (VarType.FLOAT, VarType.INT)
    unit = issues.text(spec, "unit", path, 32)
    device_class = issues.text(spec, "device_class", path, 32)
    icon = issues.text(spec, "icon", path, 64)
    if icon is not None and not icon.startswith("mdi:"):
        issues.add(f"{path}.icon", "must look like mdi:thermometer")
    state_class = spec.get("state_class")
    if state_class is not None and (not numeric or state_class not in STATE_CLASSES):
        issues.add(
            f"{path}.state_class",
            "only numeric variables have one: measurement, total, total_increasing",
        )
    minimum = issues.number(spec, "min", path)
    maximum = issues.number(spec, "max", path)
    step = issues.number(spec, "step", path)
    for key in ("min", "max", "step", "unit", "state_class", "precision"):
        if key in spec and not numeric:
            issues.add(f"{path}.{key}", f"only applies to float and int, not {var_type}")
    if minimum is not None and maximum is not None and minimum > maximum:
        issues.add(f"{path}.min", f"min {minimum:g} is greater than max {maximum:g}")
    if step is not None and step <= 0:
        issues.add(f"{path}.step", "must be greater than 0")
    precision = spec.get("precision")
    if precision is not None and (
        isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 10
    ):
        issues.add(f"{path}.precision", "must be an integer from 0 to 10")
    options: tuple[str, ...] = ()
    raw_options = spec.get("options")
    if var_type is VarType.ENUM:
        if (
            not isinstance(raw_options, list)
            or not raw_options
            or len(raw_options) > MAX_OPTIONS
            or not all(isinstance(o, str) and 0 < len(o) <= MAX_STR_LENGTH for o in raw_options)
        ):
            issues.add(f"{path}.options", f"enum needs 1 to {MAX_OPTIONS} non-empty strings")
        elif len(set(raw_options)) != len(raw_options):
            issues.add(f"{path}.options", "options must be unique")
        else:
            options = tuple(raw_options)
    elif raw_options is not None:
        issues.add(f"{path}.options", "only enum variables have options")
    max_length = spec.get("max_length", MAX_STR_LENGTH)
    if "max_length" in spec and var_type is not VarType.STR:
        issues.add(f"{path}.max_length", "only str variables have a max_length")
    elif (
        isinstance(max_length, bool)
        or not isinstance(max_length, int)
        or not 1 <= max_length <= MAX_STR_LENGTH
    ):
        issues.add(f"{path}.max_length", f"must be an integer from 1 to {MAX_STR_LENGTH}")
        max_length = MAX_STR_LENGTH
    if len(issues.issues) != before:
        return None
    return Variable(
        name=name,
        type=var_type,
        unit=unit,
        device_class=device_class,
        state_class=state_class,
        min=minimum,
        max=maximum,
        step=step,
        options=options,
        max_length=max_length,
        icon=icon,
        precision=precision,
    )


def _parse_env(raw: Any, issues: _Collector) -> dict[str, EnvKey]:
    if not isinstance(raw, Mapping):
        issues.add("env", "must be an object of KEY: {default, type, secret}")
        return {}
    env: dict[str, EnvKey] = {}
    for key, spec in raw.items():
        path = f"env.{key}"
        if not isinstance(key, str) or ENV_KEY_RE.fullmatch(key) is None:
            issues.add(path, "key must match [A-Z][A-Z0-9_]{0,63}")
            continue
        if not isinstance(spec, Mapping):
            issues.add(path, "must be an object")
            continue
        env_type = spec.get("type", _json_type(spec.get("default")))
        if env_type not in ENV_TYPES:
            issues.add(f"{path}.type", "must be one of str, int, float, bool")
            continue
        secret = spec.get("secret", False)
        if not isinstance(secret, bool):
            issues.add(f"{path}.secret", "must be true or false")
            continue
        env[key] = EnvKey(name=key, default=spec.get("default"), type=env_type, secret=secret)
    return env


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def parse_pepeunit(schema_example: Any, env_example: Any, name: str) -> UnitSchema:
    """Convert Pepeunit's ``schema_example.json`` + ``env_example.json`` to a schema.

    Variables are ``input_topic``/``output_topic`` entries such as
    ``"set_fan_state/pepeunit"``; the name is the part before ``/pepeunit`` and the type is
    ``str``. The ``*_base_topic`` lists are Pepeunit's system topics, which Makerhub's
    ``sys`` topics replace. Every key of ``env_example.json`` is an env key with its value
    as the default.
    """
    issues = _Collector()
    if not isinstance(schema_example, Mapping):
        raise SchemaError([SchemaIssue("", "must be a JSON object")], "schema_example.json")
    variables: dict[Direction, dict[str, Variable]] = {}
    for direction, key in ((Direction.INPUT, "input_topic"), (Direction.OUTPUT, "output_topic")):
        variables[direction] = {}
        topics = schema_example.get(key, [])
        if not isinstance(topics, list):
            issues.add(key, "must be a list of topics like name/pepeunit")
            continue
        for index, topic in enumerate(topics):
            path = f"{key}[{index}]"
            var_name = (
                topic.removesuffix(PEPEUNIT_SUFFIX)
                if isinstance(topic, str) and topic.endswith(PEPEUNIT_SUFFIX)
                else None
            )
            if var_name is None:
                issues.add(path, f"{topic!r} does not end with {PEPEUNIT_SUFFIX}")
            elif not is_valid_name(var_name):
                issues.add(path, f"variable {var_name!r} must match [a-z][a-z0-9_]{{0,31}}")
            elif var_name in variables[direction]:
                issues.add(path, f"variable {var_name!r} is listed twice")
            else:
                variables[direction][var_name] = Variable(name=var_name, type=VarType.STR)
    env: dict[str, EnvKey] = {}
    if not isinstance(env_example, Mapping):
        issues.add("env_example.json", "must be a JSON object")
    else:
        for key, default in env_example.items():
            if not isinstance(key, str) or ENV_KEY_RE.fullmatch(key) is None:
                issues.add(f"env_example.json.{key}", "key must match [A-Z][A-Z0-9_]{0,63}")
            else:
                env[key] = EnvKey(name=key, default=default, type=_json_type(default))
    if issues.issues:
        raise SchemaError(issues.issues, "schema_example.json")
    return UnitSchema(
        name=name, outputs=variables[Direction.OUTPUT], inputs=variables[Direction.INPUT], env=env
    )
