"""The *an update failed or rolled back* blueprint on the firmware feature's own events:
a unit made from a real repository (the real firmware service) is updated, rolls back,
then does not answer in time; the automation made from the blueprint sends exactly one
alert for each, and nothing for the update that succeeds."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.firmware import manager as firmware_module
from custom_components.makerhub.firmware.manager import UpdateStatus
from tests.components.makerhub.conftest import state_payload
from tests.components.makerhub.firmware.conftest import create_unit, updates
from tests.helpers.blueprints import (
    NOTIFY_ACTION,
    async_automation_from,
    record_notifications,
    use_blueprints,
)


async def test_update_alerts_from_the_firmware_feature(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    firmware_hub: MockConfigEntry,
    repo: tuple[Any, str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(firmware_module, "MIN_TIMEOUT", 0.5)
    monkeypatch.setattr(firmware_module, "TIMEOUT_FACTOR", 0.0)
    use_blueprints(hass, tmp_path / "config")
    notifications = record_notifications(hass)
    await async_automation_from(
        hass, "makerhub_update_alert.yaml", {"notify_action": NOTIFY_ACTION}
    )
    uid = await create_unit(hass, firmware_hub)
    firmware = firmware_hub.runtime_data.firmware
    assert firmware is not None
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "online")
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload("v1.0.0"))
    await hass.async_block_till_done()
    second = repo[2][:12]

    async def sent(count: int) -> None:
        while len(updates(mqtt_mock, uid)) < count:
            await asyncio.sleep(0.01)

    # Success: no alert.
    task = hass.async_create_task(firmware.async_install(uid))
    await sent(1)
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload(second))
    assert (await task).status is UpdateStatus.SUCCESS
    await hass.async_block_till_done()
    assert notifications.sent == []

    # The unit rolls back: its own sys/event report.
    task = hass.async_create_task(firmware.async_install(uid, "v1.0.0"))
    await sent(2)
    async_fire_mqtt_message(
        hass,
        f"makerhub/{uid}/sys/event",
        json.dumps({"event": "rolled_back", "version": "v1.0.0", "error": "crashed on start"}),
    )
    assert (await task).status is UpdateStatus.ERROR
    await hass.async_block_till_done()

    # Silence: the update times out.
    job = await firmware.async_install(uid, "v1.0.0")
    assert job.status is UpdateStatus.ERROR
    await hass.async_block_till_done()

    assert notifications.sent == [
        {
            "title": "Makerhub: Lab thermo rolled back",
            "message": "Lab thermo rolled back from v1.0.0 to the version it ran before: "
            "rolled_back: crashed on start",
            "data": {},
        },
        {
            "title": "Makerhub: update of Lab thermo failed",
            "message": "The update of Lab thermo to v1.0.0 failed: the unit did not report "
            "v1.0.0 in time",
            "data": {},
        },
    ]
    await hass.config_entries.async_unload(firmware_hub.entry_id)
