"""Per-unit broker credentials, and the broker's access control kept in step with units.

Every unit gets its own broker user (``mh-<uid>``) and password, generated when it is
adopted and kept sealed in ``.storage/makerhub.unit_credentials``; the unit receives them
in its ``env.json`` (``GET /api/makerhub/units/<uid>/env.json``, admins only).

How the broker learns them is the hub's *broker access* option:

- ``none``: the broker's own authentication decides (the default; nothing is enforced).
- ``dynamic_security``: the hub manages a Mosquitto with its dynamic-security plugin over
  ``$CONTROL/dynamic-security/v1``, with admin credentials from the options (stored
  encrypted): one client and one role per unit whose ACL lets it publish only its own
  ``out`` and ``sys`` topics and read only its own ``in``/``cmd``/schema topics and the
  outputs linked to it. Links change the role; deleting a unit deletes its client.
- ``files``: for brokers without the plugin (the Mosquitto add-on), the hub writes a
  password file and an ACL file into a folder the broker reads (see docs/broker.md).

Every change is applied as a whole-state sync (what each unit should be allowed, against
what was applied last), so a failed attempt is simply retried; failures raise a repair
issue and never stop the hub. When the broker refuses the admin credentials themselves,
Home Assistant's reauthentication flow asks for them instead of the repair issue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
import logging
from pathlib import Path
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store

from ..const import DOMAIN, REAUTH_BROKER_ADMIN, REAUTH_CREDENTIAL
from ..core.dynsec import (
    DynSecAdmin,
    DynSecAuthError,
    DynSecError,
    acl_file,
    new_password,
    password_file,
    unit_username,
)
from ..core.secret_box import SecretBox, write_private_file
from ..secrets import CONTEXT_BROKER_ADMIN, async_get_secret_box, open_text_or_none, seal_text

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "makerhub.unit_credentials"
STORAGE_VERSION: Final = 1
RETRY: Final = timedelta(minutes=5)
ISSUE_FAILED: Final = "broker_access_failed"

CONF_BROKER_ACCESS: Final = "broker_access"
CONF_ADMIN_HOST: Final = "broker_admin_host"
CONF_ADMIN_PORT: Final = "broker_admin_port"
CONF_ADMIN_TLS: Final = "broker_admin_tls"
CONF_ADMIN_USERNAME: Final = "broker_admin_username"
CONF_ADMIN_PASSWORD: Final = "broker_admin_password"  # noqa: S105 (an option's key)
"""Sealed with the hub's secret box."""
CONF_FILES_DIRECTORY: Final = "broker_files_directory"
CONF_HUB_USERNAME: Final = "broker_hub_username"
"""The broker user of Home Assistant's MQTT integration (files mode: it may use every
Makerhub topic)."""
DEFAULT_FILES_DIRECTORY: Final = "/share/mosquitto"


class AccessMode(StrEnum):
    """How the broker learns the units' credentials."""

    NONE = "none"
    DYNAMIC_SECURITY = "dynamic_security"
    FILES = "files"


@dataclass(frozen=True, slots=True)
class AdminSettings:
    """Where and as whom the hub administers a dynamic-security broker."""

    host: str
    port: int
    tls: bool
    username: str
    password: str


def access_mode(entry: ConfigEntry) -> AccessMode:
    """Return the hub's broker access mode."""
    return AccessMode(entry.options.get(CONF_BROKER_ACCESS, AccessMode.NONE))


class UnitCredentials:
    """Each unit's broker password and API token (``MH_TOKEN``), sealed at rest."""

    def __init__(
        self,
        hass: HomeAssistant,
        box: SecretBox,
        sealed: dict[str, str],
        tokens: dict[str, str] | None = None,
    ) -> None:
        """Wrap the stored, sealed passwords and tokens."""
        self._box = box
        self._sealed = sealed
        self._tokens = tokens or {}
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)

    @classmethod
    async def async_load(cls, hass: HomeAssistant, box: SecretBox) -> UnitCredentials:
        """Load the sealed passwords and tokens."""
        store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        data = await store.async_load() or {}
        return cls(hass, box, dict(data.get("units", {})), dict(data.get("tokens", {})))

    def _open(self, sealed: str | None, context: str) -> str | None:
        if sealed is None:
            return None
        secret = open_text_or_none(self._box, sealed, context)
        if secret is None:
            _LOGGER.error("A unit secret cannot be decrypted (%s)", context)
        return secret

    def password(self, uid: str) -> str | None:
        """Return a unit's password (None when it has none or it cannot be unsealed)."""
        return self._open(self._sealed.get(uid), f"makerhub unit {uid}")

    def token(self, uid: str) -> str | None:
        """Return a unit's API token (None when it has none)."""
        return self._open(self._tokens.get(uid), f"makerhub unit token {uid}")

    def uids(self) -> set[str]:
        """Return the units that have a password."""
        return set(self._sealed)

    async def async_ensure(self, uid: str) -> str:
        """Return a unit's password, generating (and saving) one when it has none; give
        it an API token too."""
        if (password := self.password(uid)) is None:
            password = await self.async_rotate(uid)
        if self.token(uid) is None:
            self._tokens[uid] = seal_text(self._box, new_password(), f"makerhub unit token {uid}")
            await self._save()
        return password

    async def async_rotate(self, uid: str) -> str:
        """Give a unit a new password and return it."""
        password = new_password()
        self._sealed[uid] = seal_text(self._box, password, f"makerhub unit {uid}")
        await self._save()
        return password

    async def async_forget(self, uid: str) -> None:
        """Forget a deleted unit's password and token."""
        if (self._sealed.pop(uid, None), self._tokens.pop(uid, None)) != (None, None):
            await self._save()

    async def _save(self) -> None:
        await self._store.async_save({"units": self._sealed, "tokens": self._tokens})


class BrokerAccess:
    """Keeps the broker's view of the units (credentials, ACLs) in step with the hub."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        credentials: UnitCredentials,
        prefix: str,
        admin: AdminSettings | None,
    ) -> None:
        """Prepare; nothing is applied until :meth:`async_sync`."""
        self.hass = hass
        self.entry = entry
        self.credentials = credentials
        self.prefix = prefix
        self.mode = access_mode(entry)
        self.admin = admin
        self.applied: dict[str, frozenset[str]] = {}
        """Per unit, the linked topics the broker has been told (dynamic security)."""
        self.last_error: str | None = None
        self._desired: dict[str, frozenset[str]] = {}
        self._password_due: set[str] = set()
        self._repair_listeners: list[Callable[[], None]] = []
        """Called when a sync succeeds after one failed (units may have been refused)."""
        self._outcome_listeners: list[Callable[[str | None], None]] = []
        """Called after each sync that reached for the broker (health's admin login)."""
        self._last_outcome: tuple[str | None] | None = None
        self._lock = asyncio.Lock()
        self._retry: CALLBACK_TYPE | None = None

    @callback
    def add_repair_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` when a sync succeeds after one failed; return the undo."""
        self._repair_listeners.append(listener)
        return lambda: self._repair_listeners.remove(listener)

    @callback
    def add_outcome_listener(self, listener: Callable[[str | None], None]) -> CALLBACK_TYPE:
        """Call ``listener`` with the last sync's outcome (if there was one) and after
        each sync: None when it worked, else the error."""
        self._outcome_listeners.append(listener)
        if self._last_outcome is not None:
            listener(self._last_outcome[0])
        return lambda: self._outcome_listeners.remove(listener)

    def _outcome(self, error: str | None) -> None:
        self._last_outcome = (error,)
        for listener in list(self._outcome_listeners):
            listener(error)

    @property
    def enforced(self) -> bool:
        """Return whether the hub manages the broker's access control."""
        return self.mode is not AccessMode.NONE

    async def async_sync(self, units: Mapping[str, Iterable[str]]) -> None:
        """Make the broker allow exactly ``units`` (uid → linked out topics); units not
        in it lose their credentials. Failures are reported and retried later."""
        self._desired = {uid: frozenset(topics) for uid, topics in units.items()}
        for uid in set(self._desired) - self.credentials.uids():
            await self.credentials.async_ensure(uid)
        for uid in self.credentials.uids() - set(self._desired):
            await self.credentials.async_forget(uid)
        if not self.enforced:
            return
        async with self._lock:
            try:
                if self.mode is AccessMode.DYNAMIC_SECURITY:
                    await self._async_apply_dynsec()
                else:
                    await self.hass.async_add_executor_job(self._write_files)
            except DynSecAuthError as err:
                self._refused(str(err))
                self._outcome(f"the broker refused the admin login: {err}")
            except (DynSecError, OSError, TimeoutError) as err:
                self._failed(str(err))
                self._outcome(str(err))
            else:
                self._succeeded()
                self._outcome(None)

    async def async_rotate(self, uid: str) -> None:
        """Give a unit a new password and tell the broker; the unit needs its new
        ``env.json`` to connect again."""
        await self.credentials.async_rotate(uid)
        self.applied.pop(uid, None)
        self._password_due.add(uid)
        await self.async_sync(self._desired)

    def env(self, uid: str) -> dict[str, Any]:
        """Return the broker part of a unit's ``env.json``."""
        password = self.credentials.password(uid)
        if password is None:
            return {}
        return {"MH_MQTT_USERNAME": unit_username(uid), "MH_MQTT_PASSWORD": password}

    @callback
    def async_stop(self) -> None:
        """Stop retrying."""
        if self._retry is not None:
            self._retry()
            self._retry = None

    # -- internals --------------------------------------------------------------------

    async def _async_apply_dynsec(self) -> None:
        gone = set(self.applied) - set(self._desired)
        changed = {
            uid: topics for uid, topics in self._desired.items() if self.applied.get(uid) != topics
        }
        if not gone and not changed:
            return
        assert self.admin is not None
        admin = DynSecAdmin(
            self.admin.host,
            self.admin.port,
            self.admin.username,
            self.admin.password,
            tls=self.admin.tls,
            client_id=f"makerhub-admin-{self.entry.entry_id[:8]}",
        )
        await admin.connect()
        try:
            for uid in gone:
                await admin.remove_unit(uid)
                del self.applied[uid]
            for uid, topics in changed.items():
                # Setting a password drops the unit's connection: only for a new client
                # or a rotated password.
                password = None
                if uid in self._password_due or await admin.get_client(unit_username(uid)) is None:
                    password = await self.credentials.async_ensure(uid)
                await admin.ensure_unit(self.prefix, uid, password, sorted(topics))
                self._password_due.discard(uid)
                self.applied[uid] = topics
        finally:
            await admin.close()

    def _write_files(self) -> None:
        directory = Path(self.entry.options.get(CONF_FILES_DIRECTORY, DEFAULT_FILES_DIRECTORY))
        directory.mkdir(parents=True, exist_ok=True)
        passwords = {
            unit_username(uid): password
            for uid in sorted(self._desired)
            if (password := self.credentials.password(uid)) is not None
        }
        write_private_file(directory / "makerhub.passwd", password_file(passwords).encode())
        (directory / "makerhub.conf").write_text(
            "# Written by Makerhub: each unit's broker user and what it may do.\n"
            "# Small MQTT messages are sent at once (no 40 ms Nagle delay on links).\n"
            "set_tcp_nodelay true\n"
            f"password_file {directory / 'makerhub.passwd'}\n"
            f"acl_file {directory / 'makerhub.acl'}\n"
        )
        write_private_file(
            directory / "makerhub.acl",
            acl_file(
                self.prefix,
                {uid: sorted(topics) for uid, topics in self._desired.items()},
                hub_username=self.entry.options.get(CONF_HUB_USERNAME) or None,
            ).encode(),
        )

    def _log_failure(self, message: str, error: str) -> None:
        """Log a failure as an error once; the same failure again, while it lasts, at
        debug level (it is retried every few minutes, and a repair or a
        reauthentication already tells the user)."""
        _LOGGER.log(logging.DEBUG if error == self.last_error else logging.ERROR, message, error)
        self.last_error = error

    def _failed(self, error: str) -> None:
        self._log_failure("Could not update the broker's access control: %s", error)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            ISSUE_FAILED,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_FAILED,
            translation_placeholders={"error": error},
        )
        self._retry_later()

    def _refused(self, error: str) -> None:
        """The broker refused the admin credentials: Home Assistant's reauthentication
        asks for them (instead of the repair issue); the sync is still retried."""
        self._log_failure("The broker refused Makerhub's admin credentials: %s", error)
        ir.async_delete_issue(self.hass, DOMAIN, ISSUE_FAILED)
        self.entry.async_start_reauth(self.hass, data={REAUTH_CREDENTIAL: REAUTH_BROKER_ADMIN})
        self._retry_later()

    def _retry_later(self) -> None:
        if self._retry is None:

            @callback
            def _again(_now: Any) -> None:
                self._retry = None
                self.entry.async_create_background_task(
                    self.hass, self.async_sync(self._desired), "makerhub broker access retry"
                )

            self._retry = async_call_later(self.hass, RETRY, _again)

    def _succeeded(self) -> None:
        if self.last_error is not None:
            _LOGGER.info("The broker's access control is up to date again")
            for listener in list(self._repair_listeners):
                listener()
        self.last_error = None
        ir.async_delete_issue(self.hass, DOMAIN, ISSUE_FAILED)


async def async_create_broker_access(
    hass: HomeAssistant, entry: ConfigEntry, prefix: str, credentials: UnitCredentials
) -> BrokerAccess:
    """Return the hub's broker access, its admin password unsealed (a repair issue when
    it cannot be: the units keep their credentials, the broker is not updated)."""
    box = await async_get_secret_box(hass)
    options = entry.options
    admin = None
    if access_mode(entry) is AccessMode.DYNAMIC_SECURITY:
        sealed = options.get(CONF_ADMIN_PASSWORD, "")
        password = open_text_or_none(box, sealed, CONTEXT_BROKER_ADMIN)
        if password is None:
            password = ""
            _LOGGER.error(
                "The broker admin password cannot be decrypted; Home Assistant asks for "
                "it again when the broker refuses it"
            )
        admin = AdminSettings(
            host=options.get(CONF_ADMIN_HOST, "127.0.0.1"),
            port=int(options.get(CONF_ADMIN_PORT, 1883)),
            tls=bool(options.get(CONF_ADMIN_TLS, False)),
            username=options.get(CONF_ADMIN_USERNAME, ""),
            password=password,
        )
    return BrokerAccess(hass, entry, credentials, prefix, admin)


class BrokerAccessCheckError(Exception):
    """Broker access settings that do not work; ``kind`` is the form's error key."""

    def __init__(self, kind: str, message: str) -> None:
        """Keep the error key and the reason."""
        super().__init__(message)
        self.kind = kind


async def async_check_broker_access(
    hass: HomeAssistant, mode: AccessMode, options: Mapping[str, Any], password: str
) -> None:
    """Check settings before they are saved: the admin can administer dynamic security,
    or the folder for the files can be written. Raise BrokerAccessCheckError."""
    if mode is AccessMode.DYNAMIC_SECURITY:
        if not options.get(CONF_ADMIN_HOST) or not options.get(CONF_ADMIN_USERNAME):
            raise BrokerAccessCheckError("admin_required", "give the broker and its admin user")
        admin = DynSecAdmin(
            host=options[CONF_ADMIN_HOST],
            port=int(options.get(CONF_ADMIN_PORT, 1883)),
            username=options[CONF_ADMIN_USERNAME],
            password=password,
            tls=bool(options.get(CONF_ADMIN_TLS, False)),
            client_id="makerhub-admin-check",
        )
        try:
            await admin.connect()
            try:
                await admin.check()
            finally:
                await admin.close()
        except DynSecAuthError as err:
            raise BrokerAccessCheckError("admin_refused", str(err)) from err
        except (DynSecError, OSError, TimeoutError) as err:
            raise BrokerAccessCheckError("broker_unreachable", str(err)) from err
    elif mode is AccessMode.FILES:
        directory = Path(options.get(CONF_FILES_DIRECTORY) or DEFAULT_FILES_DIRECTORY)

        def _writable() -> None:
            directory.mkdir(parents=True, exist_ok=True)
            probe = directory / ".makerhub-write-test"
            probe.write_text("ok")
            probe.unlink()

        try:
            await hass.async_add_executor_job(_writable)
        except OSError as err:
            raise BrokerAccessCheckError("folder_not_writable", str(err)) from err
