"""Fixtures of the desktops tests: the real desktops service as a process, a project whose
repository it can clone, and a hub using the service.

Projects only take ``https://`` repository URLs; the project here is stored with an
``http://127.0.0.1`` URL of a local repository served over git's dumb HTTP (what storage
holds is not checked again), so the service clones it without a network.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.core.projects import Project
from dev.processes.desktops_process import DesktopsServiceProcess
from tests.helpers.desktops_service import TOKEN, bare_repo, desktops_service, git_http_server

PROJECT_ID = "0123456789ab"
SWITCH = "switch.clock_desktop_running"
SENSOR = "sensor.clock_desktop"


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """No adopted units."""
    return []


@pytest.fixture
def service(socket_enabled: None) -> Iterator[DesktopsServiceProcess]:
    """The real desktops service; its users and folders are removed afterwards."""
    with desktops_service(allow_http=True) as running:
        yield running


@pytest.fixture
def repo_credential() -> str | None:
    """The token the repository server asks for (None: none; parametrize to change)."""
    return None


@pytest.fixture
def repos_url(service: DesktopsServiceProcess, repo_credential: str | None) -> Iterator[str]:
    """The base URL of the service's repository root, served over HTTP."""
    with git_http_server(service.file_root, repo_credential) as url:
        yield url


def stored_project(
    owner: str, github_url: str | None, project_id: str = PROJECT_ID
) -> dict[str, Any]:
    """Return a project ``Clock`` in its stored form."""
    now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    project = Project(
        id=project_id,
        slug="clock",
        name="Clock",
        owner=owner,
        github_url=github_url,
        created=now,
        updated=now,
    )
    return project.to_json()


@pytest.fixture
def clock_project(
    hass_storage: dict[str, Any],
    hass_admin_user: User,
    service: DesktopsServiceProcess,
    repos_url: str,
) -> str:
    """Store the project ``Clock`` (owned by the admin) with a repository the service can
    clone; return its id."""
    bare_repo(service)
    url = f"{repos_url}/project.git"
    hass_storage["makerhub.projects"] = {
        "version": 1,
        "minor_version": 1,
        "key": "makerhub.projects",
        "data": {"projects": [stored_project(hass_admin_user.id, url)]},
    }
    return PROJECT_ID


async def set_desktops_options(
    hass: HomeAssistant, entry: MockConfigEntry, **fields: Any
) -> dict[str, Any]:
    """Fill the desktops options form; return the result."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "desktops"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], fields)
    await hass.async_block_till_done()
    return dict(result)


@pytest.fixture
async def desktops_hub(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    clock_project: str,
    hub: MockConfigEntry,
    service: DesktopsServiceProcess,
) -> MockConfigEntry:
    """The hub using the desktops service (set in the options, which reloads it)."""
    result = await set_desktops_options(hass, hub, desktops_url=service.url, desktops_token=TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    return hub
