"""The flows' shared sealed field: what a form shows, what it means, what is stored.

The options steps using it (broker access, firmware, telemetry) are tested with their
features; these are the paths no step reaches there.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from custom_components.makerhub.const import CONF_TELEMETRY_DSN
from custom_components.makerhub.flows import STAND_IN, SealedField
from custom_components.makerhub.secrets import (
    CONTEXT_FIRMWARE_TOKEN,
    CONTEXT_TELEMETRY_DSN,
    async_get_secret_box,
    open_text,
    seal_text,
)
from custom_components.makerhub.telemetry.options import DSN_FIELD

TOKEN_FIELD = SealedField("token", CONTEXT_FIRMWARE_TOKEN)


async def test_sealed_field_round_trip(hass: HomeAssistant) -> None:
    """A stored secret is shown as its stand-in, which sent back means the secret; what
    is typed is sealed for its context, and nothing typed stores nothing."""
    sealed = await TOKEN_FIELD.async_seal(hass, "s3cret")
    assert "s3cret" not in sealed
    box = await async_get_secret_box(hass)
    assert open_text(box, sealed, CONTEXT_FIRMWARE_TOKEN) == "s3cret"
    stored = await TOKEN_FIELD.async_stored(hass, {"token": sealed})
    assert stored == "s3cret"
    assert TOKEN_FIELD.shown(stored) == STAND_IN
    assert TOKEN_FIELD.meant(STAND_IN, stored) == "s3cret"
    assert TOKEN_FIELD.meant("other", stored) == "other"
    assert await TOKEN_FIELD.async_seal(hass, "") == ""
    assert await TOKEN_FIELD.async_stored(hass, {"token": ""}) is None
    assert TOKEN_FIELD.shown(None) == ""


async def test_sealed_field_unusable_secret_counts_as_none(hass: HomeAssistant) -> None:
    """A secret sealed for another field, or a stored DSN that opens but is no database
    URL, counts as none: the form shows nothing, and no stand-in brings it back."""
    box = await async_get_secret_box(hass)
    elsewhere = {"token": seal_text(box, "s3cret", CONTEXT_TELEMETRY_DSN)}
    assert await TOKEN_FIELD.async_stored(hass, elsewhere) is None
    assert TOKEN_FIELD.meant(STAND_IN, None) == STAND_IN

    not_a_url = {CONF_TELEMETRY_DSN: seal_text(box, "not a url", CONTEXT_TELEMETRY_DSN)}
    assert await DSN_FIELD.async_stored(hass, not_a_url) is None
    assert DSN_FIELD.shown(None) == ""
    assert DSN_FIELD.meant("", None) == ""

    url = "postgresql://makerhub:pw@127.0.0.1:5432/makerhub"
    stored = await DSN_FIELD.async_stored(
        hass, {CONF_TELEMETRY_DSN: seal_text(box, url, CONTEXT_TELEMETRY_DSN)}
    )
    assert stored == url
    assert DSN_FIELD.shown(stored) == url.replace(":pw@", ":***@")
    assert DSN_FIELD.meant(DSN_FIELD.shown(stored), stored) == url
