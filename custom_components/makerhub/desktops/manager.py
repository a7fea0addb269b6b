"""Project desktops in Home Assistant, run by the desktops service.

The desktops service (the ``makerhub_desktops`` add-on, or the same program run
anywhere) runs one Linux desktop per project, its workspace a clone of the project's
repository; the client is ``core/desktops_client.py``. Here the hub:

- polls every desktop's state and viewers with a ``DataUpdateCoordinator``, and raises a
  repair issue while the service cannot be reached, or a fixable one while it refuses the
  hub's token (its fix flow, ``desktops/repairs.py``, takes a new token);
- starts a project's desktop with its repository and its owner's GitHub token (used once
  by the service, never kept), stops it, and issues connect URLs for a role.

:class:`HubDesktops` always exists; without a configured service it says so
(:attr:`HubDesktops.configured`) and its actions fail with ``desktops_not_configured``.
"""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from ..const import DOMAIN
from ..core.desktops_client import (
    ConnectToken,
    Desktop,
    DesktopsAuthError,
    DesktopsClient,
    DesktopsError,
    DesktopState,
    Role,
)
from ..core.projects import Project
from ..projects.accounts import Accounts, Service
from ..projects.store import Projects, lookup_project
from ..secrets import CONTEXT_DESKTOPS_TOKEN, async_get_secret_box, open_text_or_none

_LOGGER = logging.getLogger(__name__)

CONF_DESKTOPS_URL: Final = "desktops_url"
CONF_DESKTOPS_TOKEN: Final = "desktops_token"  # noqa: S105 (an option's key)
"""Sealed with the hub's secret box."""
ISSUE_UNREACHABLE: Final = "desktops_unreachable"
ISSUE_TOKEN_REFUSED: Final = "desktops_token_refused"  # noqa: S105 (an issue's id)
"""Fixable: its fix flow asks for a new token."""
POLL_INTERVAL: Final = timedelta(seconds=30)
CONNECT_TTL: Final = 120
"""Seconds a connect URL works (single use)."""


async def async_check_desktops(hass: HomeAssistant, url: str, token: str) -> None:
    """Check that the desktops service at ``url`` answers and accepts ``token``; raise
    DesktopsError (``desktops_form_error`` names it for a form)."""
    await DesktopsClient(async_get_clientsession(hass), url, token).health()


def desktops_form_error(err: DesktopsError) -> str:
    """Return the form error key of a failed :func:`async_check_desktops`."""
    return "desktops_auth" if isinstance(err, DesktopsAuthError) else "desktops_unreachable"


def desktop_failed(err: DesktopsError) -> HomeAssistantError:
    """Return the action error of a service's refusal or failure (its message kept)."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="desktop_failed",
        translation_placeholders={"error": str(err)},
    )


class HubDesktops:
    """The hub's side of the project desktops."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        projects: Projects,
        accounts: Accounts,
        client: DesktopsClient | None,
    ) -> None:
        """Wrap a client (None while no desktops service is set up)."""
        self.hass = hass
        self.entry = entry
        self.projects = projects
        self.accounts = accounts
        self.client = client
        self.coordinator: DataUpdateCoordinator[dict[str, Desktop]] = DataUpdateCoordinator(
            hass,
            _LOGGER,
            config_entry=entry,
            name="makerhub desktops",
            update_method=self._async_poll,
            # Without a service nothing is polled (entities listening would start it).
            update_interval=POLL_INTERVAL if client is not None else None,
        )

    @property
    def configured(self) -> bool:
        """Return whether a desktops service is set up."""
        return self.client is not None

    async def async_start(self) -> None:
        """Poll the service (a failing first poll is retried on the interval)."""
        if self.client is None:
            self._clear_issues()
            return
        await self.coordinator.async_refresh()

    def require_client(self) -> DesktopsClient:
        """Return the client; raise HomeAssistantError when no service is set up."""
        if self.client is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="desktops_not_configured"
            )
        return self.client

    # -- state ---------------------------------------------------------------------

    async def _async_poll(self) -> dict[str, Desktop]:
        client = self.require_client()
        try:
            desktops = await client.list_desktops()
        except DesktopsError as err:
            self._unreachable(err)
            raise UpdateFailed(str(err)) from err
        self._clear_issues()
        return {desktop.project: desktop for desktop in desktops}

    def _unreachable(self, err: DesktopsError) -> None:
        """Raise the repair issue of ``err``: a refused token (fixable) or another failure."""
        assert self.client is not None
        refused = isinstance(err, DesktopsAuthError)
        issue_id, other = (
            (ISSUE_TOKEN_REFUSED, ISSUE_UNREACHABLE)
            if refused
            else (ISSUE_UNREACHABLE, ISSUE_TOKEN_REFUSED)
        )
        ir.async_delete_issue(self.hass, DOMAIN, other)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=refused,
            severity=ir.IssueSeverity.ERROR,
            translation_key=issue_id,
            translation_placeholders={"url": self.client.base_url, "error": str(err)},
            data={"entry_id": self.entry.entry_id} if refused else None,
        )

    def _clear_issues(self) -> None:
        for issue_id in (ISSUE_UNREACHABLE, ISSUE_TOKEN_REFUSED):
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    def desktop(self, project_id: str) -> Desktop | None:
        """Return what the last poll learned of a project's desktop (None: never started)."""
        return (self.coordinator.data or {}).get(project_id)

    def state(self, project_id: str) -> DesktopState:
        """Return a project's desktop state (one the service never started is stopped)."""
        desktop = self.desktop(project_id)
        return DesktopState.STOPPED if desktop is None else desktop.state

    @property
    def available(self) -> bool:
        """Return whether the service is set up and its last poll succeeded."""
        return self.client is not None and self.coordinator.last_update_success

    # -- actions -------------------------------------------------------------------

    def _owner_credential(self, project: Project) -> str | None:
        """Return the GitHub token of the person whose user owns the project, if any."""
        for state in self.hass.states.async_all("person"):
            if state.attributes.get("user_id") == project.owner:
                return self.accounts.token(state.entity_id, Service.GITHUB)
        return None

    async def async_start_desktop(self, project_id: str) -> Desktop:
        """Start (or resume) a project's desktop; the first start clones its repository.

        A project without one gets an empty workspace (``git init``); once it has a
        repository, the next start clones it there while that workspace is still empty.
        """
        client = self.require_client()
        project = lookup_project(self.projects, project_id)
        try:
            desktop = await client.start(
                project_id,
                repository=project.github_url,
                credential=self._owner_credential(project) if project.github_url else None,
            )
        except DesktopsError as err:
            raise desktop_failed(err) from err
        self._store(desktop)
        return desktop

    async def async_stop_desktop(self, project_id: str) -> Desktop | None:
        """Stop a project's desktop (its workspace is kept); None if it never ran."""
        client = self.require_client()
        lookup_project(self.projects, project_id)
        if self.desktop(project_id) is None:
            return None
        try:
            desktop = await client.stop(project_id)
        except DesktopsError as err:
            raise desktop_failed(err) from err
        self._store(desktop)
        return desktop

    async def async_connect(self, project_id: str, role: Role) -> ConnectToken:
        """Return a single-use connect URL for ``role`` (the desktop starts on connect,
        so it is started first when the service does not know it yet)."""
        client = self.require_client()
        lookup_project(self.projects, project_id)
        if self.desktop(project_id) is None:
            await self.async_start_desktop(project_id)
        try:
            return await client.connect(project_id, role, ttl=CONNECT_TTL)
        except DesktopsError as err:
            raise desktop_failed(err) from err

    def _store(self, desktop: Desktop) -> None:
        """Keep an answer the service just gave, for the entities, until the next poll."""
        data = dict(self.coordinator.data or {})
        data[desktop.project] = desktop
        self.coordinator.async_set_updated_data(data)


async def async_create_desktops(
    hass: HomeAssistant, entry: ConfigEntry, projects: Projects, accounts: Accounts
) -> HubDesktops:
    """Return the hub's desktops side, with a client when the service is set up."""
    client = None
    url = entry.options.get(CONF_DESKTOPS_URL)
    if url:
        sealed = entry.options.get(CONF_DESKTOPS_TOKEN, "")
        box = await async_get_secret_box(hass)
        token = open_text_or_none(box, sealed, CONTEXT_DESKTOPS_TOKEN) if sealed else ""
        if token is None:
            token = ""
            _LOGGER.error(
                "The desktops service token cannot be decrypted; enter it again in "
                "Makerhub's options"
            )
        client = DesktopsClient(async_get_clientsession(hass), url, token)
    return HubDesktops(hass, entry, projects, accounts, client)
