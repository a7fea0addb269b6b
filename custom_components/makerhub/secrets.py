"""The hub's secret box, and the one way text is sealed in it and opened again.

What the hub keeps sealed: the telemetry DSN, the broker admin password and the firmware
service token (config entry options), each unit's env values (its subentry), the units'
broker passwords and API tokens, and people's service tokens (``.storage``). Every sealed
text names what it is (its context), so one copied into another field does not open.

The key lives in ``.storage/makerhub.key`` (mode 0600), so Home Assistant's backups carry
it together with the entries it unlocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .core.secret_box import SecretBox, SecretBoxError

KEY_FILE: Final = ".storage/makerhub.key"
DATA_SECRET_BOX: HassKey[SecretBox] = HassKey("makerhub_secret_box")

CONTEXT_TELEMETRY_DSN: Final = "telemetry_dsn"
CONTEXT_BROKER_ADMIN: Final = "makerhub broker admin"
CONTEXT_FIRMWARE_TOKEN: Final = "makerhub firmware"  # noqa: S105 (a context, not a token)
CONTEXT_DESKTOPS_TOKEN: Final = "makerhub desktops"  # noqa: S105 (a context, not a token)
CONTEXT_RECORDER_TOKEN: Final = "makerhub recorder"  # noqa: S105 (a context, not a token)


def seal_text(box: SecretBox, text: str, context: str) -> str:
    """Return ``text`` sealed for storage, bound to ``context``."""
    return box.encrypt(text.encode(), context)


def open_text(box: SecretBox, sealed: str, context: str) -> str:
    """Return sealed text; raise SecretBoxError / UnicodeDecodeError."""
    return box.decrypt(sealed, context).decode()


def open_text_or_none(box: SecretBox, sealed: str, context: str) -> str | None:
    """Return sealed text; None when it cannot be opened (another key or context)."""
    try:
        return open_text(box, sealed, context)
    except (SecretBoxError, UnicodeDecodeError):
        return None


def _load(path: Path) -> SecretBox:
    path.parent.mkdir(parents=True, exist_ok=True)
    return SecretBox.from_key_file(path)


async def async_get_secret_box(hass: HomeAssistant) -> SecretBox:
    """Return the hub's secret box, creating its key on first use."""
    if (box := hass.data.get(DATA_SECRET_BOX)) is None:
        box = await hass.async_add_executor_job(_load, Path(hass.config.path(KEY_FILE)))
        hass.data[DATA_SECRET_BOX] = box
    return box
