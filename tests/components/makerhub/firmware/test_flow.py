"""The firmware flows: registering a repository and making a unit from one; what each
refuses and why."""

from __future__ import annotations

import json
from pathlib import Path
import random
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import selector
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import SUBENTRY_FIRMWARE_UNIT, SUBENTRY_REPOSITORY
from custom_components.makerhub.core.firmware_client import (
    FirmwareConnectionError,
    FirmwareError,
    FirmwareInvalidSchemaError,
    FirmwareRefusedError,
    FirmwareTooLargeError,
    FirmwareUpstreamError,
)
from custom_components.makerhub.core.unit_env import declared_env
from custom_components.makerhub.firmware.flow import env_values, firmware_error
from custom_components.makerhub.firmware.manager import CONF_FIRMWARE_URL, firmware_units
from dev.processes.git_repo import FirmwareGitRepo, git
from dev.processes.ports import free_port
from makerhub_firmware.payloads import DEFAULT_SIZE_LIMIT
from tests.components.makerhub.conftest import unit_subentry
from tests.components.makerhub.firmware.conftest import (
    add_repository,
    commands,
    create_unit,
    options,
    register_repo,
    repository_titles,
    start_flow,
)
from tests.helpers.firmware_service import TOKEN, FirmwareServer, thermometer_repo


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
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"SENSOR_PIN": 7.5, "CLOUD_KEY": "k-1"}
    )
    assert result["step_id"] == "env"
    assert result["errors"] == {"base": "invalid_env"}
    assert result["description_placeholders"]["error"].startswith("SENSOR_PIN: ")
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"DEBUG": True, "LABEL": "", "WIFI_SSID": "lab-2g", "CLOUD_KEY": "k-1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    uid = next(uid for uid, s in firmware_units(entry).items() if s.title == "Workshop thermo")
    subentry = firmware_units(entry)[uid]
    assert subentry.data["track"] == "extras"
    firmware = entry.runtime_data.firmware
    assert firmware.user_env(subentry) == {"DEBUG": True, "WIFI_SSID": "lab-2g", "CLOUD_KEY": "k-1"}

    async def reconfigure(**fields: Any) -> dict[str, Any]:
        result = await entry.start_subentry_reconfigure_flow(
            hass, SUBENTRY_FIRMWARE_UNIT, subentry.subentry_id
        )
        result = await hass.config_entries.subentries.async_configure(result["flow_id"], fields)
        await hass.async_block_till_done()
        return result

    result = await reconfigure(track="v1.0.0", DEBUG=True, WIFI_SSID="lab-2g", CLOUD_KEY="k-1")
    assert result["reason"] == "reconfigure_successful"
    assert firmware_units(entry)[uid].data["track"] == "v1.0.0"
    assert "env_update" not in commands(mqtt_mock, uid)
    result = await reconfigure(track="v1.0.0", DEBUG=False, WIFI_SSID="lab-2g", CLOUD_KEY="k-1")
    assert result["reason"] == "reconfigure_successful"
    assert firmware.user_env(firmware_units(entry)[uid]) == {
        "DEBUG": False,
        "WIFI_SSID": "lab-2g",
        "CLOUD_KEY": "k-1",
    }
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


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (FirmwareTooLargeError("big"), "repo_too_large"),
        (FirmwareInvalidSchemaError("bad"), "repo_refused"),
        (FirmwareRefusedError("no"), "repo_refused"),
        (FirmwareConnectionError("down"), "firmware_unreachable"),
        (FirmwareUpstreamError("git fetch failed"), "firmware_error"),
    ],
)
def test_firmware_error_form_keys(error: FirmwareError, key: str) -> None:
    """Each kind of service failure has its own form error."""
    assert firmware_error(error) == key


def test_env_values_keep_declared_and_wifi_keys_only() -> None:
    """A form value for a key the repository does not declare (other than Wi-Fi) is not
    kept; empty values are not values."""
    declared = declared_env({"env": {"PIN": {"type": "int", "default": 4}}})
    assert env_values(
        declared, {"PIN": "5", "STRAY": "x", "WIFI_SSID": "lab", "WIFI_PASS": ""}
    ) == {
        "PIN": 5,
        "WIFI_SSID": "lab",
    }


async def test_firmware_flows_abort_without_the_service(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    """Without a firmware service, or with the hub unloaded, the flows abort and say why."""
    for subentry_type in (SUBENTRY_REPOSITORY, SUBENTRY_FIRMWARE_UNIT):
        result = await hass.config_entries.subentries.async_init(
            (hub.entry_id, subentry_type), context={"source": "user"}
        )
        assert result["reason"] == "firmware_not_configured"
    await hass.config_entries.async_unload(hub.entry_id)
    result = await hass.config_entries.subentries.async_init(
        (hub.entry_id, SUBENTRY_REPOSITORY), context={"source": "user"}
    )
    assert result["reason"] == "hub_not_loaded"


@pytest.mark.parametrize("hub_subentries", [[unit_subentry()]])
async def test_unit_flow_says_why_not(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: FirmwareServer,
    tmp_path: Path,
) -> None:
    """Creating a unit: no repository yet, a bad or taken name, an unknown ref, a
    repository that does not validate (its issues on the form), one gone from the service,
    a value of the wrong type, and the hub unloaded before reconfiguring."""
    result = await options(hass, hub, firmware_url=service.base_url, firmware_token=TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await hass.config_entries.subentries.async_init(
        (hub.entry_id, SUBENTRY_FIRMWARE_UNIT), context={"source": "user"}
    )
    assert result["reason"] == "no_repositories"

    broken = FirmwareGitRepo(tmp_path / "broken", "broken")
    broken.commit("Broken", {"makerhub.json": {"name": "x", "outputs": {"t": {"type": "no"}}}})
    broken_id = await register_repo(hass, hub, broken.url, "Broken")
    good, _, _ = thermometer_repo(tmp_path / "good")
    good_id = await register_repo(hass, hub, good.url, "Thermo")

    async def attempt(**fields: Any) -> dict[str, Any]:
        result = await hass.config_entries.subentries.async_init(
            (hub.entry_id, SUBENTRY_FIRMWARE_UNIT), context={"source": "user"}
        )
        return dict(
            await hass.config_entries.subentries.async_configure(
                result["flow_id"], {"name": "Fan", "repo_id": good_id, **fields}
            )
        )

    assert (await attempt(name="  "))["errors"] == {"name": "invalid_name"}
    assert (await attempt(name="x" * 65))["errors"] == {"name": "invalid_name"}
    assert (await attempt(name="BENCH"))["errors"] == {"name": "name_taken"}
    result = await attempt(track="no-such-branch")
    assert result["errors"] == {"base": "unknown_ref"}
    assert result["description_placeholders"]["error"] == "no-such-branch is not in the repository"
    result = await attempt(repo_id=broken_id)
    assert result["errors"] == {"base": "repo_invalid"}
    assert result["description_placeholders"]["error"] == (
        "makerhub.json: outputs.t.type: required: one of float, int, bool, str, enum"
    )
    await hub.runtime_data.firmware.client.delete_repo(broken_id)
    result = await attempt(repo_id=broken_id)
    assert result["errors"] == {"base": "firmware_error"}
    assert broken_id in result["description_placeholders"]["error"]

    result = await attempt()
    assert result["step_id"] == "env"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"SENSOR_PIN": 7.5, "CLOUD_KEY": "k"}
    )
    assert result["errors"] == {"base": "invalid_env"}
    assert "SENSOR_PIN: must be an integer" in result["description_placeholders"]["error"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"SENSOR_PIN": 5, "CLOUD_KEY": "k"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    (subentry,) = (s for s in hub.subentries.values() if s.title == "Fan")
    await hass.config_entries.async_unload(hub.entry_id)
    result = await hub.start_subentry_reconfigure_flow(
        hass, SUBENTRY_FIRMWARE_UNIT, subentry.subentry_id
    )
    assert result["reason"] == "hub_not_loaded"
