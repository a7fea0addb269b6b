"""The documented first steps on a machine the install command set up
(docs/new-space.md, way B, then *Both ways*), against the installed units' command lines
run as plain processes: the broker with the installed configuration, the firmware
service and Home Assistant from their units.

Home Assistant is onboarded; Home Assistant's broker user is created with
``mosquitto_ctrl`` and the generated admin password as broker.md says, and MQTT set up
with it; the Makerhub integration is added, and its first-run flow offers the next steps;
the firmware service is connected with the generated token (the firmware step goes), broker
access is given the generated admin (health's admin login and firmware service items are
healthy), and the test alert fires. Ports are free ones instead of 1883/8099/8123."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
import secrets
from typing import Any

import pytest

from dev.processes.hass_process import HassClient
from dev.processes.ports import free_port
from tests.helpers.hass_socket import HassSocket

from .test_units_run import Started, dynsec, set_setting, start_installed_broker

pytestmark = pytest.mark.e2e


class InstalledHass:
    """What :class:`HassClient` reads of a Home Assistant process, for one started from
    its installed unit."""

    def __init__(self, service: Started, config: Path, port: int) -> None:
        self.service = service
        self.config_dir = config
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = service.log

    @property
    def running(self) -> bool:
        return self.service.process.poll() is None

    def user_onboarded(self) -> bool:
        onboarding = self.config_dir / ".storage" / "onboarding"
        return onboarding.exists() and '"user"' in onboarding.read_text()


async def open_next_steps(client: HassClient) -> list[str]:
    """Return the first-run flow's next steps offered now."""
    issues = (await client.ws({"type": "repairs/list_issues"}))["issues"]
    return sorted(
        issue["issue_id"]
        for issue in issues
        if issue["domain"] == "makerhub" and issue["issue_id"].startswith("next_step_")
    )


async def test_the_documented_first_steps_succeed(
    socket_enabled: None, root: Path, tmp_path: Path, started: list[Started]
) -> None:
    broker, broker_port = start_installed_broker(root, tmp_path)
    try:
        await first_steps(root, tmp_path, started, broker_port)
    finally:
        broker.terminate()
        broker.wait(30)


async def first_steps(root: Path, tmp_path: Path, started: list[Started], broker_port: int) -> None:
    # The broker user for Home Assistant, as broker.md says.
    password = secrets.token_urlsafe(16)
    for command in (
        ("createRole", "homeassistant"),
        ("addRoleACL", "homeassistant", "publishClientSend", "#", "allow"),
        ("addRoleACL", "homeassistant", "publishClientReceive", "#", "allow"),
        ("addRoleACL", "homeassistant", "subscribePattern", "#", "allow"),
        ("createClient", "homeassistant", "-p", password),
        ("addClientRole", "homeassistant", "homeassistant"),
    ):
        done = dynsec(root, broker_port, *command)
        assert done.returncode == 0, done.stdout + done.stderr

    firmware_port = free_port()
    set_setting(root, "firmware.env", "MAKERHUB_FIRMWARE_PORT", str(firmware_port))
    started.append(Started(root, "makerhub-firmware.service", tmp_path / "firmware.log"))

    port = free_port()
    set_setting(root, "homeassistant.env", "MAKERHUB_HASS_OPTIONS", "--skip-pip")
    config = root / "var" / "lib" / "makerhub" / "homeassistant"
    configuration = config / "configuration.yaml"
    configuration.write_text(
        configuration.read_text()
        .replace("server_port: 8123", f"server_port: {port}\n  server_host: 127.0.0.1")
        .replace("default_config:\n", "frontend:\nrepairs:\n")
    )
    service = Started(root, "makerhub-homeassistant.service", tmp_path / "hass.log")
    started.append(service)
    client = HassClient(InstalledHass(service, config, port))  # type: ignore[arg-type]
    try:
        await client.login()  # the onboarding's first user
        await client.wait_running(240)

        # The broker in Home Assistant.
        flow = await client.start_flow("mqtt")
        assert flow["step_id"] == "broker", flow
        result = await client.flow_step(
            flow["flow_id"],
            {
                "broker": "127.0.0.1",
                "port": broker_port,
                "username": "homeassistant",
                "password": password,
            },
        )
        assert result["type"] == "create_entry", result

        # The integration, and its first-run flow's next steps.
        await client.setup_makerhub(broker_host="127.0.0.1", broker_port=broker_port)
        steps = await client.wait_for(
            lambda: open_next_steps(client), lambda steps: len(steps) >= 3, 60, "next steps"
        )
        assert steps == ["next_step_firmware", "next_step_station", "next_step_telemetry"]
        entry = (await client.entries("makerhub"))[0]["entry_id"]

        # The firmware service with the generated token.
        token = (root / "etc" / "makerhub" / "firmware.token").read_text().strip()
        result = await client.options_flow(
            entry,
            {"next_step_id": "firmware"},
            {"firmware_url": f"http://127.0.0.1:{firmware_port}", "firmware_token": token},
        )
        assert result["type"] == "create_entry", result
        await client.wait_for(
            lambda: open_next_steps(client),
            lambda steps: steps == ["next_step_station", "next_step_telemetry"],
            60,
            "the firmware step done",
        )

        # Broker access with the generated admin.
        admin = (root / "etc" / "makerhub" / "broker-admin.secret").read_text().strip()
        result = await client.options_flow(
            entry,
            {"next_step_id": "broker_access"},
            {
                "broker_access": "dynamic_security",
                "broker_admin_host": "127.0.0.1",
                "broker_admin_port": broker_port,
                "broker_admin_username": "admin",
                "broker_admin_password": admin,
            },
        )
        assert result["type"] == "create_entry", result

        def off(state: dict[str, Any] | None) -> bool:
            return state is not None and state["state"] == "off"

        for sensor in (
            "binary_sensor.makerhub_broker_problem",
            "binary_sensor.makerhub_broker_admin_login_problem",
            "binary_sensor.makerhub_firmware_service_problem",
        ):
            await client.wait_for(partial(client.state, sensor), off, 60, sensor)

        # The test alert arrives as a problem event flagged as a test.
        async with HassSocket(client) as socket:
            events = await socket.subscribe_events("makerhub_health_problem")
            await client.call_service(
                "button", "press", {"entity_id": "button.makerhub_send_test_alert"}
            )
            async with asyncio.timeout(30):
                while not events:
                    await asyncio.sleep(0.1)
        assert events[0]["data"]["test"] is True
    finally:
        await client.close()
