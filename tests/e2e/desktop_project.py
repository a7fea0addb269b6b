"""A hub using the real desktops service, with a project whose desktop it can open: what
the desktops and displays end-to-end tests start from."""

from __future__ import annotations

import json

from dev.processes.desktops_process import DesktopsServiceProcess
from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from tests.helpers.desktops_service import TOKEN


async def hub_with_a_project(
    hass_process: HassProcess,
    mosquitto: MosquittoBroker,
    service: DesktopsServiceProcess,
    repos: str,
) -> str:
    """Start Home Assistant, set the hub up with the desktops service and create the
    project ``Clock`` (its owner signed the agreement); return the project's id, Home
    Assistant running.

    Projects take GitHub's https URLs only: the stored project is given the local
    repository ``<repos>/project.git`` (over HTTP, no network) while Home Assistant is down.
    """
    hass_process.start()
    client = HassClient(hass_process)
    try:
        await client.login()
        await client.wait_running()
        await client.setup_mqtt(mosquitto.host, mosquitto.port)
        await client.setup_makerhub()
        (entry,) = await client.entries("makerhub")
        result = await client.options_flow(
            entry["entry_id"],
            {"next_step_id": "desktops"},
            {"desktops_url": service.url, "desktops_token": TOKEN},
        )
        assert result["type"] == "create_entry", result
        await client.call_service("makerhub", "sign_agreement", {})  # a member's first
        project: str = (await client.post("/api/makerhub/projects", {"name": "Clock"}))["id"]
    finally:
        await client.close()
    assert hass_process.stop() == 0
    store = hass_process.config_dir / ".storage" / "makerhub.projects"
    stored = json.loads(store.read_text())
    (record,) = stored["data"]["projects"]
    record["github_url"] = f"{repos}/project.git"
    store.write_text(json.dumps(stored))
    hass_process.start()
    client = HassClient(hass_process)
    try:
        await client.login()
        await client.wait_running()
    finally:
        await client.close()
    return project
