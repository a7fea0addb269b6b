"""``makerhub.restart_item``: a unit sent its restart command, the errors for what cannot
be restarted, and a service run by the shipped systemd units restarted through systemctl."""

from __future__ import annotations

from datetime import timedelta
import json
import os
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import AsyncMock, MagicMock

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.core.health import ItemSpec
from custom_components.makerhub.health import manager
from custom_components.makerhub.health.manager import (
    ISSUE_UNRESPONSIVE,
    HealthItem,
    HubHealth,
    RestartError,
)
from tests.components.makerhub.conftest import UID, bring_online

PROBLEM = "binary_sensor.bench_health_problem"
BROKER = "binary_sensor.makerhub_broker_problem"


def restarts_sent(mqtt_mock: MqttMockHAClient) -> int:
    """Return how many restart commands were published to the unit."""
    return sum(
        1
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == f"makerhub/{UID}/sys/cmd"
        and json.loads(call.args[1]).get("cmd") == "restart"
    )


async def restart_item(hass: HomeAssistant, entity_id: str) -> None:
    """Call the action."""
    await hass.services.async_call(DOMAIN, "restart_item", {"item": entity_id}, blocking=True)


async def test_a_connected_unit_is_sent_its_restart_command(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    await bring_online(hass)
    health: HubHealth = hub.runtime_data.health
    item = f"unit:{UID}"
    ir.async_create_issue(
        hass, DOMAIN, f"{ISSUE_UNRESPONSIVE}_{item}", is_fixable=False,
        severity=ir.IssueSeverity.ERROR, translation_key=ISSUE_UNRESPONSIVE,
    )  # fmt: skip
    await restart_item(hass, PROBLEM)
    assert restarts_sent(mqtt_mock) == 1
    assert health.health(item).restarts == 0
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_UNRESPONSIVE}_{item}") is None

    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/status", "offline")
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await restart_item(hass, PROBLEM)
    assert err.value.translation_key == "item_restart_failed"
    assert "not connected to the broker" in err.value.translation_placeholders["error"]
    assert restarts_sent(mqtt_mock) == 1


async def test_what_cannot_be_restarted_is_refused(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await restart_item(hass, BROKER)  # Home Assistant's own MQTT connection
    assert err.value.translation_key == "item_not_restartable"
    assert err.value.translation_placeholders == {"name": "Broker"}
    for entity_id in ("sensor.makerhub_healthy_items", "binary_sensor.nothing_here"):
        with pytest.raises(ServiceValidationError) as err:
            await restart_item(hass, entity_id)
        assert err.value.translation_key == "unknown_health_item"

    health: HubHealth = hub.runtime_data.health

    async def broken() -> bool:
        raise RuntimeError("the socket is gone")

    health.register(
        HealthItem(ItemSpec("gadget", "Gadget", "service", restartable=True), restart=broken)
    )
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await restart_item(hass, "binary_sensor.makerhub_gadget_problem")
    assert err.value.translation_placeholders == {
        "name": "Gadget",
        "error": "the socket is gone",
    }

    async def unavailable() -> bool:
        return False  # e.g. an add-on's restart without a Supervisor

    health.register(
        HealthItem(ItemSpec("gizmo", "Gizmo", "service", restartable=True), restart=unavailable)
    )
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await restart_item(hass, "binary_sensor.makerhub_gizmo_problem")
    assert err.value.translation_placeholders == {
        "name": "Gizmo",
        "error": "its restart path is not available now",
    }

    await hass.config_entries.async_unload(hub.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await restart_item(hass, PROBLEM)
    assert err.value.translation_key == "hub_not_loaded"


@pytest.fixture
def systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Home Assistant run as a systemd service with the shipped units installed.

    systemd is not PID 1 here, so ``systemctl`` is a stand-in on the PATH answering as
    systemd would for the installed units; it logs each call (one line of arguments)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "systemctl.log"
    script = bin_dir / "systemctl"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        'case "$*" in\n'
        '  *"show --property=LoadState --value makerhub-firmware.service") echo loaded ;;\n'
        '  *"show --property=LoadState --value slow.service") exec sleep 60 ;;\n'
        '  *"show --property=LoadState --value "*) echo not-found ;;\n'
        '  *"restart --no-block makerhub-firmware.service")\n'
        f'    if [ -e {tmp_path / "refuse"} ]; then echo "Access denied"; exit 4; fi ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("INVOCATION_ID", "0123456789abcdef")
    return log


async def test_a_service_under_systemd_is_restarted_by_systemctl(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    systemd: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failing = {"now": True}

    async def poll() -> int:
        if failing["now"]:
            raise UpdateFailed("the firmware service does not answer")
        return 1

    coordinator: DataUpdateCoordinator[int] = DataUpdateCoordinator(
        hass, MagicMock(), config_entry=hub, name="firmware", update_method=poll,
        update_interval=timedelta(minutes=5),
    )  # fmt: skip
    desktops: DataUpdateCoordinator[int] = DataUpdateCoordinator(
        hass, MagicMock(), config_entry=hub, name="desktops", update_method=AsyncMock(),
    )  # fmt: skip
    health = HubHealth(
        hass,
        hub,
        hub.runtime_data.hub,
        telemetry_connected=None,
        telemetry_coordinator=None,
        firmware=SimpleNamespace(coordinator=coordinator),
        firmware_env=None,
        desktops=SimpleNamespace(coordinator=desktops),
        service_urls={"firmware_service": "http://127.0.0.1:8099"},
    )
    await health.async_start()
    assert health.health("firmware_service").restart_limit == 3
    assert health.health("desktops_service").restart_limit == 0  # no such unit here
    await coordinator.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    calls = systemd.read_text().splitlines()
    assert "--no-ask-password restart --no-block makerhub-firmware.service" in calls
    assert health.health("firmware_service").restarts == 1

    await health.async_restart_now(health.items["firmware_service"])
    assert health.health("firmware_service").restarts == 0
    (systemd.parent / "refuse").touch()
    with pytest.raises(RestartError, match="Access denied"):
        await health.async_restart_now(health.items["firmware_service"])
    with pytest.raises(RestartError, match="nothing can restart it"):
        await health.async_restart_now(health.items["desktops_service"])
    failing["now"] = False
    await coordinator.async_refresh()
    assert health.health("firmware_service").status == "healthy"
    health.async_stop()

    # A systemctl that hangs is given up on.
    monkeypatch.setattr(manager, "SYSTEMCTL_TIMEOUT", 0.5)
    assert not await manager.async_systemd_unit_loaded("slow.service")


async def test_no_systemd_means_no_systemd_restarts(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Not started by systemd (no ``INVOCATION_ID``), or no ``systemctl``: no path."""
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    assert not await manager.async_systemd_unit_loaded("makerhub-firmware.service")
    monkeypatch.setenv("INVOCATION_ID", "x")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert not manager.under_systemd()
    assert await manager._systemctl("status") == (127, "systemctl is not installed")
