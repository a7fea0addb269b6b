"""Makerhub installed as HACS installs it, into a Home Assistant with nothing else.

A virtual environment with only ``homeassistant`` (as ``pip install homeassistant`` leaves
it), the integration copied into a new config folder's ``custom_components``, ``hass``
started from that environment without ``--skip-pip``: Home Assistant itself installs the
manifest's requirements before it imports the integration, as it does for users. The hub
is then set up through its config flow over the REST API, with MQTT on a real Mosquitto,
and telemetry switched on against PostgreSQL (the code that needs the requirement).
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path

from packaging.requirements import Requirement
import pytest

from dev.processes.hass_process import INTEGRATION, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from dev.processes.postgres import create_database, drop_database, dsn, unique_name
from tests.helpers.hass_venv import fresh_venv, installed_versions

# The first run builds the cached environment (pip) and Home Assistant downloads what it
# installs at its first start; later runs take a fraction of that.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]
STARTUP_TIMEOUT = 900


@pytest.fixture
def database() -> Iterator[str]:
    """An empty database on the shared PostgreSQL server."""
    name = unique_name("makerhub_hacs")
    create_database(name)
    try:
        yield name
    finally:
        drop_database(name)


async def test_installs_from_hacs_into_a_stock_home_assistant(
    socket_enabled: None, tmp_path: Path, mosquitto: MosquittoBroker, database: str
) -> None:
    """Home Assistant installs the requirements; the hub loads and writes telemetry."""
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    requirements = [Requirement(line) for line in manifest["requirements"]]
    pins = {req.name: next(iter(req.specifier)).version for req in requirements}  # all ==
    assert "asyncpg" in pins
    python = fresh_venv(tmp_path / "venv")
    assert installed_versions(python, pins) == dict.fromkeys(pins)

    hass = HassProcess(
        tmp_path / "config", python=str(python), copy_makerhub=True, install_requirements=True
    )
    client = HassClient(hass)
    try:
        hass.start()
        installed = hass.config_dir / "custom_components" / "makerhub"
        assert installed.is_dir()
        assert not installed.is_symlink()
        await client.wait_http(timeout=STARTUP_TIMEOUT)
        await client.login()
        await client.wait_running(timeout=STARTUP_TIMEOUT)

        await client.setup_mqtt(mosquitto.host, mosquitto.port)
        await client.setup_makerhub()
        (entry,) = await client.entries("makerhub")
        assert entry["state"] == "loaded"
        assert installed_versions(python, pins) == pins

        devices = await client.ws({"type": "config/device_registry/list"})
        hub = [device for device in devices if ["makerhub", "hub"] in device["identifiers"]]
        assert [device["config_entries"] for device in hub] == [[entry["entry_id"]]]

        # Telemetry: the options flow checks the database with asyncpg, the writer uses it.
        result = await client.options_flow(
            entry["entry_id"],
            {"next_step_id": "telemetry"},
            {
                "telemetry_dsn": dsn(database),
                "telemetry_retention_days": 30,
                "telemetry_rollups": False,
            },
        )
        assert result["type"] == "create_entry"
        await client.wait_for(
            lambda: client.state("binary_sensor.makerhub_telemetry_database"),
            lambda state: state is not None and state["state"] == "on",
            60,
            "the telemetry database to show connected",
        )
        assert hass.makerhub_problems() == []
    finally:
        await client.close()
        hass.stop()
