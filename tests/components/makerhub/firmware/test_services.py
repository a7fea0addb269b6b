"""``makerhub.update_units``: which units a rollout covers, and the calls it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.firmware.manager import firmware_units
from tests.components.makerhub.conftest import UID, state_payload, unit_subentry
from tests.components.makerhub.firmware.conftest import create_unit, register_repo
from tests.helpers.firmware_service import thermometer_repo


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """One unit adopted by announcement: not made from a repository."""
    return [unit_subentry()]


async def update_units(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """Call the action; return its response."""
    response = await hass.services.async_call(
        DOMAIN, "update_units", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def test_needs_the_firmware_service(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    """Without the firmware service there is nothing to roll out."""
    with pytest.raises(ServiceValidationError) as err:
        await update_units(hass)
    assert err.value.translation_key == "firmware_not_configured"
    await hass.config_entries.async_unload(hub.entry_id)


async def test_which_units_a_rollout_covers(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    firmware_hub: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """Units by name or id (each once), by repository (title or id), up-to-date ones only
    when asked; a unit not made from a repository, an unknown repository and an
    impossible plan are refused by name."""
    entry = firmware_hub
    thermo = await create_unit(hass, entry, "Thermo 1")
    lamp_git, _, _ = thermometer_repo(tmp_path / "lamp")
    await register_repo(hass, entry, lamp_git.url, "Lamp")
    assert (await update_units(hass, repository="Lamp", only_outdated=False))["units"] == []
    firmware = entry.runtime_data.firmware
    latest = firmware.latest(thermo)
    assert latest is not None
    async_fire_mqtt_message(hass, f"makerhub/{thermo}/sys/state", state_payload(latest[1]))
    await hass.async_block_till_done()
    assert (await update_units(hass))["units"] == []  # it runs its ref's head already

    refusals = [
        ({"units": [UID]}, f"not made from a repository: {UID}"),
        ({"repository": "Desk"}, "no repository Desk"),
        ({"window_start": "22:00"}, "give both ends of the window, or neither"),
    ]
    for data, message in refusals:
        with pytest.raises(ServiceValidationError) as err:
            await update_units(hass, **data)
        assert err.value.translation_key == "firmware_failed"
        assert err.value.translation_placeholders == {"error": message}

    thermo_repo = firmware_units(entry)[thermo].data["repo_id"]
    response = await update_units(
        hass, units=["Thermo 1", thermo], repository=thermo_repo, only_outdated=False
    )
    assert response["units"] == [thermo]  # by name and id (once), in the repository by its id
    await hass.config_entries.async_unload(entry.entry_id)
