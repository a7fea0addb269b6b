"""People's accounts on outside services (GitHub, Todoist): their tokens, encrypted.

Each person may connect their own GitHub and Todoist accounts; a project uses its owner's.
Tokens are kept in ``.storage/makerhub.accounts`` sealed with the hub's secret box (the
key in ``.storage/makerhub.key``), each bound to its person and service so a token cannot
be moved to another person by editing the file. They never appear in logs or diagnostics.
"""

from __future__ import annotations

from enum import StrEnum
import logging
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store

from ..core.github import API_URL as GITHUB_API_URL, GitHubClient
from ..core.secret_box import SecretBox
from ..core.todoist import API_URL as TODOIST_API_URL, TodoistClient
from ..secrets import async_get_secret_box, open_text_or_none, seal_text

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "makerhub.accounts"
STORAGE_VERSION: Final = 1


class Service(StrEnum):
    """An outside service a person can connect."""

    GITHUB = "github"
    TODOIST = "todoist"


SERVICE_URLS: Final[dict[Service, str]] = {
    Service.GITHUB: GITHUB_API_URL,
    Service.TODOIST: TODOIST_API_URL,
}
"""Where each service's API is (tests point these at local fake servers)."""


def service_url(service: Service) -> str:
    """Return the API base URL of a service."""
    return SERVICE_URLS[service]


def _context(person: str, service: Service) -> str:
    return f"makerhub account {person} {service.value}"


async def async_check_token(hass: HomeAssistant, service: Service, token: str) -> str:
    """Return the account name a token belongs to; raise GitHubError / TodoistError."""
    session = async_get_clientsession(hass)
    if service is Service.GITHUB:
        return await GitHubClient(session, token, service_url(service)).login()
    return await TodoistClient(session, token, service_url(service)).user_name()


class Accounts:
    """Every person's service tokens, sealed at rest."""

    def __init__(
        self, hass: HomeAssistant, box: SecretBox, sealed: dict[str, dict[str, str]]
    ) -> None:
        """Wrap the stored, sealed tokens."""
        self._box = box
        self._sealed = sealed
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)

    @classmethod
    async def async_load(cls, hass: HomeAssistant) -> Accounts:
        """Load the sealed tokens (creating the hub's key on first use)."""
        store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        data = await store.async_load() or {}
        return cls(hass, await async_get_secret_box(hass), dict(data.get("people", {})))

    def token(self, person: str, service: Service) -> str | None:
        """Return a person's token for a service (None when not connected or unreadable)."""
        sealed = self._sealed.get(person, {}).get(service.value)
        if sealed is None:
            return None
        token = open_text_or_none(self._box, sealed, _context(person, service))
        if token is None:
            _LOGGER.error(
                "The %s token of %s cannot be decrypted (was the hub's key replaced?); "
                "connect the account again in Makerhub's options",
                service.value,
                person,
            )
        return token

    def connected(self, person: str) -> list[Service]:
        """Return the services a person has connected."""
        return [Service(name) for name in sorted(self._sealed.get(person, {}))]

    async def async_set(self, person: str, service: Service, token: str | None) -> None:
        """Store (or, with None, forget) a person's token, and save at once."""
        tokens = self._sealed.setdefault(person, {})
        if token is None:
            tokens.pop(service.value, None)
        else:
            tokens[service.value] = seal_text(self._box, token, _context(person, service))
        if not tokens:
            del self._sealed[person]
        await self._store.async_save({"people": self._sealed})
