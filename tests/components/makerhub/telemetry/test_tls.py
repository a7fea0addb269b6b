"""Telemetry over TLS in Home Assistant: nothing blocks the event loop.

Home Assistant reports SSL calls that read files (``load_cert_chain``,
``load_verify_locations``, …) made in the event loop as "Detected blocking call". Its
test harness leaves that detection off for them (``skip_for_tests``); these tests turn it
on, as in production, and run the hub against a private PostgreSQL server with TLS: the
options flow checks the URL, the writer connects, and a read goes through the pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from ssl import SSLContext
import threading

from homeassistant import block_async_io
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util.loop import protect_loop
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import (
    CONF_TELEMETRY_DSN,
    CONF_TELEMETRY_RETENTION_DAYS,
    CONF_TELEMETRY_ROLLUPS,
)
from dev.processes.postgres import PostgresServer, unique_name
from tests.components.makerhub.conftest import UID, bring_online
from tests.components.makerhub.core.telemetry_helpers import T0
from tests.helpers.postgres_tls import Pki

BLOCKING = "Detected blocking call"


@pytest.fixture
def database(tls_postgres: PostgresServer) -> Iterator[str]:
    """A database of this test's own on the TLS server."""
    name = unique_name("makerhub_ha_tls")
    tls_postgres.psql(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        tls_postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def detect_blocking_ssl_calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Report SSL calls made in the event loop as Home Assistant does outside tests.

    The same calls, checks and strictness as ``homeassistant.block_async_io.enable()``;
    ``HOME`` is emptied so no ``~/.postgresql`` file of the machine takes part.
    """
    monkeypatch.setenv("HOME", str(tmp_path))
    loop_thread = threading.get_ident()  # the harness runs the loop in this thread
    ssl_calls = [call for call in block_async_io._BLOCKING_CALLS if call.object is SSLContext]
    assert {call.function for call in ssl_calls} >= {"load_cert_chain", "load_verify_locations"}
    for call in ssl_calls:
        monkeypatch.setattr(
            SSLContext,
            call.function,
            protect_loop(
                call.original_func,
                loop_thread_id=loop_thread,
                strict=call.strict,
                strict_core=call.strict_core,
                check_allowed=call.check_allowed,
            ),
        )


def files(pki: Pki, query: str) -> str:
    """Fill ``{ca}``, ``{cert}`` and ``{key}``."""
    return query.format(ca=pki.ca, cert=pki.client.cert, key=pki.client.key)


def sessions(server: PostgresServer, database: str) -> str:
    """Return ``count|all encrypted`` of the telemetry store's sessions with ``database``."""
    return server.psql(
        "SELECT count(*), bool_and(s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s "
        f"USING (pid) WHERE a.application_name = 'makerhub-telemetry' AND a.datname = '{database}'"
    )


@pytest.mark.parametrize(
    ("query", "user", "host"),
    [
        pytest.param("", "postgres", "127.0.0.1", id="no-sslmode"),
        pytest.param(
            "sslmode=verify-full&sslrootcert={ca}&sslcert={cert}&sslkey={key}",
            "certuser",
            "localhost",
            id="verify-full-with-client-certificate",
        ),
    ],
)
async def test_telemetry_over_tls_blocks_no_event_loop(
    hass: HomeAssistant,
    socket_enabled: None,
    detect_blocking_ssl_calls: None,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    tls_postgres: PostgresServer,
    pki: Pki,
    database: str,
    caplog: pytest.LogCaptureFixture,
    query: str,
    user: str,
    host: str,
) -> None:
    """The options flow's check, the writer and the pool connect with TLS, off the loop."""
    tls_postgres.psql(f'ALTER DATABASE "{database}" OWNER TO {user}')
    url = f"postgresql://{user}@{host}:{tls_postgres.port}/{database}"
    url = f"{url}?{files(pki, query)}" if query else url
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()

    menu = await hass.config_entries.options.async_init(hub_entry.entry_id)
    form = await hass.config_entries.options.async_configure(
        menu["flow_id"], {"next_step_id": "telemetry"}
    )
    result = await hass.config_entries.options.async_configure(
        form["flow_id"],
        {
            CONF_TELEMETRY_DSN: url,
            CONF_TELEMETRY_RETENTION_DAYS: 30,
            CONF_TELEMETRY_ROLLUPS: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    await hass.async_block_till_done()
    telemetry = hub_entry.runtime_data.telemetry
    assert telemetry is not None

    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "19.5")
    await hass.async_block_till_done()
    assert await telemetry.store.flush(20)
    await telemetry.store.enforce_retention(T0)  # on a pooled connection

    assert sessions(tls_postgres, database) == "2|t"
    assert BLOCKING not in caplog.text
    assert hub_entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
