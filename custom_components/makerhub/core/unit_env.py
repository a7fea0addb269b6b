"""A unit's ``env.json``: what the repository declares, what the hub generates, the merge.

Pure Python (no Home Assistant imports). The unit protocol v1 ``env.json`` holds:

* the hub's keys, ``MH_*`` (:data:`MH_KEYS`), always present;
* the repository's own keys, declared by ``makerhub.json``'s ``env`` section
  (``{KEY: {"default", "type", "secret"}}``) or Pepeunit's ``env_example.json``
  (``{KEY: default}``), with their defaults;
* ``WIFI_SSID`` / ``WIFI_PASS``, left for the user (:data:`USER_ONLY_KEYS`) unless the
  repository declares them.

:func:`merge_env` builds the file from four layers: values the user sets now, values
stored earlier, the generated ``MH_*`` keys, and the repository's defaults. The rules it
follows are listed on the function; the decisions worth knowing are:

* Every key the repository declares is present, with its default when the user gave
  nothing: that includes ``WIFI_SSID``/``WIFI_PASS`` when it declares them (Pepeunit's
  ``env_example.json`` does, with ``""``; its programs read ``env['WIFI_PASS']``).
* ``WIFI_SSID``/``WIFI_PASS`` that the repository does not declare are present only when
  the user (or the stored layer) gave them, and are otherwise *omitted*, not empty, so a
  unit can tell "not set here" (keep what the device has) from "set to the empty string".
  They are never generated.
* The identity and credential keys (:data:`HUB_OWNED_KEYS`: unit id, broker user and
  password, API token, version) are the hub's alone: the generated value always wins,
  a stored copy of an older one is ignored (so rotating a password takes effect), and a
  user value that differs is refused.
* A declared key with no value in any layer (no default) is omitted; :func:`missing_keys`
  lists those so the user can be asked for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
import math
import re
from typing import Any, Final

from .errors import SchemaError
from .schema import ENV_KEY_RE, EnvKey, UnitSchema, parse_makerhub_json, parse_pepeunit

MH_UNIT_ID: Final = "MH_UNIT_ID"
MH_MQTT_HOST: Final = "MH_MQTT_HOST"
MH_MQTT_PORT: Final = "MH_MQTT_PORT"
MH_MQTT_TLS: Final = "MH_MQTT_TLS"
MH_MQTT_USERNAME: Final = "MH_MQTT_USERNAME"
MH_MQTT_PASSWORD: Final = "MH_MQTT_PASSWORD"  # noqa: S105  (a key name)
MH_API_URL: Final = "MH_API_URL"
MH_TOKEN: Final = "MH_TOKEN"  # noqa: S105  (a key name)
MH_STATE_INTERVAL: Final = "MH_STATE_INTERVAL"
MH_VERSION: Final = "MH_VERSION"
WIFI_SSID: Final = "WIFI_SSID"
WIFI_PASS: Final = "WIFI_PASS"  # noqa: S105  (a key name)

MH_KEYS: Final = (
    MH_UNIT_ID,
    MH_MQTT_HOST,
    MH_MQTT_PORT,
    MH_MQTT_TLS,
    MH_MQTT_USERNAME,
    MH_MQTT_PASSWORD,
    MH_API_URL,
    MH_TOKEN,
    MH_STATE_INTERVAL,
    MH_VERSION,
)
"""The hub's keys, in the order ``env.json`` lists them."""
HUB_OWNED_KEYS: Final = frozenset(
    {MH_UNIT_ID, MH_MQTT_USERNAME, MH_MQTT_PASSWORD, MH_TOKEN, MH_VERSION}
)
"""``MH_*`` keys only the hub decides; the others may be overridden for one unit."""
USER_ONLY_KEYS: Final = (WIFI_SSID, WIFI_PASS)
"""Keys left for the user: never generated, defaulted only when the repository declares them."""
ALWAYS_SECRET: Final = frozenset({MH_MQTT_PASSWORD, MH_TOKEN, WIFI_PASS})
REDACTED: Final = "**REDACTED**"
DEFAULT_STATE_INTERVAL: Final = 30
"""Seconds; the unit library's default too."""
MAX_TEXT: Final = 4096
"""Longest text value accepted from the user."""
ENV_TYPES: Final = ("str", "int", "float", "bool")

_SECRET_WORDS: Final = frozenset(
    {"PASS", "PASSWD", "PASSWORD", "PWD", "PSK", "TOKEN", "SECRET", "KEY", "APIKEY", "CREDENTIALS"}
)
"""Name parts (split on ``_``) that make a key secret even if undeclared: ``PU_SECRET_KEY``."""
_TRUE: Final = frozenset({"true", "1", "on", "yes"})
_FALSE: Final = frozenset({"false", "0", "off", "no"})
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_MH_TYPES: Final[dict[str, str]] = {
    MH_UNIT_ID: "str",
    MH_MQTT_HOST: "str",
    MH_MQTT_PORT: "int",
    MH_MQTT_TLS: "bool",
    MH_MQTT_USERNAME: "str",
    MH_MQTT_PASSWORD: "str",
    MH_API_URL: "str",
    MH_TOKEN: "str",
    MH_STATE_INTERVAL: "float",
    MH_VERSION: "str",
}


@dataclass(frozen=True, slots=True)
class EnvIssue:
    """One refused value: the key and why."""

    field: str
    reason: str

    def __str__(self) -> str:
        """Render as ``KEY: reason``."""
        return f"{self.field}: {self.reason}"


class EnvError(ValueError):
    """One or more env values that cannot be used; ``issues`` says which and why."""

    def __init__(self, issues: Iterable[EnvIssue]) -> None:
        """Keep every issue; the message lists them all (never a value)."""
        self.issues = tuple(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


# --- what the repository declares ---------------------------------------------------------


type EnvSource = UnitSchema | Mapping[str, Any]


def declared_env(source: EnvSource) -> dict[str, EnvKey]:
    """Return the repository's env keys (name → :class:`EnvKey`) in their declared order.

    ``source`` is one of:

    * a parsed :class:`UnitSchema` (its ``env``);
    * a ``makerhub.json`` document (any mapping with an ``env`` or ``name`` key; only its
      ``env`` section is read);
    * Pepeunit's ``env_example.json`` (``{KEY: default}``; the type is the default's);
    * a mapping of :class:`EnvKey` (returned as it is).

    ``MH_*`` keys a repository lists are the hub's, and are left out. Raise
    :class:`EnvError` if the document is invalid.
    """
    keys: Mapping[str, EnvKey]
    if isinstance(source, UnitSchema):
        keys = source.env
    elif not isinstance(source, Mapping):
        raise EnvError([EnvIssue("env", "must be a makerhub.json or env_example.json object")])
    elif source and all(isinstance(value, EnvKey) for value in source.values()):
        keys = source
    elif "env" in source or "name" in source:
        keys = _parse(lambda: parse_makerhub_json({"name": "env", "env": source.get("env", {})}))
    else:
        keys = _parse(lambda: parse_pepeunit({}, source, "env"))
    return {name: key for name, key in keys.items() if not name.startswith("MH_")}


def _parse(parse: Callable[[], UnitSchema]) -> Mapping[str, EnvKey]:
    try:
        schema = parse()
    except SchemaError as err:
        raise EnvError(
            EnvIssue(issue.path.removeprefix("env.") or "env", issue.reason) for issue in err.issues
        ) from None
    return schema.env


def declared_defaults(declared: Mapping[str, EnvKey]) -> dict[str, Any]:
    """Return the declared keys' defaults (keys without one are left out)."""
    return {name: key.default for name, key in declared.items() if key.default is not None}


def secret_keys(
    declared: Mapping[str, EnvKey] | None = None, env: Iterable[str] = ()
) -> frozenset[str]:
    """Return the keys whose values are secret, among ``declared`` and ``env``'s keys.

    That is ``MH_MQTT_PASSWORD``, ``MH_TOKEN`` and ``WIFI_PASS`` always, the keys the
    repository declares ``"secret": true``, and any key whose name has a part (split on
    ``_``) such as ``PASS``, ``PASSWORD``, ``TOKEN``, ``SECRET`` or ``KEY`` (Pepeunit's
    ``PU_AUTH_TOKEN``, ``PU_SECRET_KEY``): better one value too many hidden than one
    too few.
    """
    declared = declared or {}
    names: set[str] = set(ALWAYS_SECRET)
    names.update(name for name, key in declared.items() if isinstance(key, EnvKey) and key.secret)
    names.update(name for name in [*declared, *env] if _looks_secret(name))
    return frozenset(names)


def _looks_secret(name: str) -> bool:
    return any(part in _SECRET_WORDS for part in str(name).upper().split("_"))


def redact_env(
    env: Mapping[str, Any], declared: Mapping[str, EnvKey] | None = None
) -> dict[str, Any]:
    """Return ``env`` with every secret value replaced by ``**REDACTED**`` (diagnostics)."""
    secrets = secret_keys(declared, env)
    return {key: REDACTED if key in secrets else value for key, value in env.items()}


def redact_schema(schema: UnitSchema) -> dict[str, Any]:
    """Return ``schema``'s ``makerhub.json`` with the defaults of its secret env keys
    replaced by ``**REDACTED**`` (diagnostics)."""
    document = schema.to_json()
    if schema.env:
        secrets = secret_keys(schema.env)
        document["env"] = {
            name: (
                replace(key, default=REDACTED)
                if name in secrets and key.default is not None
                else key
            ).to_json()
            for name, key in schema.env.items()
        }
    return document


# --- what the hub generates --------------------------------------------------------------


def generated_env(
    uid: str,
    *,
    mqtt_host: str,
    mqtt_port: int = 1883,
    mqtt_tls: bool = False,
    mqtt_username: str | None = None,
    mqtt_password: str | None = None,
    api_url: str | None = None,
    token: str | None = None,
    state_interval: float = DEFAULT_STATE_INTERVAL,
    version: str | None = None,
) -> dict[str, Any]:
    """Return the hub's ``MH_*`` keys for one unit (all of them, in protocol order).

    Missing texts (no broker credentials, no API, no version yet) are ``""``, so every key
    keeps its type. Raise :class:`EnvError` for a value a unit could not use.
    """
    env: dict[str, Any] = {
        MH_UNIT_ID: uid,
        MH_MQTT_HOST: mqtt_host,
        MH_MQTT_PORT: mqtt_port,
        MH_MQTT_TLS: mqtt_tls,
        MH_MQTT_USERNAME: mqtt_username or "",
        MH_MQTT_PASSWORD: mqtt_password or "",
        MH_API_URL: api_url or "",
        MH_TOKEN: token or "",
        MH_STATE_INTERVAL: state_interval,
        MH_VERSION: version or "",
    }
    issues: list[EnvIssue] = []
    if not uid:
        issues.append(EnvIssue(MH_UNIT_ID, "required"))
    if not mqtt_host:
        issues.append(EnvIssue(MH_MQTT_HOST, "required: the broker host units connect to"))
    checked = _check_all(env, _MH_TYPES, issues)
    if issues:
        raise EnvError(issues)
    return checked


# --- the merge ----------------------------------------------------------------------------


def merge_env(
    user: Mapping[str, Any],
    stored: Mapping[str, Any],
    generated: Mapping[str, Any],
    defaults: Mapping[str, Any],
    declared: Mapping[str, EnvKey] | Iterable[str],
) -> dict[str, Any]:
    """Return a unit's ``env.json``.

    For each key the first layer that has it wins: ``user`` (set now) > ``stored`` (set
    earlier; pass the user's own earlier values, not a whole previous ``env.json``) >
    ``generated`` (:func:`generated_env`) > ``defaults`` (the repository's); ``None``
    means "not set in this layer" (a user clearing a field). Then:

    * keys the repository does not declare are dropped, except the ``MH_*`` keys (always
      present, taken from ``generated``) and ``WIFI_SSID``/``WIFI_PASS``;
    * ``WIFI_SSID``/``WIFI_PASS`` are never generated: they come from ``user`` or
      ``stored``, else from ``defaults`` if the repository declares them, else are
      omitted;
    * :data:`HUB_OWNED_KEYS` always take the generated value; a stored one is ignored and
      a different user value is refused;
    * ``user`` values are checked against the declared types (``declared`` as a mapping
      of :class:`EnvKey`; a plain set of names means "any type"): a text form's ``"4"``
      becomes ``4`` for an ``int`` key, ``"on"`` becomes ``True`` for a ``bool`` key. Every
      problem is reported at once in one :class:`EnvError`;
    * a ``stored`` value that no longer fits the declared type (the repository changed
      it) is skipped, so the next layer's value is used;
    * declared keys without any value are omitted (see :func:`missing_keys`).

    The order is ``MH_*`` keys, then the declared keys in their order, then the Wi-Fi
    keys the repository does not declare itself.
    """
    types = _declared_types(declared)
    all_types = {**types, **_MH_TYPES, WIFI_SSID: "str", WIFI_PASS: "str"}
    issues = [
        EnvIssue(key, "missing from the generated keys") for key in MH_KEYS if key not in generated
    ]
    user_values = _check_all(
        {key: value for key, value in user.items() if key in all_types and value is not None},
        all_types,
        issues,
    )
    issues += [
        EnvIssue(key, "set by the hub; it cannot be changed")
        for key in sorted(HUB_OWNED_KEYS & user_values.keys())
        if key in generated and user_values[key] != generated[key]
    ]
    if issues:
        raise EnvError(issues)
    merged: dict[str, Any] = {}
    for key in dict.fromkeys([*MH_KEYS, *types, *USER_ONLY_KEYS]):
        if key in HUB_OWNED_KEYS:
            merged[key] = generated[key]
            continue
        if key not in USER_ONLY_KEYS:
            layers = [user_values, stored, generated, defaults]
        elif key in types:
            layers = [user_values, stored, defaults]
        else:
            layers = [user_values, stored]
        for layer in layers:
            if layer.get(key) is None:
                continue
            value = layer[key]
            if layer is stored:
                try:
                    value = _check(key, value, all_types.get(key))
                except ValueError:
                    continue
            merged[key] = value
            break
    return merged


def missing_keys(
    env: Mapping[str, Any], declared: Mapping[str, EnvKey] | Iterable[str]
) -> list[str]:
    """Return the declared keys ``env`` has no value for (declared without a default and
    not given)."""
    return [key for key in _declared_types(declared) if key not in env]


def _declared_types(declared: Mapping[str, EnvKey] | Iterable[str]) -> dict[str, str | None]:
    """Return declared key → type (None: any), without the hub's keys."""
    if isinstance(declared, Mapping):
        types: dict[str, str | None] = {
            name: key.type if isinstance(key, EnvKey) else None for name, key in declared.items()
        }
    else:
        types = dict.fromkeys(declared)
    return {name: kind for name, kind in types.items() if not name.startswith("MH_")}


def _check_all(
    values: Mapping[str, Any], types: Mapping[str, str | None], issues: list[EnvIssue]
) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in values.items():
        try:
            checked[key] = _check(key, value, types.get(key))
        except ValueError as err:
            issues.append(EnvIssue(key, str(err)))
    return checked


def check_value(key: EnvKey, value: Any) -> Any:
    """Return ``value`` as the declared key's type; raise :class:`EnvError` saying why not."""
    try:
        return _check(key.name, value, key.type)
    except ValueError as err:
        raise EnvError([EnvIssue(key.name, str(err))]) from None


def _check(name: str, value: Any, kind: str | None) -> Any:
    """Return ``value`` converted to ``kind``; raise ValueError with the reason."""
    if ENV_KEY_RE.fullmatch(name) is None:
        raise ValueError("key must match [A-Z][A-Z0-9_]{0,63}")
    if kind is None:
        if value is None or isinstance(value, str | bool | int | float):
            return _text(value) if isinstance(value, str) else _finite(value)
        raise ValueError(f"must be text, a number or true/false, not {_kind(value)}")
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"must be text, not {_kind(value)}")
        return _text(value)
    if kind == "bool":
        return _bool(value)
    number = _int(value) if kind == "int" else _float(value)
    if name == MH_MQTT_PORT and not 1 <= number <= 65535:
        raise ValueError("must be a port from 1 to 65535")
    if name == MH_STATE_INTERVAL and number <= 0:
        raise ValueError("must be greater than 0 seconds")
    return number


def _text(value: str) -> str:
    if len(value) > MAX_TEXT:
        raise ValueError(f"text of {len(value)} characters; at most {MAX_TEXT}")
    if _CONTROL_RE.search(value):
        raise ValueError("contains control characters")
    return value


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE:
        return False
    raise ValueError(f"must be true or false, not {_kind(value)}")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError(f"must be an integer, not {_kind(value)}")


def _float(value: Any) -> float | int:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    number: float | int
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"must be a number, not {_kind(value)}") from None
    else:
        raise ValueError(f"must be a number, not {_kind(value)}")
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def _kind(value: Any) -> str:
    """Describe a value without showing it (it may be a secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text" if value.strip() else "empty text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__
