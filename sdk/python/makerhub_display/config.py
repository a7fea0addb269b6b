"""The display's configuration file (``~/.config/makerhub-display/config.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
import json
import os
from pathlib import Path
import re
from typing import Any

DEFAULT_PATH = Path("~/.config/makerhub-display/config.json")
ANNOUNCE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or has a bad value."""


@dataclass
class DisplayConfig:
    """Everything the agent reads from its file; only ``mqtt_host`` is required."""

    mqtt_host: str
    mqtt_port: int = 1883
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_tls: bool = False
    announce_id: str = "display"
    name: str = "Display"
    prefix: str = "makerhub"
    ha_url: str | None = None
    offline_idle_after: float = 300.0
    state_dir: str = "~/.local/state/makerhub-display"
    chromium: str | None = None
    chromium_args: list[str] = field(default_factory=list)
    power_path: str | None = None

    @classmethod
    def load(cls, path: Path) -> DisplayConfig:
        """Read and check the file; raise ConfigError saying what is wrong."""
        try:
            data = json.loads(path.expanduser().read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file (run makerhub-display setup)") from None
        except (OSError, ValueError) as err:
            raise ConfigError(f"{path}: {err}") from err
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a JSON object is needed")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown keys {', '.join(unknown)}")
        if "mqtt_host" not in data:
            raise ConfigError(f"{path}: mqtt_host is required")
        try:
            config = cls(**data)
        except TypeError as err:
            raise ConfigError(f"{path}: {err}") from err
        config.check(str(path))
        return config

    def check(self, source: str) -> None:
        """Raise ConfigError for a value of the wrong kind."""
        if not isinstance(self.mqtt_port, int) or not 0 < self.mqtt_port < 65536:
            raise ConfigError(f"{source}: mqtt_port must be a port number")
        if not ANNOUNCE_ID.match(self.announce_id):
            raise ConfigError(f"{source}: announce_id must be lower-case letters, digits, - or _")
        if not isinstance(self.offline_idle_after, int | float) or self.offline_idle_after < 0:
            raise ConfigError(f"{source}: offline_idle_after must be seconds (>= 0)")
        if self.ha_url is not None and not re.match(r"^https?://[^/]+", self.ha_url):
            raise ConfigError(f"{source}: ha_url must be an http or https address")

    def save(self, path: Path) -> None:
        """Write the file readable by its owner only (it holds the broker password)."""
        path = path.expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(asdict(self), file, indent=2)

    @property
    def state_path(self) -> Path:
        """Return the state folder (schema.json, Chromium's profile, the idle page)."""
        return Path(self.state_dir).expanduser()

    def redacted(self) -> dict[str, Any]:
        """Return the settings with the password hidden, for logs."""
        data = asdict(self)
        if data["mqtt_password"]:
            data["mqtt_password"] = "**REDACTED**"  # noqa: S105 (the mask, not a password)
        return data
