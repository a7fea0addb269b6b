"""Fixtures for the Home Assistant harness tests of the integration."""

from __future__ import annotations

from collections.abc import Iterator
import json
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.auth.models import User

# Imported before any test freezes the clock: MQTT's config flow imports the Supervisor's
# models, which fail to build under a frozen clock (so a frozen test first in a process
# could not set MQTT up).
import homeassistant.components.mqtt.config_flow  # noqa: F401
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryData,
)
from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN, HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import (
    CONF_OFFLINE_TIMEOUT,
    CONF_PREFIX,
    CONF_UNIT_BROKER_HOST,
    CONF_UNIT_BROKER_PORT,
    CONF_UNIT_BROKER_TLS,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
    SUBENTRY_UNIT,
)
from custom_components.makerhub.core.agreement import DEFAULT_AGREEMENT, agreement_version
from dev.processes.postgres import PostgresServer
from tests.helpers.postgres_tls import Pki, make_pki, start_tls_postgres

UID = "0123456789ab"
ANNOUNCE_ID = "bench-1"

BENCH_SCHEMA: dict[str, Any] = {
    "name": "Bench controller",
    "outputs": {
        "temperature": {
            "type": "float",
            "unit": "°C",
            "device_class": "temperature",
            "state_class": "measurement",
            "precision": 1,
            "min": -40,
            "max": 125,
        },
        "door": {"type": "bool", "device_class": "door"},
        "mode": {"type": "enum", "options": ["idle", "heating"]},
        "note": {"type": "str"},
        "count": {"type": "int"},
    },
    "inputs": {
        "target": {"type": "float", "min": 5, "max": 30, "step": 0.5, "unit": "°C"},
        "relay": {"type": "bool", "device_class": "outlet"},
        "preset": {"type": "enum", "options": ["eco", "comfort"]},
        "label": {"type": "str", "max_length": 16},
        "level": {"type": "int", "min": 0, "max": 100},
    },
}


def unit_subentry(
    uid: str = UID,
    title: str = "Bench",
    schema: dict[str, Any] | None = None,
    announce_id: str | None = ANNOUNCE_ID,
    model: str | None = "bench-v1",
) -> ConfigSubentryData:
    """Return a stored unit subentry."""
    return ConfigSubentryData(
        data={
            "uid": uid,
            "announce_id": announce_id,
            "model": model,
            "schema": schema or BENCH_SCHEMA,
        },
        subentry_type=SUBENTRY_UNIT,
        title=title,
        unique_id=uid,
    )


def announcement(
    name: str = "Bench controller",
    schema: dict[str, Any] | None = None,
    unit: str | None = None,
    model: str = "bench-v1",
) -> str:
    """Return an announcement payload."""
    payload: dict[str, Any] = {"name": name, "model": model, "schema": schema or BENCH_SCHEMA}
    if unit is not None:
        payload["unit"] = unit
    return json.dumps(payload)


def state_payload(version: str = "1.0.0", **fields: Any) -> str:
    """Return a state report."""
    return json.dumps({"version": version, "ip": "10.0.0.5", "rssi": -60, **fields})


HUB_DATA = {
    CONF_UNIT_BROKER_HOST: "192.168.1.2",
    CONF_UNIT_BROKER_PORT: 1883,
    CONF_UNIT_BROKER_TLS: False,
}
HUB_OPTIONS = {CONF_PREFIX: "makerhub", CONF_OFFLINE_TIMEOUT: 90, CONF_UPDATE_INTERVAL: 0}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load this repository's integration."""


@pytest.fixture(autouse=True)
def no_own_telemetry_session() -> Iterator[None]:
    """Leave telemetry on the harness's MQTT messages.

    The harness's MQTT client is a mock with no broker behind it (``mock-broker``), so
    telemetry's own session (a real paho client) has nothing to connect to.
    ``telemetry/test_ingest.py`` overrides this and gives it a real Mosquitto.
    """
    with patch("custom_components.makerhub.telemetry.ingest.ingest_settings", return_value=None):
        yield


@pytest.fixture
def hub_options() -> dict[str, Any]:
    """Options of the hub entry (override per test)."""
    return dict(HUB_OPTIONS)


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """Units stored in the hub entry (override per test)."""
    return [unit_subentry()]


@pytest.fixture
def hub_entry(
    hub_options: dict[str, Any], hub_subentries: list[ConfigSubentryData]
) -> MockConfigEntry:
    """Return the hub config entry (not yet added)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Makerhub",
        data=HUB_DATA,
        options=hub_options,
        unique_id=DOMAIN,
        subentries_data=hub_subentries,
    )


@pytest.fixture
async def hub(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set the hub up with MQTT mocked; return its entry."""
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    return hub_entry


async def bring_online(hass: HomeAssistant, uid: str = UID, version: str = "1.0.0") -> None:
    """Make a unit available: status online and a state report."""
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "online")
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload(version))
    await hass.async_block_till_done()


def unit_entity_id(hass: HomeAssistant, uid: str, key: tuple[str, str]) -> str:
    """Return the entity id of a unit's entity, found in the entity registry by its unique id.

    ``key`` is ``(kind, name)``: ``("out", output)``, ``("in", input)`` or ``("sys", key)``.
    The unique id is spelled out here (``<uid>-<kind>-<name>``), not taken from the
    integration, so a change of its form fails the tests that look entities up.
    """
    unique_id = f"{uid}-{key[0]}-{key[1]}"
    found = [
        entry.entity_id
        for entry in er.async_get(hass).entities.values()
        if entry.platform == DOMAIN and entry.unique_id == unique_id
    ]
    assert len(found) == 1, f"no single entity has the unique id {unique_id}: {found}"
    return found[0]


def reauth_flows(hass: HomeAssistant, entry: ConfigEntry) -> list[ConfigFlowResult]:
    """Return the reauthentication flows in progress for ``entry``."""
    return list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


def reauth_issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    """Return the repair Home Assistant raises while ``entry`` needs reauthentication."""
    return ir.async_get(hass).async_get_issue(
        HOMEASSISTANT_DOMAIN, f"config_entry_reauth_{DOMAIN}_{entry.entry_id}"
    )


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create entities that are disabled by default as enabled (as Home Assistant's own)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Issue the test certificates (CA, server, client, CRL) once per run."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tls_postgres(pki: Pki) -> Iterator[PostgresServer]:
    """A private PostgreSQL with TLS on, shared by the telemetry TLS tests."""
    server = start_tls_postgres(pki)
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
async def alice(hass: HomeAssistant, hass_admin_user: User, hass_storage: dict[str, Any]) -> str:
    """Alice, a person linked to the admin user (whose token the test clients use), who
    signed the space's agreement."""
    store_signed_agreement(hass_storage, "person.alice")
    assert await async_setup_component(
        hass,
        "person",
        {"person": [{"id": "alice", "name": "Alice", "user_id": hass_admin_user.id}]},
    )
    await hass.async_block_till_done()
    return "person.alice"


def store_signed_agreement(hass_storage: dict[str, Any], *people: str) -> None:
    """Store, before the integration loads, that ``people`` signed the default agreement
    (a new project needs its owner's signature)."""
    hass_storage["makerhub.agreements"] = {
        "version": 1,
        "minor_version": 1,
        "key": "makerhub.agreements",
        "data": {
            "people": {
                person: {
                    "version": agreement_version(DEFAULT_AGREEMENT),
                    "signed_at": "2026-01-05T10:00:00+00:00",
                    "recorded_by": None,
                }
                for person in people
            }
        },
    }
