"""Firmware in Home Assistant, against the real firmware service and real git: the
options and discovery, a refused token asked for again (reauthentication), repositories as
devices, units made from repositories, their env.json and archives, updates (success,
failure events, timeout) and rollouts. The flows' refusals are in ``test_flow.py``."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
import tarfile
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import BooleanSelector
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
    WebSocketGenerator,
)
import voluptuous as vol

from custom_components.makerhub.const import (
    DOMAIN,
    SUBENTRY_FIRMWARE_UNIT,
    SUBENTRY_REPOSITORY,
)
from custom_components.makerhub.core.firmware_client import (
    FirmwareClient,
)
from custom_components.makerhub.devices import repo_device_id
from custom_components.makerhub.firmware import manager as firmware_module
from custom_components.makerhub.firmware.manager import (
    CONF_FIRMWARE_TOKEN,
    CONF_FIRMWARE_URL,
    DATA_VERSION,
    EVENT_UPDATE_FINISHED,
    ISSUE_REPO,
    UpdateJob,
    UpdateStatus,
    firmware_units,
)
from custom_components.makerhub.secrets import async_get_secret_box, open_text, seal_text
from dev.processes.git_repo import FirmwareGitRepo, git
from dev.processes.ports import free_port
from tests.components.makerhub.conftest import (
    UID,
    reauth_flows,
    reauth_issue,
    state_payload,
    unit_subentry,
)
from tests.components.makerhub.firmware.conftest import (
    add_repository,
    create_unit,
    options,
    register_repo,
    sent_commands,
    sent_update,
    updates,
)
from tests.components.makerhub.test_devices import remove_device
from tests.helpers.firmware_service import TOKEN, FirmwareServer


async def test_options_and_discovery(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: FirmwareServer,
) -> None:
    """The service is checked; the token stored sealed; the add-on's discovery fills it."""
    result = await options(hass, hub, firmware_url=service.base_url, firmware_token="wrong")
    assert result["errors"] == {"base": "firmware_auth"}
    result = await options(
        hass, hub, firmware_url=f"http://127.0.0.1:{free_port()}", firmware_token=TOKEN
    )
    assert result["errors"] == {"base": "firmware_unreachable"}
    result = await options(hass, hub, firmware_url=service.base_url, firmware_token=TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert TOKEN not in hub.options[CONF_FIRMWARE_TOKEN]
    result = await options(hass, hub, firmware_url=service.base_url, firmware_token="***")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await options(hass, hub, firmware_url="")
    assert hub.options[CONF_FIRMWARE_URL] == ""
    # A stored token the key no longer opens: "***" keeps nothing, and the service says no.
    hass.config_entries.async_update_entry(
        hub, options={**hub.options, CONF_FIRMWARE_TOKEN: "v1:not-a-sealed-token"}
    )
    await hass.async_block_till_done()
    result = await options(hass, hub, firmware_url=service.base_url, firmware_token="***")
    assert result["errors"] == {"base": "firmware_auth"}

    info = HassioServiceInfo(
        config={"host": "127.0.0.1", "port": 8099, "token": "t0k"},
        name="Makerhub firmware",
        slug="makerhub_firmware",
        uuid="abc",
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "hassio"}, data=info
    )
    assert result["step_id"] == "hassio_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["reason"] == "firmware_connected"
    assert hub.options[CONF_FIRMWARE_URL] == "http://127.0.0.1:8099"
    # Announced again (the add-on restarted): the hub already uses it.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "hassio"}, data=info
    )
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(hub.entry_id)


async def test_refused_token_is_asked_for_again(
    hass: HomeAssistant,
    firmware_hub: MockConfigEntry,
    service: FirmwareServer,
) -> None:
    """An unreachable service is only retried; a refused token starts a reauthentication
    of the hub asking for the token alone: a wrong one is a form error, the right one is
    stored sealed, the hub reloads and the repair is gone."""
    entry = firmware_hub
    box = await async_get_secret_box(hass)
    sealed = entry.options[CONF_FIRMWARE_TOKEN]

    # The service is away: entities unavailable, nothing asked.
    dead = f"http://127.0.0.1:{free_port()}"
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_FIRMWARE_URL: dead}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not entry.runtime_data.firmware.coordinator.last_update_success
    assert reauth_flows(hass, entry) == []

    # The service answers, but no longer accepts the stored token.
    hass.config_entries.async_update_entry(
        entry,
        options={
            **entry.options,
            CONF_FIRMWARE_URL: service.base_url,
            CONF_FIRMWARE_TOKEN: seal_text(box, "revoked-token", "makerhub firmware"),
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    hub = entry.runtime_data
    assert not hub.firmware.coordinator.last_update_success
    (flow,) = reauth_flows(hass, entry)
    assert flow["step_id"] == "reauth_confirm"
    assert reauth_issue(hass, entry) is not None
    # A second refusal (the next poll) does not start another flow.
    await hub.firmware.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert len(reauth_flows(hass, entry)) == 1

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_FIRMWARE_TOKEN: "still-wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "firmware_auth"}
    assert [str(key) for key in result["data_schema"].schema] == [CONF_FIRMWARE_TOKEN]
    assert result["description_placeholders"]["address"] == service.base_url

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_FIRMWARE_TOKEN: TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    stored = entry.options[CONF_FIRMWARE_TOKEN]
    assert TOKEN not in stored
    assert stored != sealed
    assert open_text(box, stored, "makerhub firmware") == TOKEN
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not hub
    assert entry.runtime_data.firmware.coordinator.last_update_success
    assert hass.states.get("sensor.thermo_sync_error").state == "ok"
    assert reauth_flows(hass, entry) == []
    assert reauth_issue(hass, entry) is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_sync_button_with_refused_token_asks_again(
    hass: HomeAssistant,
    firmware_hub: MockConfigEntry,
    service: FirmwareServer,
    repo: tuple[Any, str, str],
) -> None:
    """The service refuses the token when the Sync button is pressed (changed there since
    the last poll): the press fails saying so, and a reauthentication asks for the token."""
    firmware = firmware_hub.runtime_data.firmware
    firmware.client = FirmwareClient(
        async_get_clientsession(hass), service.base_url, "changed-on-the-service"
    )
    assert reauth_flows(hass, firmware_hub) == []
    with pytest.raises(HomeAssistantError, match="invalid token"):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.thermo_sync"}, blocking=True
        )
    await hass.async_block_till_done()
    (flow,) = reauth_flows(hass, firmware_hub)
    assert flow["step_id"] == "reauth_confirm"


async def test_discovery_needs_the_hub(hass: HomeAssistant) -> None:
    """Without a hub the add-on's discovery waits."""
    info = HassioServiceInfo(
        config={"host": "h", "port": 1, "token": "t"}, name="x", slug="x", uuid="u"
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "hassio"}, data=info
    )
    assert result["reason"] == "hub_first"


async def test_repository_device_sync_and_repairs(
    hass: HomeAssistant,
    firmware_hub: MockConfigEntry,
    service: FirmwareServer,
    repo: tuple[Any, str, str],
    tmp_path: Path,
) -> None:
    """A repository is a device with its last sync, error and a sync button; a failing
    repository raises a repair issue; refused URLs are form errors."""
    entry = firmware_hub
    device = next(
        d
        for d in dr.async_get(hass).devices.values()
        if d.model == "Repository" and entry.entry_id in d.config_entries
    )
    assert device.name == "Thermo"
    assert hass.states.get("sensor.thermo_last_sync").state not in ("unknown", "unavailable")
    assert hass.states.get("sensor.thermo_sync_error").state == "ok"
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.thermo_sync"}, blocking=True
    )

    # The repository disappears upstream: the sync fails, a repair issue says why.
    repo[0].bare.rename(tmp_path / "moved.git")
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.thermo_sync"}, blocking=True
        )
    await hass.async_block_till_done()
    repo_id = next(
        s.data["repo_id"]
        for s in entry.subentries.values()
        if s.subentry_type == SUBENTRY_REPOSITORY
    )
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_REPO}_{repo_id}") is not None
    assert hass.states.get("sensor.thermo_sync_error").state != "ok"

    result = await add_repository(hass, entry, url="ext::sh -c touch% /tmp/pwned")
    assert result["errors"] == {"base": "repo_refused"}

    # Deleting the repository's subentry deletes it from the service.
    subentry_id = next(
        s.subentry_id for s in entry.subentries.values() if s.subentry_type == SUBENTRY_REPOSITORY
    )
    hass.config_entries.async_remove_subentry(entry, subentry_id)
    await hass.async_block_till_done()
    client = entry.runtime_data.firmware.client
    assert client is not None
    assert await client.list_repos() == []
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unit_from_repository_env_and_archives(
    hass: HomeAssistant,
    firmware_hub: MockConfigEntry,
    repo: tuple[Any, str, str],
    hass_client: ClientSessionGenerator,
) -> None:
    """A unit made from a repository: entities from its makerhub.json, env.json merged
    (user > generated > defaults), the unit's own API, the archive for download."""
    entry = firmware_hub
    uid = await create_unit(hass, entry)
    second = repo[2]
    subentry = firmware_units(entry)[uid]
    assert subentry.data[DATA_VERSION] == second[:12]
    assert hass.states.get("sensor.lab_thermo_humidity") is not None
    assert hass.states.get("switch.lab_thermo_relay") is not None
    update = hass.states.get("update.lab_thermo_firmware")
    assert update.attributes["latest_version"] == second[:12]
    assert update.attributes["installed_version"] is None

    client = await hass_client()
    env = await (await client.get(f"/api/makerhub/units/{uid}/env.json")).json()
    assert env["MH_UNIT_ID"] == uid
    assert env["SENSOR_PIN"] == 7
    assert env["LABEL"] == "bench"
    assert env["CLOUD_KEY"] == "k-123"
    assert env["INTERVAL"] == 2.5
    assert env["WIFI_SSID"] == "lab"
    assert env["MH_VERSION"] == second[:12]
    assert env["MH_API_URL"].endswith("/api/makerhub/unit_api")
    token = env["MH_TOKEN"]
    assert token

    # The unit's own API, with its token only.
    api = "/api/makerhub/unit_api/units"
    assert (await client.get(f"{api}/{uid}/env.json")).status == 401
    own = await client.get(f"{api}/{uid}/env.json", headers={"Authorization": f"Bearer {token}"})
    assert (await own.json())["SENSOR_PIN"] == 7
    schema = await client.get(
        f"{api}/{uid}/schema.json", headers={"Authorization": f"Bearer {token}"}
    )
    assert (await schema.json())["unit"] == uid

    # The archive to flash, with the unit's files in it.
    response = await client.get(f"/api/makerhub/units/{uid}/firmware.tar.gz")
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    with tarfile.open(fileobj=io.BytesIO(await response.read()), mode="r:gz") as archive:
        names = archive.getnames()
        inside = json.loads(archive.extractfile("env.json").read())  # type: ignore[union-attr]
    assert "main.py" in names
    assert "examples/demo.py" not in names
    assert inside["SENSOR_PIN"] == 7
    assert (await client.get(f"/api/makerhub/units/{uid}/firmware.zip")).status == 200

    # Env values change in the reconfigure flow and reach the unit with env_update.
    result = await entry.start_subentry_reconfigure_flow(
        hass, SUBENTRY_FIRMWARE_UNIT, subentry.subentry_id
    )
    fields = {str(marker): marker for marker in result["data_schema"].schema}
    assert isinstance(fields["CLOUD_KEY"], vol.Required)  # declared without a default
    assert isinstance(fields["SENSOR_PIN"], vol.Optional)
    assert fields["CLOUD_KEY"].description == {"suggested_value": "k-123"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"track": "v1.0.0", "SENSOR_PIN": 7.5, "CLOUD_KEY": ""}
    )
    assert result["errors"] == {"base": "invalid_env"}
    assert result["description_placeholders"]["error"] == (
        "SENSOR_PIN: SENSOR_PIN: must be an integer, not a number; "
        "CLOUD_KEY: required (the repository gives no default)"
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"track": "v1.0.0", "SENSOR_PIN": 9, "CLOUD_KEY": "k-123"}
    )
    assert result["type"] is FlowResultType.ABORT
    env = await (await client.get(f"/api/makerhub/units/{uid}/env.json")).json()
    assert env["SENSOR_PIN"] == 9
    await hass.async_block_till_done()
    assert firmware_units(entry)[uid].data["track"] == "v1.0.0"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_pepeunit_unit_env_has_every_declared_key_and_hides_secrets(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    firmware_hub: MockConfigEntry,
    tmp_path: Path,
    hass_client: ClientSessionGenerator,
) -> None:
    """A Pepeunit repository declaring WIFI_SSID/WIFI_PASS as "": the form asks for
    WIFI_PASS (and the token-like key) as passwords, env.json has every declared key (the
    default when nothing was typed), and a typed password is neither stored in clear nor
    shown in diagnostics."""
    assert await async_setup_component(hass, "diagnostics", {})  # before the client starts
    entry = firmware_hub
    pepe = FirmwareGitRepo(tmp_path / "pepe", "fan-unit")
    pepe.commit(
        "Pepeunit fan",
        {
            "schema_example.json": {"output_topic": ["temperature/pepeunit"]},
            "env_example.json": {
                "WIFI_SSID": "",
                "WIFI_PASS": "",
                "PWM_FAN_PIN": 0,
                "PU_AUTH_TOKEN": "repo-default-token",
                "DEBUG": False,
            },
        },
    )
    repo_id = await register_repo(hass, entry, pepe.url, "Fan")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_FIRMWARE_UNIT), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Fan", "repo_id": repo_id}
    )
    assert result["step_id"] == "env", result
    selectors = {str(marker): field for marker, field in result["data_schema"].schema.items()}
    assert list(selectors) == ["WIFI_SSID", "WIFI_PASS", "PWM_FAN_PIN", "PU_AUTH_TOKEN", "DEBUG"]
    assert isinstance(selectors["DEBUG"], BooleanSelector)
    secret = {"type": "password", "multiline": False, "multiple": False}
    assert selectors["WIFI_PASS"].config == secret
    assert selectors["PU_AUTH_TOKEN"].config == secret
    assert selectors["WIFI_SSID"].config.get("type") != "password"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"PWM_FAN_PIN": 5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    uid = next(uid for uid, s in firmware_units(entry).items() if s.title == "Fan")
    client = await hass_client()
    env = await (await client.get(f"/api/makerhub/units/{uid}/env.json")).json()
    assert {
        key: env[key] for key in ("WIFI_SSID", "WIFI_PASS", "PWM_FAN_PIN", "PU_AUTH_TOKEN")
    } == {
        "WIFI_SSID": "",
        "WIFI_PASS": "",
        "PWM_FAN_PIN": 5,
        "PU_AUTH_TOKEN": "repo-default-token",
    }

    subentry = firmware_units(entry)[uid]
    result = await entry.start_subentry_reconfigure_flow(
        hass, SUBENTRY_FIRMWARE_UNIT, subentry.subentry_id
    )
    selectors = {str(marker): field for marker, field in result["data_schema"].schema.items()}
    assert selectors["WIFI_PASS"].config == secret
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"WIFI_SSID": "makerspace", "WIFI_PASS": "hunter2-wifi", "PU_AUTH_TOKEN": "jwt-secret"},
    )
    assert result["type"] is FlowResultType.ABORT
    env = await (await client.get(f"/api/makerhub/units/{uid}/env.json")).json()
    assert (env["WIFI_SSID"], env["WIFI_PASS"], env["PU_AUTH_TOKEN"]) == (
        "makerspace",
        "hunter2-wifi",
        "jwt-secret",
    )
    assert env["PWM_FAN_PIN"] == 0
    assert env["DEBUG"] is False
    assert [c["cmd"] for c in sent_commands(mqtt_mock, uid)] == ["env_update"]
    result = await entry.start_subentry_reconfigure_flow(
        hass, SUBENTRY_FIRMWARE_UNIT, subentry.subentry_id
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"WIFI_SSID": "makerspace", "WIFI_PASS": "hunter2-wifi", "PU_AUTH_TOKEN": "jwt-secret"},
    )
    assert result["type"] is FlowResultType.ABORT
    await hass.async_block_till_done()
    assert [c["cmd"] for c in sent_commands(mqtt_mock, uid)] == ["env_update"]  # no change
    stored = json.dumps([dict(s.data) for s in entry.subentries.values()])
    diagnostics = json.dumps(await get_diagnostics_for_config_entry(hass, hass_client, entry))
    typed = ("hunter2-wifi", "jwt-secret", env["MH_MQTT_PASSWORD"], env["MH_TOKEN"])
    assert not [plain for plain in typed if plain in stored]
    # The repository's own default of a secret key is in the stored schema (it is in the
    # repository too), but diagnostics do not show it.
    assert not [plain for plain in (*typed, "repo-default-token") if plain in diagnostics]
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("hub_subentries", [[unit_subentry()]])
async def test_unit_file_endpoints_say_why_not(
    hass: HomeAssistant,
    firmware_hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    hass_read_only_access_token: str,
) -> None:
    """Each refusal of the unit file endpoints has its status and says why; with the hub
    unloaded they answer 503 instead of failing."""
    entry = firmware_hub
    uid = await create_unit(hass, entry)
    admin = await hass_client()
    files = "/api/makerhub/units"
    token = (await (await admin.get(f"{files}/{uid}/env.json")).json())["MH_TOKEN"]
    other_token = (await (await admin.get(f"{files}/{UID}/env.json")).json())["MH_TOKEN"]
    assert other_token != token

    async def refused(client: Any, path: str, status: int, headers: Any = None) -> str:
        response = await client.get(path, headers=headers)
        assert response.status == status, path
        message: str = (await response.json())["message"]
        return message

    reader = await hass_client(hass_read_only_access_token)
    assert "administrators" in await refused(reader, f"{files}/{uid}/env.json", 403)
    assert "not made from a repository" in await refused(admin, f"{files}/{UID}/firmware.zip", 404)
    assert await refused(admin, f"{files}/nounit/env.json", 404) == "no unit nounit"
    assert "firmware.zip" in await refused(admin, f"{files}/{uid}/secrets.txt", 404)

    # The unit's own API: its own token only, and only its two files.
    api = "/api/makerhub/unit_api/units"
    unit = await hass_client_no_auth()
    other = {"Authorization": f"Bearer {other_token}"}
    own = {"Authorization": f"Bearer {token}"}
    assert "token" in await refused(unit, f"{api}/{uid}/env.json", 401, other)
    assert await refused(unit, f"{api}/{uid}/firmware.zip", 404, own) == "env.json or schema.json"
    archive = f"{api}/{uid}/archive/abc?expires=1&sig=00"
    assert "invalid or expired" in await refused(unit, archive, 403)

    await hass.config_entries.async_unload(entry.entry_id)
    for client, path, headers in (
        (admin, f"{files}/{uid}/env.json", None),
        (unit, f"{api}/{uid}/env.json", own),
        (unit, archive, None),
    ):
        assert await refused(client, path, 503, headers) == "the Makerhub hub is not running"


async def test_install_success_failure_timeout_and_signed_urls(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    firmware_hub: MockConfigEntry,
    repo: tuple[Any, str, str],
    hass_client_no_auth: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Install sends the signed URL and sha256; success when the unit reports the
    version, error on rolled_back or silence."""
    monkeypatch.setattr(firmware_module, "MIN_TIMEOUT", 0.5)
    monkeypatch.setattr(firmware_module, "TIMEOUT_FACTOR", 0.0)
    entry = firmware_hub
    uid = await create_unit(hass, entry)
    second = repo[2]
    firmware = entry.runtime_data.firmware
    assert firmware is not None
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "online")
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload("v1.0.0"))
    await hass.async_block_till_done()
    events = async_capture_events(hass, EVENT_UPDATE_FINISHED)

    # Success: the unit reports the new version.
    task = hass.async_create_task(firmware.async_install(uid))
    while not updates(mqtt_mock, uid):
        await asyncio.sleep(0.01)
    command = sent_update(mqtt_mock, uid)
    assert command["version"] == second[:12]
    assert len(command["sha256"]) == 64
    client = await hass_client_no_auth()
    path = command["url"].split("8123", 1)[-1] if "8123" in command["url"] else command["url"]
    path = path[path.index("/api/") :]
    download = await client.get(path)
    assert download.status == 200
    assert len(await download.read()) == command["size"]
    assert (await client.get(path.replace("sig=", "sig=0"))).status == 403
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload(second[:12]))
    job = await task
    assert job.status is UpdateStatus.SUCCESS
    assert events[-1].data["result"] == "success"
    assert hass.states.get("update.lab_thermo_firmware").state == "off"

    # A rollback: the unit says so.
    task = hass.async_create_task(firmware.async_install(uid, "v1.0.0"))
    while (
        len([c for c in mqtt_mock.async_publish.call_args_list if '"update"' in str(c.args[1])]) < 2
    ):
        await asyncio.sleep(0.01)
    async_fire_mqtt_message(
        hass,
        f"makerhub/{uid}/sys/event",
        json.dumps({"event": "rolled_back", "version": "v1.0.0", "error": "crashed on start"}),
    )
    job = await task
    assert job.status is UpdateStatus.ERROR
    assert "crashed on start" in (job.error or "")

    # Silence: the timeout.
    with pytest.raises(HomeAssistantError, match="in time"):
        await hass.services.async_call(
            "update",
            "install",
            {"entity_id": "update.lab_thermo_firmware", "version": "v1.0.0"},
            blocking=True,
        )
    with pytest.raises(HomeAssistantError, match="no version"):
        await firmware.async_install(uid, "v9.9.9")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_rollout_stops_after_failures(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    firmware_hub: MockConfigEntry,
    repo: tuple[Any, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rollout of units that never answer stops at its failure limit."""
    monkeypatch.setattr(firmware_module, "MIN_TIMEOUT", 0.3)
    monkeypatch.setattr(firmware_module, "TIMEOUT_FACTOR", 0.0)
    entry = firmware_hub
    uids = [await create_unit(hass, entry, f"Unit {n}") for n in range(3)]
    for uid in uids:
        async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "online")
        async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload("old"))
    await hass.async_block_till_done()
    events = async_capture_events(hass, EVENT_UPDATE_FINISHED)
    response = await hass.services.async_call(
        DOMAIN,
        "update_units",
        {"batch_size": 1, "max_failures": 2},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert sorted(response["units"]) == sorted(uids)
    await hass.async_block_till_done(wait_background_tasks=True)
    summary = events[-1].data
    assert summary["unit"] is None
    assert summary["state"] == "stopped"
    assert summary["failed"] == 2
    assert summary["skipped"] == 1
    assert hass.states.get("sensor.makerhub_firmware_rollout").state == "stopped"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_diagnostics_redact_the_token(
    hass: HomeAssistant,
    firmware_hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """Diagnostics list repositories and units; the service token and the unit's secret
    values are redacted, the repository's plain defaults shown."""
    uid = await create_unit(hass, firmware_hub)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, firmware_hub)
    assert diagnostics["hub"]["units"][uid]["schema"]["env"] == {
        "SENSOR_PIN": {"type": "int", "default": 4},
        "LABEL": {"type": "str", "default": "bench"},
        "CLOUD_KEY": {"type": "str", "secret": "**REDACTED**"},  # TO_REDACT has "secret"
        "INTERVAL": {"type": "float", "default": 2.5},
    }
    assert "k-123" not in json.dumps(diagnostics)
    assert diagnostics["entry"]["options"][CONF_FIRMWARE_TOKEN] == "**REDACTED**"
    (repository,) = diagnostics["firmware"]["repositories"].values()
    assert repository["name"] == "Thermo"
    assert repository["last_error"] is None
    assert TOKEN not in json.dumps(diagnostics)
    await hass.config_entries.async_unload(firmware_hub.entry_id)


async def test_repository_and_unit_device_diagnostics(
    hass: HomeAssistant,
    firmware_hub: MockConfigEntry,
    repo: tuple[Any, str, str],
    hass_client: ClientSessionGenerator,
) -> None:
    """A repository's device: its syncs, branches and tags, the units made from it. The
    device of a unit made from it: its repository, version and env values, the secret
    ones redacted."""
    entry = firmware_hub
    uid = await create_unit(hass, entry)
    second = repo[2]
    (repo_id,) = (
        s.data["repo_id"]
        for s in entry.subentries.values()
        if s.subentry_type == SUBENTRY_REPOSITORY
    )
    registry = dr.async_get(hass)
    device = registry.async_get_device(identifiers={(DOMAIN, repo_device_id(repo_id))})
    assert device is not None
    diagnostics = await get_diagnostics_for_device(hass, hass_client, entry, device)
    assert diagnostics["device"] == {"kind": "repository", "id": repo_id, "exists": True}
    assert diagnostics["repository"] == {"name": "Thermo", "url": repo[0].url}
    assert diagnostics["sync"]["last_error"] is None
    assert diagnostics["sync"]["last_sync"] is not None
    assert diagnostics["sync"]["has_credentials"] is False
    refs = diagnostics["refs"]
    assert refs["tags"] == ["v1.0.0"]
    assert refs["branches"] == [refs["default_branch"]]
    assert diagnostics["units"] == {
        uid: {"name": "Lab thermo", "track": "", "version": second[:12], "auto_update": False}
    }

    device = registry.async_get_device(identifiers={(DOMAIN, uid)})
    assert device is not None
    diagnostics = await get_diagnostics_for_device(hass, hass_client, entry, device)
    assert diagnostics["device"] == {"kind": "unit", "id": uid, "exists": True}
    assert diagnostics["unit"]["name"] == "Lab thermo"
    firmware = diagnostics["firmware"]
    assert firmware["repository"] == repo_id
    assert (firmware["track"], firmware["commit"], firmware["version"]) == (
        "",
        second,
        second[:12],
    )
    assert firmware["latest"] == [second, second[:12]]
    assert firmware["env"] == {"SENSOR_PIN": 7, "CLOUD_KEY": "**REDACTED**", "WIFI_SSID": "lab"}
    assert firmware["update"] is None
    assert "k-123" not in json.dumps(diagnostics)

    # An update that failed shows, on the unit's device and the hub's.
    job = UpdateJob(uid, "v1.0.0", repo[1], deadline=0.0)
    job.finish(UpdateStatus.ERROR, "rolled_back: crashed on start")
    entry.runtime_data.firmware.jobs[uid] = job  # type: ignore[union-attr]
    expected = {"version": "v1.0.0", "status": "error", "error": "rolled_back: crashed on start"}
    diagnostics = await get_diagnostics_for_device(hass, hass_client, entry, device)
    assert diagnostics["firmware"]["update"] == expected
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["firmware"]["updates"] == {uid: expected}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_repository_and_unit_devices_go_with_their_subentries(
    hass: HomeAssistant, firmware_hub: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The devices of a stored repository and of a unit made from it cannot be deleted on
    their page; deleting their subentries removes them."""
    entry = firmware_hub
    uid = await create_unit(hass, entry)
    registry = dr.async_get(hass)
    repo_id, repo_subentry_id = next(
        (s.data["repo_id"], s.subentry_id)
        for s in entry.subentries.values()
        if s.subentry_type == SUBENTRY_REPOSITORY
    )
    devices = {
        identifier: registry.async_get_device(identifiers={(DOMAIN, identifier)})
        for identifier in (repo_device_id(repo_id), uid)
    }
    for identifier, device in devices.items():
        assert device is not None, identifier
        response = await remove_device(hass, hass_ws_client, entry, device.id)
        assert not response["success"], identifier
        assert registry.async_get(device.id) is not None
    assert hass.config_entries.async_remove_subentry(entry, firmware_units(entry)[uid].subentry_id)
    assert hass.config_entries.async_remove_subentry(entry, repo_subentry_id)
    await hass.async_block_till_done()
    for identifier, device in devices.items():
        assert device is not None
        assert registry.async_get(device.id) is None, identifier
    await hass.config_entries.async_unload(entry.entry_id)


async def test_install_refusals_and_the_units_events(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    firmware_hub: MockConfigEntry,
    repo: tuple[Any, str, str],
    hass_client_no_auth: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An install refused (no such unit, one already running, the service away); events
    with no update running or about other versions change nothing, update_started marks it in
    progress; once done, a late failure event does not undo it; a bad URL expiry is 403."""
    monkeypatch.setattr(firmware_module, "MIN_TIMEOUT", 30.0)  # the unit answers long before
    monkeypatch.setattr(firmware_module, "TIMEOUT_FACTOR", 0.0)
    entry = firmware_hub
    uid = await create_unit(hass, entry)
    second = repo[2]
    firmware = entry.runtime_data.firmware
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "online")
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload("v1.0.0"))
    await hass.async_block_till_done()

    with pytest.raises(HomeAssistantError, match="not a unit made from a repository"):
        await firmware.async_install("0123456789ab")

    def unit_event(**data: Any) -> None:
        async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/event", json.dumps(data))

    unit_event(event="update_failed", version="v0.9.0", error="before any update of ours")
    await hass.async_block_till_done()
    assert uid not in firmware.jobs

    task = hass.async_create_task(firmware.async_install(uid))
    while not updates(mqtt_mock, uid):
        await asyncio.sleep(0.01)
    with pytest.raises(HomeAssistantError, match="an update of this unit is running"):
        await firmware.async_install(uid)
    job = firmware.jobs[uid]
    assert job.status is UpdateStatus.REQUEST_SENT
    # Handled in order: had the first finished the job, update_started would be ignored.
    unit_event(event="rolled_back", version="v0.9.0", error="an older update")
    unit_event(event="update_ok", version=second[:12])  # success is the state report
    unit_event(event="update_started", version=second[:12])
    while job.status is UpdateStatus.REQUEST_SENT:
        await asyncio.sleep(0.01)
    assert job.status is UpdateStatus.IN_PROGRESS
    assert not job.done.is_set()
    assert hass.states.get("update.lab_thermo_firmware").attributes["in_progress"] is True

    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload(second[:12]))
    assert (await task).status is UpdateStatus.SUCCESS
    unit_event(event="rolled_back", version=second[:12], error="too late")
    await hass.async_block_till_done()
    assert job.status is UpdateStatus.SUCCESS
    assert job.error is None

    client = await hass_client_no_auth()
    url = sent_update(mqtt_mock, uid)["url"]
    path = url[url.index("/api/") :]
    expires = path.split("expires=", 1)[1].split("&", 1)[0]
    assert (await client.get(path.replace(f"expires={expires}", "expires=soon"))).status == 403

    firmware.client = FirmwareClient(
        async_get_clientsession(hass), f"http://127.0.0.1:{free_port()}", TOKEN
    )
    with pytest.raises(HomeAssistantError) as caught:
        await firmware.async_install(uid, "v1.0.0")
    assert caught.value.translation_key == "firmware_failed"
    assert "cannot reach the firmware service" in caught.value.translation_placeholders["error"]
    assert firmware.jobs[uid] is job  # nothing was sent: the last job stays
    await hass.config_entries.async_unload(entry.entry_id)


async def test_tracked_branch_or_repository_gone_from_the_service(
    hass: HomeAssistant,
    firmware_hub: MockConfigEntry,
    repo: tuple[Any, str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A unit tracking a branch deleted upstream: no latest version, nothing outdated, an
    install of 'the latest' says why not. The repository deleted on the service: no status.
    Its subentry deleted while the service is away: a warning, the repair issue goes."""
    entry = firmware_hub
    firmware = entry.runtime_data.firmware
    git_repo, first, _ = repo
    git_repo.branch("stable", first)
    (repo_id,) = (
        s.data["repo_id"]
        for s in entry.subentries.values()
        if s.subentry_type == SUBENTRY_REPOSITORY
    )
    await firmware.async_sync(repo_id)
    uid = await create_unit(hass, entry, track="stable")
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "online")
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload("old"))
    await hass.async_block_till_done()
    assert firmware.latest(uid) == (first, "v1.0.0")
    assert firmware.outdated(uid)
    assert firmware.latest("0123456789ab") is None  # not a unit made from a repository

    git(git_repo.work, "branch", "-D", "stable")
    git(git_repo.work, "push", "-q", "origin", "--delete", "stable")
    await firmware.async_sync(repo_id)
    assert firmware.latest(uid) is None
    assert not firmware.outdated(uid)
    update = hass.states.get("update.lab_thermo_firmware")
    assert update.attributes["latest_version"] == "old"  # nothing newer known
    with pytest.raises(HomeAssistantError, match="the tracked ref does not exist"):
        await firmware.async_install(uid)

    client = firmware.client
    assert client is not None
    await client.delete_repo(repo_id)
    await firmware.coordinator.async_refresh()
    assert firmware.status(repo_id) is None
    assert firmware.latest(uid) is None

    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{ISSUE_REPO}_{repo_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_REPO,
    )
    firmware.client = FirmwareClient(
        async_get_clientsession(hass), f"http://127.0.0.1:{free_port()}", TOKEN
    )
    subentry_id = next(
        s.subentry_id for s in entry.subentries.values() if s.subentry_type == SUBENTRY_REPOSITORY
    )
    hass.config_entries.async_remove_subentry(entry, subentry_id)
    await hass.async_block_till_done()
    assert f"Could not delete repository {repo_id}" in caplog.text
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_REPO}_{repo_id}") is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_env_values_that_cannot_be_decrypted_fall_back_to_the_defaults(
    hass: HomeAssistant, firmware_hub: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """The unit's stored env values unreadable (the key changed): the env.json has the
    declared defaults, an error names the unit; none stored: the defaults too."""
    entry = firmware_hub
    firmware = entry.runtime_data.firmware
    uid = await create_unit(hass, entry)
    assert (firmware.env(uid)["SENSOR_PIN"], firmware.env(uid)["CLOUD_KEY"]) == (7, "k-123")
    subentry = firmware_units(entry)[uid]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "env": "v1:sealed-with-another-key"}
    )
    assert firmware.env(uid)["SENSOR_PIN"] == 4
    assert "The env values of Lab thermo cannot be decrypted" in caplog.text
    subentry = firmware_units(entry)[uid]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={k: v for k, v in subentry.data.items() if k != "env"}
    )
    env = firmware.env(uid)
    assert (env["SENSOR_PIN"], env["LABEL"]) == (4, "bench")
    assert "CLOUD_KEY" not in env
    await hass.config_entries.async_unload(entry.entry_id)


async def test_firmware_calls_without_the_service(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    """Without the firmware service, a sync says to set it up first."""
    firmware = hub.runtime_data.firmware
    assert firmware.client is None
    with pytest.raises(HomeAssistantError) as caught:
        await firmware.async_sync("any-repository")
    assert caught.value.translation_key == "firmware_not_configured"
    await hass.config_entries.async_unload(hub.entry_id)


async def test_stored_token_that_cannot_be_decrypted_is_asked_for_again(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: FirmwareServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A token sealed with another key: an error at start, and the service's refusal of the
    empty token asks for it again."""
    hass.config_entries.async_update_entry(
        hub,
        options={
            **hub.options,
            CONF_FIRMWARE_URL: service.base_url,
            CONF_FIRMWARE_TOKEN: "v1:sealed-with-another-key",
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "The firmware service token cannot be decrypted" in caplog.text
    assert not hub.runtime_data.firmware.coordinator.last_update_success
    (flow,) = reauth_flows(hass, hub)
    assert flow["step_id"] == "reauth_confirm"
    await hass.config_entries.async_unload(hub.entry_id)


async def test_auto_update_follows_the_tracked_ref(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    firmware_hub: MockConfigEntry,
    repo: tuple[Any, str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A unit set to update itself: not while it is offline, once when it runs something
    else than the ref's head (a poll meanwhile starts no second one), and a broken commit
    pushed later fails with a warning, the unit left as it is."""
    monkeypatch.setattr(firmware_module, "MIN_TIMEOUT", 30.0)  # the unit answers long before
    monkeypatch.setattr(firmware_module, "TIMEOUT_FACTOR", 0.0)
    entry = firmware_hub
    firmware = entry.runtime_data.firmware
    git_repo, _, second = repo
    uid = await create_unit(hass, entry, auto_update=True)
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload("v1.0.0"))
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "offline")
    await hass.async_block_till_done()
    assert firmware.outdated(uid)
    await firmware.coordinator.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert updates(mqtt_mock, uid) == []  # offline: not now

    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "online")
    await hass.async_block_till_done()
    await firmware.coordinator.async_refresh()
    while not updates(mqtt_mock, uid):
        await asyncio.sleep(0.01)
    assert sent_update(mqtt_mock, uid)["version"] == second[:12]
    await firmware.coordinator.async_refresh()  # the update runs: no second one
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload(second[:12]))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert firmware.jobs[uid].status is UpdateStatus.SUCCESS
    assert len(updates(mqtt_mock, uid)) == 1
    assert "Auto-updating Lab thermo" in caplog.text

    broken = git_repo.commit("Broken", {"makerhub.json": {"name": 5}})
    (repo_id,) = (
        s.data["repo_id"]
        for s in entry.subentries.values()
        if s.subentry_type == SUBENTRY_REPOSITORY
    )
    await firmware.async_sync(repo_id)  # the poll that finds the new head acts on it
    await hass.async_block_till_done(wait_background_tasks=True)
    assert f"Auto-update of {uid} failed" in caplog.text
    assert f"commit {broken[:12]} is not a valid unit repository" in caplog.text
    assert len(updates(mqtt_mock, uid)) == 1
    assert firmware.jobs[uid].status is UpdateStatus.SUCCESS
    await hass.config_entries.async_unload(entry.entry_id)
