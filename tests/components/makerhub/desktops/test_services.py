"""makerhub.start_desktop, stop_desktop and desktop_url, against the real service; a
controller URL and stopping only for the project's owner and admins."""

from __future__ import annotations

from dataclasses import replace
import shutil
from typing import Any
from urllib.parse import parse_qs, urlsplit

from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.projects.accounts import Service
from dev.processes.desktops_process import DesktopsServiceProcess
from tests.helpers.desktops_service import bare_repo

from .conftest import PROJECT_ID, SENSOR


async def call(
    hass: HomeAssistant, action: str, user: User | None = None, **data: Any
) -> dict[str, Any]:
    """Call a desktop action as ``user`` (None: the system); return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        action,
        data,
        blocking=True,
        return_response=True,
        context=Context(user_id=None if user is None else user.id),
    )
    await hass.async_block_till_done()
    assert response is not None
    return dict(response)


async def test_start_url_and_stop(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    hass_admin_user: User,
) -> None:
    started = await call(hass, "start_desktop", hass_admin_user, project="clock")
    assert started == {"project": PROJECT_ID, "state": "running", "viewers": 0, "controllers": 0}
    assert hass.states.get(SENSOR).state == "running"

    url = await call(hass, "desktop_url", hass_admin_user, project=PROJECT_ID, role="controller")
    assert url["role"] == "controller"
    assert url["url"].startswith(f"{service.url}/desktop?token=")
    assert url["path"] == url["url"].removeprefix(service.url + "/")
    viewer = await call(hass, "desktop_url", hass_admin_user, project="clock")
    assert viewer["role"] == "viewer"
    token = parse_qs(urlsplit(viewer["url"]).query)["token"][0]
    assert token not in url["url"]

    stopped = await call(hass, "stop_desktop", hass_admin_user, project="clock")
    assert stopped["state"] == "stopped"
    assert service.call("GET", f"/api/desktops/{PROJECT_ID}")[1]["state"] == "stopped"


async def test_others_get_a_viewer_url_only(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    hass_read_only_user: User,
) -> None:
    # desktop_url starts a desktop the service does not know yet.
    viewer = await call(hass, "desktop_url", hass_read_only_user, project="clock")
    assert viewer["role"] == "viewer"
    assert service.call("GET", f"/api/desktops/{PROJECT_ID}")[1]["state"] == "running"
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "desktop_url", hass_read_only_user, project="clock", role="controller")
    assert refused.value.translation_key == "not_your_desktop"
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "stop_desktop", hass_read_only_user, project="clock")
    assert refused.value.translation_key == "not_your_desktop"
    assert service.call("GET", f"/api/desktops/{PROJECT_ID}")[1]["state"] == "running"
    # An automation acts as the system.
    controller = await call(hass, "desktop_url", None, project="clock", role="controller")
    assert controller["role"] == "controller"


async def test_refusals(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    hass_admin_user: User,
) -> None:
    with pytest.raises(ServiceValidationError) as unknown:
        await call(hass, "start_desktop", hass_admin_user, project="nothing")
    assert unknown.value.translation_key == "unknown_project"
    # The service's own refusal comes back with its message: the repository is gone.
    shutil.rmtree(service.file_root / "project.git")
    with pytest.raises(HomeAssistantError) as failed:
        await call(hass, "start_desktop", hass_admin_user, project="clock")
    assert failed.value.translation_key == "desktop_failed"
    assert failed.value.translation_placeholders is not None
    assert "project.git" in failed.value.translation_placeholders["error"]


async def test_without_a_service(
    hass: HomeAssistant, clock_project: str, hub: MockConfigEntry, hass_admin_user: User
) -> None:
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "start_desktop", hass_admin_user, project="clock")
    assert refused.value.translation_key == "desktops_not_configured"


async def test_a_project_without_a_repository_gets_an_empty_workspace(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    repos_url: str,
    hass_admin_user: User,
) -> None:
    lamp = await call(hass, "create_project", hass_admin_user, name="Lamp")
    started = await call(hass, "start_desktop", hass_admin_user, project="lamp")
    assert started["state"] == "running"
    status, desktop = service.call("GET", f"/api/desktops/{lamp['id']}")
    assert (status, desktop["repository"]) == (200, None)
    workspace = service.data_dir / "homes" / lamp["id"] / "workspace"
    assert [p.name for p in workspace.iterdir()] == [".git"]
    assert hass.states.get("sensor.lamp_desktop").state == "running"
    # The project gets its repository: the next start clones it into the empty workspace.
    bare_repo(service, "lamp")
    # Put in place directly: the actions only take https://, the test's git server is http.
    registry = makerhub_data(hass).projects.registry
    project = registry.get(lamp["id"])
    registry._projects[project.id] = replace(project, github_url=f"{repos_url}/lamp.git")
    await call(hass, "start_desktop", hass_admin_user, project="lamp")
    status, desktop = service.call("GET", f"/api/desktops/{lamp['id']}")
    assert desktop["repository"] == f"{repos_url}/lamp.git"
    assert (workspace / "README.md").read_text() == "# lamp\n"


@pytest.mark.parametrize("repo_credential", ["owner-github-token"])
async def test_the_first_start_clones_with_the_owners_github_token(
    hass: HomeAssistant,
    alice: str,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    hass_admin_user: User,
) -> None:
    # Without the owner's token the private repository cannot be cloned.
    with pytest.raises(HomeAssistantError) as refused:
        await call(hass, "start_desktop", hass_admin_user, project="clock")
    assert refused.value.translation_key == "desktop_failed"

    await makerhub_data(hass).accounts.async_set(alice, Service.GITHUB, "owner-github-token")
    started = await call(hass, "start_desktop", hass_admin_user, project="clock")
    assert started["state"] == "running"
    workspace = service.data_dir / "homes" / PROJECT_ID / "workspace"
    assert (workspace / "README.md").is_file()
    # The service does not keep it.
    assert "owner-github-token" not in (workspace / ".git" / "config").read_text()
