"""The members' part of the diagnostics: the agreement in force and who signed which
version when (never the text itself: it can be long, and the options hold it)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from ..core.agreement import DEFAULT_AGREEMENT, agreement_version
from ..data import makerhub_data


def members_diagnostics(hass: HomeAssistant) -> dict[str, Any]:
    """The agreement's version, whether it is the default, and each signature."""
    agreements = makerhub_data(hass).agreements
    text = agreements.text()
    return {
        "agreement_version": agreement_version(text),
        "default_text": text == DEFAULT_AGREEMENT,
        "acceptances": agreements.agreements.to_json()["people"],
        "dropped_at_load": agreements.dropped,
    }
