"""The hub's secret box: what the config entry stores encrypted (the telemetry DSN).

The key lives in ``.storage/makerhub.key`` (mode 0600), so Home Assistant's backups carry
it together with the entries it unlocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .core.secret_box import SecretBox

KEY_FILE: Final = ".storage/makerhub.key"
DATA_SECRET_BOX: HassKey[SecretBox] = HassKey("makerhub_secret_box")


def _load(path: Path) -> SecretBox:
    path.parent.mkdir(parents=True, exist_ok=True)
    return SecretBox.from_key_file(path)


async def async_get_secret_box(hass: HomeAssistant) -> SecretBox:
    """Return the hub's secret box, creating its key on first use."""
    if (box := hass.data.get(DATA_SECRET_BOX)) is None:
        box = await hass.async_add_executor_job(_load, Path(hass.config.path(KEY_FILE)))
        hass.data[DATA_SECRET_BOX] = box
    return box
