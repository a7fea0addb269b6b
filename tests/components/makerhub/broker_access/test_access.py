"""Broker access in Home Assistant: the options, per-unit clients and ACLs on a real
Mosquitto with its dynamic-security plugin, links granting reads, deletion, repairs, a
refused admin asked for again (reauthentication), and the password/ACL files for brokers
without the plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, MqttMockHAClient

from custom_components.makerhub.broker_access.access import (
    CONF_ADMIN_PASSWORD,
    CONF_ADMIN_USERNAME,
    ISSUE_FAILED,
    RETRY,
)
from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.core.dynsec import DynSecAdmin, unit_role
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.secrets import (
    CONTEXT_BROKER_ADMIN,
    async_get_secret_box,
    open_text,
    seal_text,
)
from dev.processes.mosquitto import MosquittoBroker
from dev.processes.ports import free_port
from tests.components.makerhub.conftest import (
    UID,
    reauth_flows,
    reauth_issue,
    unit_entity_id,
    unit_subentry,
)
from tests.helpers.dynsec_broker import NOT_AUTHORIZED, MqttProbe, dynsec_broker

FAN = "ba9876543210"
ADMIN = "admin"
ADMIN_PASSWORD = "admin-secret-0123"
ACCEPTED = (0, 0x10)
"""PUBACK codes of an accepted publish (0x10: accepted, no subscriber matched)."""


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """A Mosquitto with the dynamic-security plugin."""
    server = dynsec_broker(tmp_path_factory.mktemp("dynsec"), ADMIN, ADMIN_PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """Two units: Bench and Fan."""
    return [unit_subentry(), unit_subentry(FAN, "Fan", announce_id="fan-1")]


async def configure(hass: HomeAssistant, entry: MockConfigEntry, **fields: Any) -> dict[str, Any]:
    """Fill the broker access options form; return the result."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "broker_access"}
    )
    assert result["step_id"] == "broker_access"
    result = await hass.config_entries.options.async_configure(result["flow_id"], fields)
    await hass.async_block_till_done(wait_background_tasks=True)
    return result


@pytest.fixture
async def dynsec_hub(
    hass: HomeAssistant,
    socket_enabled: None,
    broker: MosquittoBroker,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> AsyncIterator[MockConfigEntry]:
    """The hub managing the broker through dynamic security."""
    result = await configure(
        hass,
        hub,
        broker_access="dynamic_security",
        broker_admin_host=broker.host,
        broker_admin_port=broker.port,
        broker_admin_username=ADMIN,
        broker_admin_password=ADMIN_PASSWORD,
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    yield hub
    await hass.config_entries.async_unload(hub.entry_id)
    async with DynSecAdmin(broker.host, broker.port, ADMIN, ADMIN_PASSWORD) as admin:
        for uid in (UID, FAN):
            await admin.remove_unit(uid)


async def unit_client(
    hass_client: ClientSessionGenerator, broker: MosquittoBroker, uid: str
) -> MqttProbe:
    """Connect as a unit with the credentials of its env.json."""
    client = await hass_client()
    env = await (await client.get(f"/api/makerhub/units/{uid}/env.json")).json()
    probe = MqttProbe(broker, env["MH_MQTT_USERNAME"], env["MH_MQTT_PASSWORD"])
    assert await probe.connect() == 0
    return probe


async def test_options_check_admin_and_seal_password(
    hass: HomeAssistant,
    socket_enabled: None,
    broker: MosquittoBroker,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> None:
    """Wrong admin password, unreachable broker, missing user: form errors; a working
    admin is saved with its password sealed, and ``***`` keeps it."""
    base = {
        "broker_access": "dynamic_security",
        "broker_admin_host": broker.host,
        "broker_admin_port": broker.port,
        "broker_admin_username": ADMIN,
    }
    result = await configure(hass, hub, **base, broker_admin_password="wrong")
    assert result["errors"] == {"base": "admin_refused"}
    result = await configure(
        hass, hub, **{**base, "broker_admin_port": free_port()}, broker_admin_password="x"
    )
    assert result["errors"] == {"base": "broker_unreachable"}
    result = await configure(hass, hub, broker_access="dynamic_security")
    assert result["errors"] == {"base": "admin_required"}

    result = await configure(hass, hub, **base, broker_admin_password=ADMIN_PASSWORD)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    sealed = hub.options[CONF_ADMIN_PASSWORD]
    assert ADMIN_PASSWORD not in sealed
    result = await configure(hass, hub, **base, broker_admin_password="***")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert hub.options[CONF_ADMIN_PASSWORD] != ""
    # A stored password the key no longer opens: "***" keeps nothing, the broker says no.
    hass.config_entries.async_update_entry(
        hub, options={**hub.options, CONF_ADMIN_PASSWORD: "v1:not-a-sealed-password"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await configure(hass, hub, **base, broker_admin_password="***")
    assert result["errors"] == {"base": "admin_refused"}
    await hass.config_entries.async_unload(hub.entry_id)
    async with DynSecAdmin(broker.host, broker.port, ADMIN, ADMIN_PASSWORD) as admin:
        for uid in (UID, FAN):
            await admin.remove_unit(uid)


async def test_units_confined_and_links_grant_reads(
    hass: HomeAssistant,
    dynsec_hub: MockConfigEntry,
    broker: MosquittoBroker,
    hass_client: ClientSessionGenerator,
) -> None:
    """Each unit connects with its own user and may touch only its own topics; a link
    lets the target read the source's output; unlinking and deletion take it back."""
    access = dynsec_hub.runtime_data.broker_access
    assert access is not None
    assert access.last_error is None
    assert access.applied == {UID: frozenset(), FAN: frozenset()}
    bench = await unit_client(hass_client, broker, UID)
    fan = await unit_client(hass_client, broker, FAN)
    try:
        assert await bench.publish(f"makerhub/{UID}/out/temperature", "21") in ACCEPTED
        assert await bench.publish(f"makerhub/{FAN}/out/temperature", "99") == NOT_AUTHORIZED
        assert await bench.publish(f"makerhub/{FAN}/in/target", "9") == NOT_AUTHORIZED
        assert await bench.subscribe(f"makerhub/{FAN}/sys/cmd") == NOT_AUTHORIZED
        assert await fan.subscribe(f"makerhub/{UID}/out/temperature") == NOT_AUTHORIZED

        await hass.services.async_call(
            DOMAIN,
            "link",
            {
                "source": unit_entity_id(hass, UID, ("out", "temperature")),
                "target": unit_entity_id(hass, FAN, ("in", "target")),
            },
            blocking=True,
            return_response=True,
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        assert await fan.subscribe(f"makerhub/{UID}/out/temperature") == 1
        assert await bench.publish(f"makerhub/{UID}/out/temperature", "22") in ACCEPTED
        await fan.expect(f"makerhub/{UID}/out/temperature", "22")

        await hass.services.async_call(
            DOMAIN, "unlink", {"link": f"{UID}.temperature>{FAN}.target"}, blocking=True
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        assert await bench.publish(f"makerhub/{UID}/out/temperature", "23") in ACCEPTED
        async with DynSecAdmin(broker.host, broker.port, ADMIN, ADMIN_PASSWORD) as admin:
            acls = await admin.get_role(unit_role(FAN))
            assert acls is not None
            assert not [a for a in acls if UID in a.topic]
    finally:
        await bench.close()
        await fan.close()

    # Deleting a unit deletes its broker client and its password.
    fan_entry = next(s for s in dynsec_hub.subentries.values() if s.unique_id == FAN)
    hass.config_entries.async_remove_subentry(dynsec_hub, fan_entry.subentry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    async with DynSecAdmin(broker.host, broker.port, ADMIN, ADMIN_PASSWORD) as admin:
        assert await admin.get_client(f"mh-{FAN}") is None
        assert await admin.get_client(f"mh-{UID}") is not None
    assert FAN not in makerhub_data(hass).unit_credentials.uids()


async def test_broker_down_raises_a_repair_and_recovers(
    hass: HomeAssistant,
    dynsec_hub: MockConfigEntry,
    broker: MosquittoBroker,
) -> None:
    """A broker that cannot be reached: a repair issue; the next sync clears it."""
    hub = dynsec_hub.runtime_data
    access = hub.broker_access
    assert access is not None
    admin_login = "binary_sensor.makerhub_broker_admin_login_problem"
    assert hass.states.get(admin_login).state == "off"  # health's item for the admin login
    assert hass.states.get(admin_login).attributes["kind"] == "broker"
    broker.stop()
    try:
        access.applied.clear()
        await access.async_sync({UID: set(), FAN: set()})
        assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_FAILED) is not None
        assert access.last_error is not None
        assert hass.states.get(admin_login).state == "on"
    finally:
        broker.start()
    await access.async_sync({UID: set(), FAN: set()})
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_FAILED) is None
    assert access.last_error is None
    assert hass.states.get(admin_login).state == "off"


async def test_refused_admin_is_asked_for_again(
    hass: HomeAssistant,
    dynsec_hub: MockConfigEntry,
    broker: MosquittoBroker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The broker refuses the admin: a reauthentication of the hub asks for the admin
    user and password (no repair issue; the broker being away still raises one); a wrong
    password is a form error, the right one is stored sealed, the hub reloads, the broker
    is brought up to date and the repairs are gone."""
    entry = dynsec_hub
    box = await async_get_secret_box(hass)
    hass.config_entries.async_update_entry(
        entry,
        options={
            **entry.options,
            CONF_ADMIN_PASSWORD: seal_text(box, "changed-on-the-broker", CONTEXT_BROKER_ADMIN),
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    hub = entry.runtime_data
    access = hub.broker_access
    assert access is not None
    assert access.last_error is not None
    assert "refused" in access.last_error
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_FAILED) is None
    admin_login = hub.health.health("broker_admin")
    assert admin_login is not None
    assert admin_login.status == "problem"
    assert "the broker refused the admin login" in admin_login.message
    (flow,) = reauth_flows(hass, entry)
    assert flow["step_id"] == "reauth_confirm"
    assert reauth_issue(hass, entry) is not None

    # Dismissed, the question comes back with the next retry, five minutes later; the
    # refusal was logged as an error once, the retry's same refusal only at debug level.
    refused = "The broker refused Makerhub's admin credentials"
    assert [r.levelname for r in caplog.records if refused in r.message] == ["ERROR"]
    hass.config_entries.flow.async_abort(flow["flow_id"])
    assert reauth_flows(hass, entry) == []
    caplog.set_level(logging.DEBUG, logger="custom_components.makerhub")
    async_fire_time_changed(hass, dt_util.utcnow() + RETRY + timedelta(seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    (flow,) = reauth_flows(hass, entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_FAILED) is None
    assert [r.levelname for r in caplog.records if refused in r.message] == ["ERROR", "DEBUG"]

    # Meanwhile the broker goes away: that is the repair issue, not another question.
    broker.stop()
    try:
        await access.async_sync({UID: set(), FAN: set()})
        assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_FAILED) is not None
    finally:
        broker.start()
    assert len(reauth_flows(hass, entry)) == 1

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ADMIN_USERNAME: ADMIN, CONF_ADMIN_PASSWORD: "wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "admin_refused"}
    assert [str(key) for key in result["data_schema"].schema] == [
        CONF_ADMIN_USERNAME,
        CONF_ADMIN_PASSWORD,
    ]
    assert result["description_placeholders"]["address"] == f"{broker.host}:{broker.port}"
    suggested = {str(key): key.description for key in result["data_schema"].schema}
    assert suggested[CONF_ADMIN_USERNAME] == {"suggested_value": ADMIN}
    assert suggested[CONF_ADMIN_PASSWORD] is None

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ADMIN_USERNAME: ADMIN, CONF_ADMIN_PASSWORD: ADMIN_PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_FAILED) is None
    await hass.async_block_till_done(wait_background_tasks=True)
    stored = entry.options[CONF_ADMIN_PASSWORD]
    assert ADMIN_PASSWORD not in stored
    assert open_text(box, stored, CONTEXT_BROKER_ADMIN) == ADMIN_PASSWORD
    assert entry.options[CONF_ADMIN_USERNAME] == ADMIN
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not hub
    access = entry.runtime_data.broker_access
    assert access is not None
    assert access.last_error is None
    assert access.applied == {UID: frozenset(), FAN: frozenset()}
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_FAILED) is None
    assert reauth_flows(hass, entry) == []
    assert reauth_issue(hass, entry) is None


async def test_files_mode_writes_password_and_acl_files(
    hass: HomeAssistant,
    socket_enabled: None,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    tmp_path: Path,
    hass_client: ClientSessionGenerator,
) -> None:
    """Files mode writes files a Mosquitto without the plugin enforces."""
    folder = tmp_path / "share"
    result = await configure(
        hass,
        hub,
        broker_access="files",
        broker_files_directory=str(folder),
        broker_hub_username="homeassistant",
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    passwd = (folder / "makerhub.passwd").read_text()
    acl = (folder / "makerhub.acl").read_text()
    assert f"acl_file {folder / 'makerhub.acl'}" in (folder / "makerhub.conf").read_text()
    assert f"mh-{UID}:$7$" in passwd
    assert f"user mh-{FAN}" in acl
    assert "user homeassistant" in acl
    assert (folder / "makerhub.passwd").stat().st_mode & 0o077 == 0

    # A broker reading them: the unit's user works and is confined.
    server = MosquittoBroker(
        tmp_path / "plain",
        extra_config=[
            f"password_file {folder / 'makerhub.passwd'}",
            f"acl_file {folder / 'makerhub.acl'}",
        ],
        allow_anonymous=False,
        persistence=False,
    )
    server.start()
    try:
        bench = await unit_client(hass_client, server, UID)
        listener = await unit_client(hass_client, server, FAN)
        try:
            assert await listener.subscribe(f"makerhub/{UID}/out/temperature") in (1, 0x80, 0x87)
            await bench.publish(f"makerhub/{UID}/out/temperature", "20")
            await bench.publish(f"makerhub/{FAN}/in/target", "9")
            assert listener.received(f"makerhub/{UID}/out/temperature") == []
        finally:
            await bench.close()
            await listener.close()
    finally:
        server.stop()
    result = await configure(hass, hub, broker_access="files", broker_files_directory="/proc/x")
    assert result["errors"] == {"base": "folder_not_writable"}
    await hass.config_entries.async_unload(hub.entry_id)


async def test_diagnostics_show_access_never_the_admin_password(
    hass: HomeAssistant,
    dynsec_hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """Diagnostics show the mode and the units applied; the admin password is redacted."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, dynsec_hub)
    assert diagnostics["broker_access"]["mode"] == "dynamic_security"
    assert diagnostics["broker_access"]["units_applied"] == sorted([UID, FAN])
    assert diagnostics["entry"]["options"][CONF_ADMIN_PASSWORD] == "**REDACTED**"
    assert ADMIN_PASSWORD not in json.dumps(diagnostics)
    assert diagnostics["links"] == []
