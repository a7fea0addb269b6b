"""Telemetry end to end: a real hass, Mosquitto, PostgreSQL (a private server) and units.

Telemetry is switched on through the options flow over the REST API; values reach the
database and come back through ``makerhub.get_history``. Then the database stops
mid-stream, Home Assistant is stopped while it is down (what it buffered goes to the
spill file), the database comes back, Home Assistant starts again and replays the spill:
not one second of the outage is missing from the history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.postgres import PostgresServer

pytestmark = pytest.mark.e2e

TEMPERATURE = "sensor.e2e_thermometer_1_temperature"
PASSWORD = "e2e-secret"


@pytest.fixture
def database() -> Iterator[PostgresServer]:
    """A private PostgreSQL server (the test stops it) with a ``makerhub`` database."""
    server = PostgresServer(password_roles=("makerhub",))
    server.init()
    server.start()
    try:
        server.ensure_role("makerhub", PASSWORD)
        server.psql("CREATE DATABASE makerhub OWNER makerhub")
        yield server
    finally:
        server.destroy()


async def history(client: HassClient, **data: Any) -> dict[str, Any]:
    """Return makerhub.get_history's response for the thermometer's temperature."""
    return await client.service_response(
        "makerhub", "get_history", {"entity_id": TEMPERATURE, **data}
    )


def iso(moment: datetime) -> str:
    """Return a time as the service's datetime field takes it."""
    return moment.isoformat()


async def test_history_survives_database_outage_and_restart(
    hass_api: HassClient,
    hass_process: HassProcess,
    start_fleet: Any,
    database: PostgresServer,
) -> None:
    """Nothing recorded while the database was away is lost, across a restart."""
    client = hass_api
    start_fleet(
        "--units", "1", "--kinds", "thermometer", "--rate", "10",
        "--state-interval", "2", "--id-prefix", "e2e", "--qos", "1",
    )  # fmt: skip
    flows = await client.wait_for(
        client.discovered_units, lambda flows: len(flows) == 1, 30, "the announced unit"
    )
    await client.adopt(flows[0]["flow_id"], "E2E thermometer 1")

    # Telemetry on, through the options flow: a wrong password is refused first.
    entry_id = (await client.entries("makerhub"))[0]["entry_id"]
    wrong = database.dsn("makerhub", user="makerhub", password="nope")
    refused = await client.options_flow(
        entry_id,
        {"next_step_id": "telemetry"},
        {"telemetry_dsn": wrong, "telemetry_retention_days": 90, "telemetry_rollups": True},
    )
    assert refused["errors"] == {"telemetry_dsn": "auth_failed"}
    url = database.dsn("makerhub", user="makerhub", password=PASSWORD)
    result = await client.options_flow(
        entry_id,
        {"next_step_id": "telemetry"},
        {"telemetry_dsn": url, "telemetry_retention_days": 90, "telemetry_rollups": True},
    )
    assert result["type"] == "create_entry"
    # Home Assistant writes its config entries a second after the last change to them.
    stored = hass_process.config_dir / ".storage" / "core.config_entries"

    async def stored_entries() -> str:
        return stored.read_text() if stored.exists() else ""

    options = await client.wait_for(
        stored_entries, lambda text: "telemetry_dsn" in text, 10, "the telemetry options stored"
    )
    assert PASSWORD not in options  # stored encrypted

    # Values arrive in the database and come back through the action.
    await client.wait_for(
        lambda: history(client, aggregation="count"),
        lambda response: bool(response["points"]) and response["points"][0]["value"] >= 20,
        60,
        "twenty temperatures in the database",
    )
    raw = await history(client)
    assert all(-40 <= point["value"] <= 85 for point in raw["points"])

    # The database goes away; Home Assistant notices and buffers.
    database.stop("fast")
    outage_start = datetime.now(UTC)
    await client.wait_for(
        lambda: client.state("binary_sensor.makerhub_telemetry_database"),
        lambda state: state is not None and state["state"] == "off",
        60,
        "the telemetry database to show disconnected",
    )
    await asyncio.sleep(2)
    outage_end = datetime.now(UTC)

    # Home Assistant stops while the database is down: the buffer goes to the spill file.
    await client.close()
    assert hass_process.stop() == 0
    spill = hass_process.config_dir / ".storage" / "makerhub_telemetry.spill"
    assert spill.stat().st_size > 0

    # Both come back; the spill file is replayed.
    database.start()
    hass_process.start()
    client = HassClient(hass_process)
    try:
        await client.login()
        await client.wait_running()
        await client.wait_for(
            lambda: asyncio.to_thread(spill.exists),
            lambda exists: not exists,
            60,
            "the spill file to be replayed",
        )
        # Every second of the outage has its samples (the unit sends about 5 a second).
        start = outage_start + timedelta(seconds=1)
        end = outage_end - timedelta(seconds=1)
        buckets = await history(
            client, aggregation="count", bucket={"seconds": 1}, start=iso(start), end=iso(end)
        )
        seconds = {point["time"] for point in buckets["points"]}
        assert len(seconds) >= int((end - start).total_seconds()), buckets
        assert all(point["value"] >= 1 for point in buckets["points"])
        lost = await client.state("sensor.makerhub_telemetry_samples_lost")
        assert lost is not None
        assert lost["state"] == "0"
        backup = await client.service_response("makerhub", "backup_telemetry", {})
        assert Path(backup["path"]).parent == hass_process.config_dir / "backups"
        assert backup["size"] > 0
    finally:
        await client.close()
    assert hass_process.stop() == 0
    assert hass_process.makerhub_problems() == []
    # Connecting (with sslmode=prefer, the default) reads no certificate file in the loop.
    assert hass_process.log_lines("Detected blocking call") == []
    log = hass_process.log_path.read_text()
    assert PASSWORD not in log
