"""Firmware in Home Assistant, against the real firmware service and real git: the
options and discovery, a refused token asked for again (reauthentication), repositories as
devices, units made from repositories, their env.json and archives, updates (success,
failure events, timeout) and rollouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import io
import json
from pathlib import Path
import random
import tarfile
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir, selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
)

from custom_components.makerhub import firmware as firmware_module
from custom_components.makerhub.const import (
    DOMAIN,
    SUBENTRY_FIRMWARE_UNIT,
    SUBENTRY_REPOSITORY,
)
from custom_components.makerhub.core.firmware_client import FirmwareClient
from custom_components.makerhub.firmware import (
    CONF_FIRMWARE_TOKEN,
    CONF_FIRMWARE_URL,
    DATA_VERSION,
    EVENT_UPDATE_FINISHED,
    ISSUE_REPO,
    UpdateStatus,
    firmware_units,
    open_text,
    seal_text,
)
from custom_components.makerhub.secrets import async_get_secret_box
from makerhub_firmware.payloads import DEFAULT_SIZE_LIMIT
from tests.helpers.firmware_service import (
    TOKEN,
    FirmwareGitRepo,
    FirmwareServer,
    git,
    thermometer_repo,
)
from tests.helpers.ports import free_port

from .conftest import UID, reauth_flows, reauth_issue, state_payload, unit_subentry


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """No adopted units."""
    return []


@pytest.fixture
async def service(socket_enabled: None, tmp_path: Path) -> AsyncIterator[FirmwareServer]:
    """The real firmware service."""
    async with FirmwareServer(tmp_path / "firmware") as server:
        yield server


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Any, str, str]:
    """A bare git repository with two commits (v1.0.0 tags the first)."""
    return thermometer_repo(tmp_path / "git")


async def options(hass: HomeAssistant, entry: MockConfigEntry, **fields: Any) -> dict[str, Any]:
    """Fill the firmware options form."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "firmware"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], fields)
    await hass.async_block_till_done()
    return result


async def start_flow(hass: HomeAssistant, entry: MockConfigEntry, kind: str) -> dict[str, Any]:
    """Start a subentry flow of ``kind`` from the UI; return its first result."""
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind), context={"source": "user"}
    )


async def add_repository(
    hass: HomeAssistant, entry: MockConfigEntry, **fields: Any
) -> dict[str, Any]:
    """Fill the repository form; return the result."""
    result = await start_flow(hass, entry, SUBENTRY_REPOSITORY)
    assert result["step_id"] == "user", result
    return await hass.config_entries.subentries.async_configure(result["flow_id"], fields)


def repository_titles(entry: MockConfigEntry) -> list[str]:
    """Return the titles of the repositories registered in the hub."""
    return [s.title for s in entry.subentries.values() if s.subentry_type == SUBENTRY_REPOSITORY]


@pytest.fixture
async def firmware_hub(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: FirmwareServer,
    repo: tuple[Any, str, str],
) -> MockConfigEntry:
    """The hub using the firmware service, with the repository registered."""
    result = await options(hass, hub, firmware_url=service.base_url, firmware_token=TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await add_repository(hass, hub, url=repo[0].url, name="Thermo", sync_hours=0)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return hub


async def create_unit(
    hass: HomeAssistant, entry: MockConfigEntry, name: str = "Lab thermo", track: str = ""
) -> str:
    """Create a unit from the repository; return its uid."""
    repo_id = next(
        s.data["repo_id"]
        for s in entry.subentries.values()
        if s.subentry_type == SUBENTRY_REPOSITORY
    )
    result = await start_flow(hass, entry, SUBENTRY_FIRMWARE_UNIT)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": name, "repo_id": repo_id, "track": track}
    )
    assert result["step_id"] == "env", result
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"SENSOR_PIN": 7, "CLOUD_KEY": "k-123", "WIFI_SSID": "lab"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    return next(uid for uid, s in firmware_units(entry).items() if s.title == name)


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


async def test_firmware_flows_need_the_hub_the_service_and_a_repository(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: FirmwareServer,
) -> None:
    """Registering a repository or making a unit from one stops at once, saying why, while
    the firmware service is not configured or the hub is not running; a unit needs a
    registered repository."""
    for kind in (SUBENTRY_REPOSITORY, SUBENTRY_FIRMWARE_UNIT):
        result = await start_flow(hass, hub, kind)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "firmware_not_configured"

    result = await options(hass, hub, firmware_url=service.base_url, firmware_token=TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await start_flow(hass, hub, SUBENTRY_FIRMWARE_UNIT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_repositories"

    assert await hass.config_entries.async_unload(hub.entry_id)
    for kind in (SUBENTRY_REPOSITORY, SUBENTRY_FIRMWARE_UNIT):
        result = await start_flow(hass, hub, kind)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "hub_not_loaded"
    assert repository_titles(hub) == []


async def test_repository_flow_says_why_not(
    hass: HomeAssistant, firmware_hub: MockConfigEntry, tmp_path: Path
) -> None:
    """A repository the service cannot fetch, one over the service's size limit, and a
    service that does not answer are form errors with the service's reason; nothing is
    registered, in Home Assistant or on the service."""
    entry = firmware_hub
    client = entry.runtime_data.firmware.client
    assert client is not None

    missing = f"file://{tmp_path / 'missing.git'}"
    result = await add_repository(hass, entry, url=missing)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "firmware_error"}
    assert "git fetch failed" in result["description_placeholders"]["error"]

    big = FirmwareGitRepo(tmp_path / "big", "big")
    noise = random.Random(0).randbytes(DEFAULT_SIZE_LIMIT + 1024 * 1024)  # not compressible
    big.commit("Add the datasheets", {"datasheets.bin": noise})
    result = await add_repository(hass, entry, url=big.url, name="Big")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "repo_too_large"}
    assert (
        f"size limit of {DEFAULT_SIZE_LIMIT} bytes" in result["description_placeholders"]["error"]
    )
    assert [r.name for r in await client.list_repos()] == ["Thermo"]

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_FIRMWARE_URL: f"http://127.0.0.1:{free_port()}"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await add_repository(hass, entry, url=big.url, name="Big")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "firmware_unreachable"}
    assert repository_titles(entry) == ["Thermo"]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unit_flow_says_what_is_wrong(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    firmware_hub: MockConfigEntry,
    repo: tuple[Any, str, str],
) -> None:
    """A unit's name, ref and env values are checked: a bad or taken name, a ref the
    repository lacks, a commit that does not validate and a value that does not fit are
    form errors. The env form follows the repository's declarations (a boolean, its own
    WIFI_SSID); an empty value keeps the default. Changing only the ref sends the unit
    nothing; changed values reach it with env_update."""
    entry = firmware_hub
    await create_unit(hass, entry, "Lab thermo")
    work = repo[0]
    declared = json.loads((work.work / "makerhub.json").read_text())
    declared["env"]["DEBUG"] = {"type": "bool", "default": False}
    declared["env"]["WIFI_SSID"] = {"type": "str", "default": "makerspace"}
    git(work.work, "checkout", "-q", "-b", "extras")
    work.commit("A debug switch and the space's Wi-Fi", {"makerhub.json": declared})
    git(work.work, "checkout", "-q", "-b", "broken")
    work.commit("Half-done", {"makerhub.json": {"name": "Bench thermometer", "outputs": 3}})
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.thermo_sync"}, blocking=True
    )
    repo_id = next(
        s.data["repo_id"]
        for s in entry.subentries.values()
        if s.subentry_type == SUBENTRY_REPOSITORY
    )
    result = await start_flow(hass, entry, SUBENTRY_FIRMWARE_UNIT)
    flow_id = result["flow_id"]

    async def user_step(name: str, track: str = "") -> dict[str, Any]:
        return await hass.config_entries.subentries.async_configure(
            flow_id, {"name": name, "repo_id": repo_id, "track": track}
        )

    for name in ("   ", "x" * 65):
        result = await user_step(name)
        assert result["errors"] == {"name": "invalid_name"}
    result = await user_step(" LAB THERMO ")
    assert result["errors"] == {"name": "name_taken"}
    result = await user_step("Workshop thermo", "nightly")
    assert result["errors"] == {"base": "unknown_ref"}
    assert result["description_placeholders"]["error"] == "nightly is not in the repository"
    result = await user_step("Workshop thermo", "broken")
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "repo_invalid"}
    assert "outputs" in result["description_placeholders"]["error"]

    result = await user_step("Workshop thermo", "extras")
    assert result["step_id"] == "env"
    form = result["data_schema"].schema
    keys = {str(key): key for key in form}
    assert [str(key) for key in form] == [*declared["env"], "WIFI_PASS"]
    assert isinstance(form[keys["DEBUG"]], selector.BooleanSelector)
    assert keys["WIFI_SSID"].description == {"suggested_value": "makerspace"}
    result = await hass.config_entries.subentries.async_configure(flow_id, {"SENSOR_PIN": 7.5})
    assert result["step_id"] == "env"
    assert result["errors"] == {"base": "invalid_env"}
    assert result["description_placeholders"]["error"].startswith("SENSOR_PIN: ")
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"DEBUG": True, "LABEL": "", "WIFI_SSID": "lab-2g"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    uid = next(uid for uid, s in firmware_units(entry).items() if s.title == "Workshop thermo")
    subentry = firmware_units(entry)[uid]
    assert subentry.data["track"] == "extras"
    firmware = entry.runtime_data.firmware
    assert firmware.user_env(subentry) == {"DEBUG": True, "WIFI_SSID": "lab-2g"}

    async def reconfigure(**fields: Any) -> dict[str, Any]:
        result = await entry.start_subentry_reconfigure_flow(
            hass, SUBENTRY_FIRMWARE_UNIT, subentry.subentry_id
        )
        result = await hass.config_entries.subentries.async_configure(result["flow_id"], fields)
        await hass.async_block_till_done()
        return result

    result = await reconfigure(track="v1.0.0", DEBUG=True, WIFI_SSID="lab-2g")
    assert result["reason"] == "reconfigure_successful"
    assert firmware_units(entry)[uid].data["track"] == "v1.0.0"
    assert "env_update" not in commands(mqtt_mock, uid)
    result = await reconfigure(track="v1.0.0", DEBUG=False, WIFI_SSID="lab-2g")
    assert result["reason"] == "reconfigure_successful"
    assert firmware.user_env(firmware_units(entry)[uid]) == {"DEBUG": False, "WIFI_SSID": "lab-2g"}
    assert commands(mqtt_mock, uid).count("env_update") == 1

    # The repository is deleted on the service behind the hub's back: the service says so.
    client = firmware.client
    assert client is not None
    await client.delete_repo(repo_id)
    result = await start_flow(hass, entry, SUBENTRY_FIRMWARE_UNIT)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Workshop thermo 2", "repo_id": repo_id}
    )
    assert result["errors"] == {"base": "firmware_error"}
    assert repo_id in result["description_placeholders"]["error"]

    await hass.config_entries.async_unload(entry.entry_id)
    result = await entry.start_subentry_reconfigure_flow(
        hass, SUBENTRY_FIRMWARE_UNIT, subentry.subentry_id
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "hub_not_loaded"
    assert len(firmware_units(entry)) == 2


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
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"track": "v1.0.0", "SENSOR_PIN": 7.5}
    )
    assert result["errors"] == {"base": "invalid_env"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"track": "v1.0.0", "SENSOR_PIN": 9}
    )
    assert result["type"] is FlowResultType.ABORT
    env = await (await client.get(f"/api/makerhub/units/{uid}/env.json")).json()
    assert env["SENSOR_PIN"] == 9
    await hass.async_block_till_done()
    assert firmware_units(entry)[uid].data["track"] == "v1.0.0"
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


def sent_commands(mqtt_mock: MqttMockHAClient, uid: str) -> list[dict[str, Any]]:
    """Return the commands sent to a unit, oldest first."""
    return [
        json.loads(c.args[1])
        for c in mqtt_mock.async_publish.call_args_list
        if c.args[0] == f"makerhub/{uid}/sys/cmd"
    ]


def commands(mqtt_mock: MqttMockHAClient, uid: str) -> list[str]:
    """Return the names of the commands sent to a unit, oldest first."""
    return [c["cmd"] for c in sent_commands(mqtt_mock, uid)]


def updates(mqtt_mock: MqttMockHAClient, uid: str) -> list[dict[str, Any]]:
    """Return the update commands sent to a unit."""
    return [c for c in sent_commands(mqtt_mock, uid) if c["cmd"] == "update"]


def sent_update(mqtt_mock: MqttMockHAClient, uid: str) -> dict[str, Any]:
    """Return the last update command sent to a unit (an empty one before any)."""
    return (updates(mqtt_mock, uid) or [{"version": None}])[-1]


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
    """Diagnostics list repositories; the service token is redacted."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, firmware_hub)
    assert diagnostics["entry"]["options"][CONF_FIRMWARE_TOKEN] == "**REDACTED**"
    (repository,) = diagnostics["firmware"]["repositories"].values()
    assert repository["name"] == "Thermo"
    assert repository["last_error"] is None
    assert TOKEN not in json.dumps(diagnostics)
    await hass.config_entries.async_unload(firmware_hub.entry_id)
