"""Projects end to end: a real hass process, its REST API with real tokens, a restart."""

from __future__ import annotations

import pytest

from tests.helpers.hass_process import HassApiError, HassClient, HassProcess

pytestmark = pytest.mark.e2e


async def test_projects_over_rest_survive_a_restart(
    hass_api: HassClient, hass_process: HassProcess
) -> None:
    """Create a project with steps and an expense over REST; it is there after a restart."""
    client = hass_api
    project = await client.post(
        "/api/makerhub/projects",
        {"name": "Robot arm", "space_use": "3D printer", "steps": ["Print", "Wire"]},
    )
    pid = project["id"]
    await client.post(f"/api/makerhub/projects/{pid}/steps", {"text": "Calibrate"})
    step = project["steps"][0]["id"]
    await client.post(f"/api/makerhub/projects/{pid}/steps/{step}", {})
    expense = await client.post(
        f"/api/makerhub/projects/{pid}/expenses", {"amount": "9.90", "currency": "EUR"}
    )
    with pytest.raises(HassApiError, match="400"):
        await client.post("/api/makerhub/projects", {"name": ""})

    await client.close()
    assert hass_process.stop() == 0  # storage is written on the way down
    hass_process.start()
    client = HassClient(hass_process)
    try:
        await client.login()
        await client.wait_running()
        again = await client.get(f"/api/makerhub/projects/{pid}")
        assert [s["text"] for s in again["steps"]] == ["Print", "Wire", "Calibrate"]
        assert again["steps"][0]["done"] is True
        assert again["expenses"] == [expense]
        assert again["space_use"] == "3D printer"
    finally:
        await client.close()
