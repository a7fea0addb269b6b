"""The unit's ``env.json``: broker settings, identity and the repository's own keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any, Final

DEFAULT_STATE_INTERVAL: Final = 30.0
DEFAULT_PORT: Final = 1883


class EnvError(ValueError):
    """An ``env.json`` the unit cannot start with."""


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where and how a unit connects to MQTT."""

    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = None
    tls: bool = False
    keepalive: int = 30

    def __repr__(self) -> str:
        """Never show the password."""
        return (
            f"BrokerSettings(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"tls={self.tls}, keepalive={self.keepalive})"
        )


@dataclass(frozen=True, slots=True)
class UnitEnv:
    """A parsed ``env.json``; ``values`` keeps every key, the repository's own included."""

    unit_id: str | None
    broker: BrokerSettings
    state_interval: float
    version: str | None
    values: Mapping[str, Any]

    @classmethod
    def parse(cls, data: Any, source: str = "env.json") -> UnitEnv:
        """Validate a decoded ``env.json``; raise :class:`EnvError` saying why."""
        if not isinstance(data, Mapping):
            raise EnvError(f"{source}: must be a JSON object")
        host = data.get("MH_MQTT_HOST")
        if not isinstance(host, str) or not host:
            raise EnvError(f"{source}: MH_MQTT_HOST is required")
        port = _integer(data.get("MH_MQTT_PORT", DEFAULT_PORT), "MH_MQTT_PORT", source)
        if not 0 < port < 65536:
            raise EnvError(f"{source}: MH_MQTT_PORT {port} is not a port")
        interval = _number(
            data.get("MH_STATE_INTERVAL", DEFAULT_STATE_INTERVAL), "MH_STATE_INTERVAL", source
        )
        if interval <= 0:
            raise EnvError(f"{source}: MH_STATE_INTERVAL must be greater than 0")
        version = data.get("MH_VERSION")
        unit_id = data.get("MH_UNIT_ID")
        return cls(
            unit_id=str(unit_id) if unit_id else None,
            broker=BrokerSettings(
                host=host,
                port=port,
                username=_optional_text(data.get("MH_MQTT_USERNAME")),
                password=_optional_text(data.get("MH_MQTT_PASSWORD")),
                tls=_flag(data.get("MH_MQTT_TLS", False), "MH_MQTT_TLS", source),
            ),
            state_interval=interval,
            version=str(version) if version not in (None, "") else None,
            values=dict(data),
        )

    @classmethod
    def load(cls, path: Path) -> UnitEnv:
        """Read and parse ``env.json``."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise EnvError(f"{path}: not valid JSON ({err})") from None
        return cls.parse(data, source=str(path))


def _optional_text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _integer(value: Any, key: str, source: str) -> int:
    number = _number(value, key, source)
    if not number.is_integer():
        raise EnvError(f"{source}: {key} must be an integer, not {value!r}")
    return int(number)


def _number(value: Any, key: str, source: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise EnvError(f"{source}: {key} must be a number, not {value!r}") from None


def _flag(value: Any, key: str, source: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise EnvError(f"{source}: {key} must be true or false, not {value!r}")
