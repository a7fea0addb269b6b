"""The space's agreement in Home Assistant: its text (the projects options), each
person's acceptance in ``.storage/makerhub.agreements``, and the wizard's check.

The acceptances belong to the integration (they outlive reloads); a signature is saved
at once (Home Assistant's storage writes a temporary file and renames it over the old
one, so a kill leaves the old or the new file, never half of one) before it is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import CONF_AGREEMENT_TEXT, DOMAIN
from ..core.agreement import DEFAULT_AGREEMENT, Acceptance, Agreements, AgreementStatus
from ..presence.manager import person_name, person_of_user

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "makerhub.agreements"
STORAGE_VERSION: Final = 1


def agreement_text(hass: HomeAssistant) -> str:
    """Return the agreement in force: the hub's option, or the default text."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if text := str(entry.options.get(CONF_AGREEMENT_TEXT) or "").strip():
            return text
    return DEFAULT_AGREEMENT


class AgreementNotSignedError(PermissionError):
    """A new project for an owner whose person has not signed the agreement in force."""

    def __init__(self, person: str) -> None:
        """Name the person."""
        super().__init__(
            f"{person} has not signed the space's agreement; sign it first "
            "(the Me view, or the makerhub.sign_agreement action)"
        )
        self.person = person


class MemberAgreements:
    """The acceptances and their storage; listeners hear of every signature."""

    def __init__(self, hass: HomeAssistant, agreements: Agreements, dropped: int = 0) -> None:
        """Wrap the loaded acceptances."""
        self.hass = hass
        self.agreements = agreements
        self.dropped = dropped
        """Stored acceptances that were malformed and dropped at load."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._listeners: list[Callable[[], None]] = []

    @classmethod
    async def async_load(cls, hass: HomeAssistant) -> MemberAgreements:
        """Load the stored acceptances (a malformed one is logged and dropped)."""
        store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        agreements, problems = Agreements.from_json(await store.async_load() or {})
        for problem in problems:
            _LOGGER.error("Stored agreement acceptance dropped: %s", problem)
        return cls(hass, agreements, len(problems))

    def text(self) -> str:
        """Return the agreement in force."""
        return agreement_text(self.hass)

    def status(self, person: str) -> AgreementStatus:
        """Return where a person stands with the agreement in force."""
        return self.agreements.status(person, self.text())

    async def async_sign(self, person: str, recorded_by: str | None = None) -> Acceptance:
        """Record that ``person`` accepts the text in force now; saved before returning."""
        acceptance = self.agreements.sign(person, self.text(), dt_util.utcnow(), recorded_by)
        await self._store.async_save(self.agreements.to_json())
        self.notify()
        return acceptance

    @callback
    def notify(self) -> None:
        """Tell the listeners (the signature, or the text in force, changed)."""
        for listener in list(self._listeners):
            listener()

    @callback
    def add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` after every signature; return the undo."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def unsigned_owner(self, owner_user_id: str) -> str | None:
        """Return the person of a project's owner when they have not signed the text in
        force (None: signed, or the user is linked to no person and so is no member)."""
        person = person_of_user(self.hass, owner_user_id)
        if person is None or self.status(person).signed:
            return None
        return person

    def require_signed(self, owner_user_id: str) -> None:
        """Refuse a new project for an owner who has not signed the agreement in force
        (raise AgreementNotSignedError)."""
        if (person := self.unsigned_owner(owner_user_id)) is not None:
            raise AgreementNotSignedError(person)

    def check_owner(self, owner_user_id: str) -> None:
        """Refuse, for an action, a new project for an owner who has not signed."""
        if (person := self.unsigned_owner(owner_user_id)) is not None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="agreement_not_signed",
                translation_placeholders={"person": person_name(self.hass, person)},
            )
