"""Telemetry in Home Assistant, against a real PostgreSQL (a database of each test's own).

The options flow (checked by connecting, stored encrypted), ingest of outputs and input
changes from MQTT, the counters as entities, diagnostics without the password, the
``get_history`` and ``backup_telemetry`` actions, aggregate sensors, a lost key, and the
flush when Home Assistant stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import asyncpg
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, MqttMockHAClient

from custom_components.makerhub.const import (
    CONF_TELEMETRY_DSN,
    CONF_TELEMETRY_RETENTION_DAYS,
    CONF_TELEMETRY_ROLLUPS,
    DOMAIN,
    HUB_DEVICE_ID,
    SUBENTRY_AGGREGATE,
)
from custom_components.makerhub.core.secret_box import SecretBox
from custom_components.makerhub.core.telemetry import TelemetryUnavailableError
from custom_components.makerhub.secrets import (
    CONTEXT_TELEMETRY_DSN,
    DATA_SECRET_BOX,
    KEY_FILE,
    async_get_secret_box,
    seal_text,
)
from custom_components.makerhub.telemetry.manager import ISSUE_DSN_LOST
from dev.processes.ports import free_port
from dev.processes.postgres import create_database, drop_database, dsn, unique_name
from tests.components.makerhub.conftest import HUB_OPTIONS, UID, bring_online, unit_entity_id

PASSWORD = "s3cret-pw"
"""The shared server trusts 127.0.0.1, so any password logs in; it must never show."""


@pytest.fixture
def database() -> Iterator[str]:
    """Create a database of this test's own on the shared server."""
    name = unique_name("makerhub_ha_telemetry")
    create_database(name)
    try:
        yield name
    finally:
        drop_database(name)


@pytest.fixture
def database_url(database: str) -> str:
    """Return the database's URL, with a password that must stay secret."""
    return dsn(database, password=PASSWORD)


@pytest.fixture
async def hub_options(hass: HomeAssistant, database_url: str) -> dict[str, Any]:
    """Hub options with telemetry on (the DSN encrypted as the options flow stores it)."""
    box = await async_get_secret_box(hass)
    return {
        **HUB_OPTIONS,
        CONF_TELEMETRY_DSN: seal_text(box, database_url, CONTEXT_TELEMETRY_DSN),
        CONF_TELEMETRY_RETENTION_DAYS: 30,
        CONF_TELEMETRY_ROLLUPS: True,
    }


@pytest.fixture
async def hub(
    hass: HomeAssistant,
    socket_enabled: None,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> AsyncIterator[MockConfigEntry]:
    """The hub with telemetry on; unloaded at the end so the store stops."""
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    yield hub_entry
    if hub_entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(hub_entry.entry_id)


async def rows(database: str, sql: str) -> list[asyncpg.Record]:
    """Run a query on the test's database."""
    conn = await asyncpg.connect(dsn(database))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def flush(entry: MockConfigEntry) -> None:
    """Wait until everything submitted is in the database."""
    telemetry = entry.runtime_data.telemetry
    assert telemetry is not None
    assert await telemetry.store.flush(20)


# -- ingest ------------------------------------------------------------------------


async def test_outputs_and_input_changes_are_recorded(
    hass: HomeAssistant, hub: MockConfigEntry, database: str
) -> None:
    """Every output value goes to the database (not only the coalesced ones), typed."""
    await bring_online(hass)
    for value in ("19.5", "19.75", "20.0"):
        async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", value)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/door", "true")
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/note", "hello")
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "hot")  # refused
    # An input changed by someone (live), and the broker replaying a retained one.
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/target", "21.5")
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/level", "40", retain=True)
    await hass.async_block_till_done()
    await flush(hub)

    samples = await rows(
        database, "SELECT unit, variable, value, text_value FROM samples ORDER BY time, variable"
    )
    assert [(r["variable"], r["value"], r["text_value"]) for r in samples] == [
        ("temperature", 19.5, None),
        ("temperature", 19.75, None),
        ("temperature", 20.0, None),
        ("door", 1.0, None),
        ("note", None, "hello"),
        ("target", 21.5, None),
    ]
    assert {r["unit"] for r in samples} == {UID}
    units = await rows(database, "SELECT unit, name, model FROM units")
    assert [tuple(r) for r in units] == [(UID, "Bench", "bench-v1")]
    variables = await rows(database, "SELECT variable, type, direction FROM variables")
    assert ("temperature", "float", "outputs") in {tuple(r) for r in variables}
    assert ("target", "float", "inputs") in {tuple(r) for r in variables}


async def test_counters_entities_and_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hub: MockConfigEntry,
    database_url: str,
) -> None:
    """The writer's counters are diagnostic entities on the hub's device; no password shows."""
    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "19.5")
    await hass.async_block_till_done()
    await flush(hub)
    telemetry = hub.runtime_data.telemetry
    assert telemetry is not None
    await telemetry.coordinator.async_refresh()

    assert hass.states.get("sensor.makerhub_telemetry_samples_written").state == "1"
    assert hass.states.get("sensor.makerhub_telemetry_samples_lost").state == "0"
    assert hass.states.get("sensor.makerhub_telemetry_samples_in_memory").state == "0"
    assert hass.states.get("sensor.makerhub_telemetry_samples_on_disk").state == "0"
    assert hass.states.get("sensor.makerhub_telemetry_samples_rejected").state == "0"
    assert hass.states.get("binary_sensor.makerhub_telemetry_database").state == "on"

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, hub)
    assert diagnostics["entry"]["options"][CONF_TELEMETRY_DSN] == "**REDACTED**"
    telemetry = diagnostics["hub"]["telemetry"]
    assert telemetry["counters"]["written"] == 1
    assert telemetry["schema_version"] >= 1
    assert PASSWORD not in json.dumps(diagnostics)
    assert "***" in telemetry["database"]

    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, HUB_DEVICE_ID)})
    assert device is not None
    assert device.name == "Makerhub"
    device_diagnostics = await get_diagnostics_for_device(hass, hass_client, hub, device)
    assert device_diagnostics["telemetry"]["counters"]["dropped"] == 0
    assert PASSWORD not in json.dumps(device_diagnostics)


async def test_stop_flushes(hass: HomeAssistant, hub: MockConfigEntry, database: str) -> None:
    """When Home Assistant stops, what is buffered is written before it exits."""
    telemetry = hub.runtime_data.telemetry
    assert telemetry is not None
    for value in range(50):
        telemetry.submit(UID, "count", value)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert (await rows(database, "SELECT count(*) AS n FROM samples"))[0]["n"] == 50
    assert telemetry.store.counters.written == 50


# -- options flow --------------------------------------------------------------------


async def open_telemetry_form(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Open the options menu and pick the telemetry step."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "telemetry" in result["menu_options"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "telemetry"}
    )


@pytest.mark.parametrize("hub_options", [dict(HUB_OPTIONS)])
async def test_options_flow_sets_checks_and_encrypts(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    database: str,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bad URLs are refused with the reason; a good one is stored encrypted and used."""
    assert hub.runtime_data.telemetry is None
    form = await open_telemetry_form(hass, hub)
    assert form["step_id"] == "telemetry"
    closed = free_port()
    for url, error in (
        ("http://example.invalid/x", "invalid_dsn"),
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1:{closed}/x", "cannot_connect"),
        (dsn("makerhub_no_such_database", password=PASSWORD), "database_missing"),
        (f"{database_url}?sslmode=verify-ca&sslrootcert=/nonexistent/root.crt", "tls_failed"),
    ):
        form = await hass.config_entries.options.async_configure(
            form["flow_id"],
            {
                CONF_TELEMETRY_DSN: url,
                CONF_TELEMETRY_RETENTION_DAYS: 7,
                CONF_TELEMETRY_ROLLUPS: False,
            },
        )
        assert form["type"] is FlowResultType.FORM
        assert form["errors"] == {CONF_TELEMETRY_DSN: error}
        assert PASSWORD not in form["description_placeholders"]["error"]
    # An unexpected failure of the check is a form error, logged without the password.
    with patch(
        "custom_components.makerhub.telemetry.options.validate_dsn",
        side_effect=RuntimeError(f"driver bug at {database_url}"),
    ):
        form = await hass.config_entries.options.async_configure(
            form["flow_id"],
            {
                CONF_TELEMETRY_DSN: database_url,
                CONF_TELEMETRY_RETENTION_DAYS: 7,
                CONF_TELEMETRY_ROLLUPS: False,
            },
        )
    assert form["errors"] == {CONF_TELEMETRY_DSN: "unknown"}
    assert "driver bug" in caplog.text
    assert PASSWORD not in caplog.text
    result = await hass.config_entries.options.async_configure(
        form["flow_id"],
        {
            CONF_TELEMETRY_DSN: database_url,
            CONF_TELEMETRY_RETENTION_DAYS: 7,
            CONF_TELEMETRY_ROLLUPS: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    stored = hub.options[CONF_TELEMETRY_DSN]
    assert stored.startswith("v1:")
    assert PASSWORD not in stored
    assert hub.options[CONF_TELEMETRY_RETENTION_DAYS] == 7
    assert hub.options["prefix"] == "makerhub"  # the other options are kept
    telemetry = hub.runtime_data.telemetry
    assert telemetry is not None
    assert telemetry.store.config.retention.default_days == 7
    assert telemetry.store.config.writer.rollups is False

    # The form shows the URL with its password hidden; sent back as is, it is kept.
    form = await open_telemetry_form(hass, hub)
    suggested = {
        str(key): key.description["suggested_value"]
        for key in form["data_schema"].schema
        if key.description
    }
    assert suggested[CONF_TELEMETRY_DSN] == database_url.replace(PASSWORD, "***")
    result = await hass.config_entries.options.async_configure(
        form["flow_id"],
        {
            CONF_TELEMETRY_DSN: suggested[CONF_TELEMETRY_DSN],
            CONF_TELEMETRY_RETENTION_DAYS: 7,
            CONF_TELEMETRY_ROLLUPS: True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    box = await async_get_secret_box(hass)
    assert box.decrypt(hub.options[CONF_TELEMETRY_DSN], "telemetry_dsn").decode() == database_url

    # Empty turns telemetry off.
    form = await open_telemetry_form(hass, hub)
    result = await hass.config_entries.options.async_configure(
        form["flow_id"],
        {CONF_TELEMETRY_DSN: "", CONF_TELEMETRY_RETENTION_DAYS: 7, CONF_TELEMETRY_ROLLUPS: True},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hub.options[CONF_TELEMETRY_DSN] == ""
    assert hub.runtime_data.telemetry is None
    assert hass.states.get("sensor.makerhub_telemetry_samples_written") is None


async def test_lost_key_raises_repair_and_hub_runs(
    hass: HomeAssistant,
    socket_enabled: None,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """A DSN that no longer decrypts: a repair issue, the hub runs without telemetry."""
    hass.data[DATA_SECRET_BOX] = SecretBox(b"k" * 32)  # not the key that encrypted it
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert hub_entry.state is ConfigEntryState.LOADED
    assert hub_entry.runtime_data.telemetry is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_DSN_LOST) is not None
    form = await open_telemetry_form(hass, hub_entry)
    suggested = [key.description for key in form["data_schema"].schema if key.description]
    assert {"suggested_value": ""} in suggested  # nothing to show: enter it again
    assert await hass.config_entries.async_unload(hub_entry.entry_id)


async def test_key_file_is_created_private(hass: HomeAssistant) -> None:
    """The key is generated once, mode 0600, under .storage."""
    box = await async_get_secret_box(hass)
    path = Path(hass.config.path(KEY_FILE))
    assert path.stat().st_mode & 0o777 == 0o600
    assert await async_get_secret_box(hass) is box


# -- service actions -----------------------------------------------------------------


async def record_temperatures(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Record five temperatures: 10, 20, 30, 40, 50."""
    await bring_online(hass)
    for value in (10, 20, 30, 40, 50):
        async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", str(value))
    await hass.async_block_till_done()
    await flush(entry)


async def get_history(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """Call makerhub.get_history and return its response."""
    response = await hass.services.async_call(
        DOMAIN, "get_history", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def test_get_history(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Raw samples and aggregates, by entity or by unit and variable name."""
    await record_temperatures(hass, hub)
    raw = await get_history(hass, entity_id=unit_entity_id(hass, UID, ("out", "temperature")))
    assert [point["value"] for point in raw["points"]] == [10, 20, 30, 40, 50]
    assert raw["unit"] == UID
    assert raw["variable"] == "temperature"
    assert raw["aggregation"] == "raw"
    for aggregation, expected in (
        ("avg", 30),
        ("min", 10),
        ("max", 50),
        ("median", 30),
        ("count", 5),
        ("last", 50),
    ):
        result = await get_history(
            hass, unit="bench", variable="temperature", aggregation=aggregation
        )
        assert [point["value"] for point in result["points"]] == [expected], aggregation
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert device is not None
    by_device = await get_history(
        hass, unit=device.id, variable="temperature", aggregation="count", bucket={"minutes": 1}
    )
    assert sum(point["value"] for point in by_device["points"]) == 5
    assert by_device["bucket"] == 60
    by_uid = await get_history(
        hass,
        unit=UID,
        variable="temperature",
        start=dt_util.utcnow() - timedelta(days=1),
        end=dt_util.utcnow() - timedelta(hours=12),
    )
    assert by_uid["points"] == []
    # An input is read through its entity too.
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/target", "22")
    await hass.async_block_till_done()
    await flush(hub)
    target = await get_history(hass, entity_id=unit_entity_id(hass, UID, ("in", "target")))
    assert [point["value"] for point in target["points"]] == [22]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"entity_id": "sensor.makerhub_telemetry_samples_written"}, "not_a_variable_entity"),
        ({"entity_id": "sensor.nothing_here"}, "not_a_variable_entity"),
        ({"unit": "no such unit", "variable": "temperature"}, "unknown_unit"),
        ({"unit": "Bench", "variable": "humidity"}, "unknown_variable"),
        ({"unit": "Bench"}, "unknown_variable"),
        (
            {
                "entity_id": "sensor.bench_temperature",
                "aggregation": "raw",
                "bucket": {"minutes": 1},
            },
            "invalid_history_query",
        ),
    ],
)
async def test_get_history_refuses_bad_requests(
    hass: HomeAssistant, hub: MockConfigEntry, data: dict[str, Any], key: str
) -> None:
    """Each wrong request names what is wrong."""
    with pytest.raises(ServiceValidationError) as err:
        await get_history(hass, **data)
    assert err.value.translation_key == key


async def test_get_history_needs_telemetry_and_a_database(
    hass: HomeAssistant,
    socket_enabled: None,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """Without telemetry, or with its database down, the action says so."""
    assert await async_setup_component(hass, DOMAIN, {})
    with pytest.raises(ServiceValidationError) as err:
        await get_history(hass, entity_id="sensor.bench_temperature")
    assert err.value.translation_key == "hub_not_loaded"
    box = await async_get_secret_box(hass)
    closed = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/nowhere"
    hub_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        hub_entry,
        options={
            **hub_entry.options,
            CONF_TELEMETRY_DSN: seal_text(box, closed, CONTEXT_TELEMETRY_DSN),
        },
    )
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await get_history(hass, entity_id=unit_entity_id(hass, UID, ("out", "temperature")))
    assert err.value.translation_key == "telemetry_unavailable"
    assert PASSWORD not in str(err.value)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "backup_telemetry", {}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "backup_failed"
    assert PASSWORD not in str(err.value)
    hass.config_entries.async_update_entry(
        hub_entry, options={**hub_entry.options, CONF_TELEMETRY_DSN: ""}
    )
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await get_history(hass, entity_id=unit_entity_id(hass, UID, ("out", "temperature")))
    assert err.value.translation_key == "telemetry_not_configured"
    assert await hass.config_entries.async_unload(hub_entry.entry_id)


async def test_backup_telemetry(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """A pg_dump lands in Home Assistant's backups folder."""
    await record_temperatures(hass, hub)
    response = await hass.services.async_call(
        DOMAIN, "backup_telemetry", {}, blocking=True, return_response=True
    )
    assert response is not None
    path = Path(str(response["path"]))
    assert path.parent == Path(hass.config.path("backups"))
    assert path.stat().st_size == response["size"] > 0
    assert path.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format


# -- aggregate sensors ----------------------------------------------------------------


async def update_entity(hass: HomeAssistant, entity_id: str) -> None:
    """Refresh an entity now, as the homeassistant.update_entity action does."""
    assert await async_setup_component(hass, "homeassistant", {})
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": entity_id}, blocking=True
    )


async def add_aggregate(
    hass: HomeAssistant, entry: MockConfigEntry, data: dict[str, Any]
) -> dict[str, Any]:
    """Run the aggregate subentry flow with ``data``."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_AGGREGATE), context={"source": "user"}
    )
    if result["type"] is not FlowResultType.FORM:
        return dict(result)
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    await hass.async_block_till_done(wait_background_tasks=True)
    return dict(result)


async def test_aggregate_sensor(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """A "median over 10 min" sensor follows the database, and goes with its subentry."""
    await record_temperatures(hass, hub)
    result = await add_aggregate(
        hass, hub, {"entity_id": "sensor.makerhub_telemetry_samples_written", "aggregation": "avg",
                    "window": 10}
    )  # fmt: skip
    assert result["errors"] == {"entity_id": "not_a_variable_entity"}
    result = await add_aggregate(
        hass,
        hub,
        {
            "entity_id": unit_entity_id(hass, UID, ("out", "temperature")),
            "aggregation": "avg",
            "window": 10,
            "name": "x" * 65,
        },
    )
    assert result["errors"] == {"name": "invalid_name"}
    result = await add_aggregate(
        hass,
        hub,
        {
            "entity_id": unit_entity_id(hass, UID, ("out", "temperature")),
            "aggregation": "median",
            "window": 10,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Bench temperature median 10 min"
    await hass.async_block_till_done(wait_background_tasks=True)
    state = hass.states.get("sensor.makerhub_bench_temperature_median_10_min")
    assert state is not None
    assert float(state.state) == 30
    assert state.attributes["unit_of_measurement"] == "°C"
    assert state.attributes["device_class"] == "temperature"
    assert state.attributes["window_minutes"] == 10

    result = await add_aggregate(
        hass,
        hub,
        {
            "entity_id": unit_entity_id(hass, UID, ("out", "temperature")),
            "aggregation": "count",
            "window": 5,
            "name": "Rate",
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    state = hass.states.get("sensor.makerhub_rate")
    assert state is not None
    assert state.state == "5"
    assert state.attributes["unit_of_measurement"] == "samples"

    # New values show at the next refresh (a tenth of the window, at least 30 s).
    entity = hass.data["entity_components"]["sensor"].get_entity(
        "sensor.makerhub_bench_temperature_median_10_min"
    )
    assert entity.interval == timedelta(minutes=1)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "60")
    await hass.async_block_till_done(wait_background_tasks=True)
    await flush(hub)
    await update_entity(hass, "sensor.makerhub_bench_temperature_median_10_min")
    assert float(hass.states.get("sensor.makerhub_bench_temperature_median_10_min").state) == 35

    # Removing the subentry removes the sensor.
    subentry_id = next(
        sid for sid, sub in hub.subentries.items() if sub.subentry_type == SUBENTRY_AGGREGATE
        and sub.title == "Rate"
    )  # fmt: skip
    assert hass.config_entries.async_remove_subentry(hub, subentry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("sensor.makerhub_rate") is None


async def test_aggregate_sensor_unavailable_without_database(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    """While the database cannot answer, the sensor is unavailable; then it is back."""
    await record_temperatures(hass, hub)
    await add_aggregate(
        hass,
        hub,
        {
            "entity_id": unit_entity_id(hass, UID, ("out", "temperature")),
            "aggregation": "max",
            "window": 10,
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    entity_id = "sensor.makerhub_bench_temperature_max_10_min"
    assert float(hass.states.get(entity_id).state) == 50
    telemetry = hub.runtime_data.telemetry
    assert telemetry is not None
    real = telemetry.store.get_history

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise TelemetryUnavailableError("lost the database")

    telemetry.store.get_history = down  # type: ignore[method-assign]
    await update_entity(hass, entity_id)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    await update_entity(hass, entity_id)  # logged once only
    telemetry.store.get_history = real  # type: ignore[method-assign]
    await update_entity(hass, entity_id)
    assert float(hass.states.get(entity_id).state) == 50


@pytest.mark.parametrize("hub_options", [dict(HUB_OPTIONS)])
async def test_aggregate_flow_needs_telemetry(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Without telemetry there is nothing to aggregate; nor without the hub running."""
    result = await add_aggregate(hass, hub, {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "telemetry_not_configured"
    assert await hass.config_entries.async_unload(hub.entry_id)
    result = await add_aggregate(hass, hub, {})
    assert result["reason"] == "hub_not_loaded"
