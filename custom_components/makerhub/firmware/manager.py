"""Firmware in Home Assistant: repositories, units made from them, updates and rollouts.

The firmware service (the ``makerhub_firmware`` add-on, or the same program run anywhere)
keeps the git repositories, validates them and builds each unit's archive; the client is
``core/firmware_client.py``. Here the hub:

- polls the registered repositories (last sync, last error, branches, tags, recent
  commits) and raises a repair issue for a repository that fails; when the service
  refuses the hub's token, Home Assistant's reauthentication asks for a new one;
- gives each unit made from a repository its ``env.json`` (``core/unit_env.py``: values
  the user set > stored > generated ``MH_*`` keys > repository defaults) and
  ``schema.json``, served to the unit with its own token;
- updates a unit: resolves the version (a tag, a commit, or the head of the tracked ref),
  builds the archive for that commit, sends the ``update`` command with a signed download
  URL and the archive's ``sha256`` and size, and follows it — *request sent* until the
  unit reports the new version (success), an ``update_failed``/``rolled_back`` event or
  silence for two state intervals (error);
- runs fleet rollouts (``core/rollout.py``) and auto-updates units whose tracked branch
  moved (off by default).

It knows the hub only as :class:`FirmwareHub` (the units, their ``schema.json``, their
commands), so it does not import it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Final, Protocol

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.update_coordinator import (
    DataUpdateCoordinator,
    UpdateFailed,
)
from homeassistant.util import dt as dt_util

from ..broker_access.access import UnitCredentials
from ..const import (
    CONF_UNIT_BROKER_HOST,
    CONF_UNIT_BROKER_PORT,
    CONF_UNIT_BROKER_TLS,
    DATA_SCHEMA,
    DATA_UID,
    DEFAULT_UNIT_BROKER_PORT,
    DOMAIN,
    EVENT_UNIT_EVENT,
    REAUTH_CREDENTIAL,
    REAUTH_FIRMWARE,
    SUBENTRY_FIRMWARE_UNIT,
    SUBENTRY_REPOSITORY,
)
from ..core.dynsec import unit_username
from ..core.firmware_client import (
    FirmwareArchive,
    FirmwareAuthError,
    FirmwareClient,
    FirmwareError,
    FirmwareRepo,
    RepoRefs,
)
from ..core.rollout import Rollout, RolloutPlan, RolloutState, UpdateResult
from ..core.schema import UnitSchema
from ..core.secret_box import SecretBox, SecretBoxError
from ..core.unit import AVAILABILITY, STATE, UnitRuntime
from ..core.unit_env import (
    DEFAULT_STATE_INTERVAL,
    EnvError,
    declared_defaults,
    declared_env,
    generated_env,
    merge_env,
)
from ..secrets import (
    CONTEXT_FIRMWARE_TOKEN,
    async_get_secret_box,
    open_text,
    open_text_or_none,
    seal_text,
)
from ..subentries import subentries_by

_LOGGER = logging.getLogger(__name__)

CONF_FIRMWARE_URL: Final = "firmware_url"
CONF_FIRMWARE_TOKEN: Final = "firmware_token"  # noqa: S105 (an option's key)
"""Sealed with the hub's secret box."""
DATA_REPO_ID: Final = "repo_id"
DATA_TRACK: Final = "track"
"""The branch, tag or commit a unit follows ("" = the repository's default branch)."""
DATA_COMMIT: Final = "commit"
"""The commit the unit was last given (created from, or updated to)."""
DATA_VERSION: Final = "version"
DATA_ENV: Final = "env"
"""The env values the user set, sealed (JSON)."""
DATA_AUTO_UPDATE: Final = "auto_update"
DATA_URL: Final = "url"
EVENT_UPDATE_FINISHED: Final = "makerhub_update_finished"
ISSUE_REPO: Final = "repository_failed"
POLL_INTERVAL: Final = timedelta(minutes=5)
ARCHIVE_URL_TTL: Final = 600
"""Seconds a unit's signed download URL works."""
UNIT_API: Final = "/api/makerhub/unit_api"
TIMEOUT_FACTOR: Final = 2.0
"""A unit that does not report the new version within this many state intervals failed."""
MIN_TIMEOUT: Final = 120.0
"""At least this long: the download, then the unit's 60 s window to start and confirm (or
roll back and say so)."""


class UpdateStatus(StrEnum):
    """Where a unit's update is."""

    REQUEST_SENT = "request_sent"
    IN_PROGRESS = "in_progress"
    """The unit said ``update_started``."""
    SUCCESS = "success"
    ERROR = "error"


@dataclass
class UpdateJob:
    """One unit's update, from the command to the unit's answer."""

    uid: str
    version: str
    commit: str
    deadline: float
    status: UpdateStatus = UpdateStatus.REQUEST_SENT
    error: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def finish(self, status: UpdateStatus, error: str | None = None) -> None:
        """End the job (once)."""
        if self.done.is_set():
            return
        self.status, self.error = status, error
        self.done.set()


@dataclass(frozen=True, slots=True)
class RepoStatus:
    """What the hub last learned of a repository."""

    repo: FirmwareRepo
    refs: RepoRefs | None


async def async_check_firmware(hass: HomeAssistant, url: str, token: str) -> None:
    """Check that the firmware service at ``url`` answers and accepts ``token``; raise
    FirmwareError (``firmware_form_error`` names it for a form)."""
    await FirmwareClient(async_get_clientsession(hass), url, token).health()


def firmware_failed(error: object) -> HomeAssistantError:
    """Return the action error of a firmware step that failed (``error`` says why)."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="firmware_failed",
        translation_placeholders={"error": str(error)},
    )


def firmware_form_error(err: FirmwareError) -> str:
    """Return the form error key of a failed :func:`async_check_firmware`."""
    return "firmware_auth" if isinstance(err, FirmwareAuthError) else "firmware_unreachable"


def _env_context(uid: str) -> str:
    """Return what a unit's sealed env values are bound to (its id)."""
    return f"makerhub env {uid}"


def repo_subentries(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """Return the hub's repository subentries by repository id."""
    return subentries_by(entry, DATA_REPO_ID, SUBENTRY_REPOSITORY)


def firmware_units(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """Return the units made from repositories, by unit id."""
    return subentries_by(entry, DATA_UID, SUBENTRY_FIRMWARE_UNIT)


def version_name(refs: RepoRefs | None, commit: str) -> str:
    """Return a commit's version: its tag when it has one, else the short commit id."""
    if refs is not None and (tags := refs.tags_at(commit)):
        return sorted(tags)[-1]
    return commit[:12]


def archive_signature(key: bytes, uid: str, archive_id: str, expires: int) -> str:
    """Return the signature of a unit's archive download URL."""
    message = f"{uid}/{archive_id}/{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class FirmwareHub(Protocol):
    """What firmware needs of the hub (``hub.MakerhubHub``)."""

    @property
    def units(self) -> Mapping[str, UnitRuntime]:
        """The adopted units, by uid."""

    def schema_json(self, unit: UnitRuntime, *, schema: UnitSchema | None) -> dict[str, Any]:
        """Return a unit's ``schema.json`` (for ``schema``: another version's)."""

    async def async_send_command(self, unit: UnitRuntime, cmd: str, **fields: Any) -> None:
        """Publish a command on the unit's ``sys/cmd`` topic."""


class HubFirmware:
    """The hub's side of the firmware lifecycle."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        hub: FirmwareHub,
        *,
        credentials: UnitCredentials,
        box: SecretBox,
        client: FirmwareClient | None,
    ) -> None:
        """Wrap a client (None while the firmware service is not set up)."""
        self.hass = hass
        self.entry = entry
        self.hub = hub
        self.credentials = credentials
        """The units' broker passwords and API tokens (for their ``env.json``)."""
        self.box = box
        self.client = client
        self.url_key = box.derive("makerhub archive urls")
        self.jobs: dict[str, UpdateJob] = {}
        self.rollout: Rollout | None = None
        self._listeners: list[Callable[[], None]] = []
        self._unit_listeners: dict[str, list[Callable[[], None]]] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self.known_repos = set(repo_subentries(entry))
        """The repositories at start; one gone from the subentries is deleted."""
        self.coordinator: DataUpdateCoordinator[dict[str, RepoStatus]] = DataUpdateCoordinator(
            hass,
            _LOGGER,
            config_entry=entry,
            name="makerhub firmware",
            update_method=self._async_poll,
            update_interval=POLL_INTERVAL,
        )

    # -- lifecycle --------------------------------------------------------------------

    async def async_start(self) -> None:
        """Follow unit events and poll the repositories."""
        self._unsubscribe.append(self.hass.bus.async_listen(EVENT_UNIT_EVENT, self._on_event))
        if self.client is not None:
            # After each poll is stored: an update installs the head that poll found.
            self._unsubscribe.append(self.coordinator.async_add_listener(self._auto_update))
            await self.coordinator.async_refresh()

    @callback
    def async_stop(self) -> None:
        """Stop following events; cancel a rollout."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        if self.rollout is not None:
            self.rollout.cancel()
        for job in self.jobs.values():
            job.finish(UpdateStatus.ERROR, "Home Assistant stopped following the update")

    @callback
    def add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` when any job or the rollout changes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def add_unit_listener(self, uid: str, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` when that unit's update changes (not on every other's)."""
        listeners = self._unit_listeners.setdefault(uid, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    def _changed(self, uid: str | None = None) -> None:
        for listener in list(self._listeners):
            listener()
        if uid is not None:
            for listener in list(self._unit_listeners.get(uid, ())):
                listener()

    def require_client(self) -> FirmwareClient:
        """Return the client; raise HomeAssistantError when the service is not set up."""
        if self.client is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="firmware_not_configured"
            )
        return self.client

    # -- repositories -----------------------------------------------------------------

    async def _async_poll(self) -> dict[str, RepoStatus]:
        client = self.require_client()
        try:
            repos = {repo.id: repo for repo in await client.list_repos()}
            statuses: dict[str, RepoStatus] = {}
            for repo_id in repo_subentries(self.entry):
                if (repo := repos.get(repo_id)) is None:
                    continue
                refs = await client.refs(repo_id) if repo.synced else None
                statuses[repo_id] = RepoStatus(repo, refs)
        except FirmwareAuthError as err:
            # Only a refused token asks the user; the service being away is retried.
            self._token_refused()
            raise UpdateFailed(f"the firmware service refused the token: {err}") from err
        except FirmwareError as err:
            raise UpdateFailed(str(err)) from err
        self._repair_issues(statuses)
        return statuses

    def _repair_issues(self, statuses: Mapping[str, RepoStatus]) -> None:
        subentries = repo_subentries(self.entry)
        for repo_id, subentry in subentries.items():
            status = statuses.get(repo_id)
            issue_id = f"{ISSUE_REPO}_{repo_id}"
            if status is None or status.repo.last_error is None:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
                continue
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_REPO,
                translation_placeholders={
                    "repository": subentry.title,
                    "error": status.repo.last_error,
                },
            )

    async def async_forget_removed_repos(self) -> None:
        """Delete from the service the repositories whose subentry the user deleted."""
        removed = self.known_repos - set(repo_subentries(self.entry))
        self.known_repos -= removed
        if self.client is None:
            return
        for repo_id in removed:
            try:
                await self.client.delete_repo(repo_id)
            except FirmwareError as err:
                _LOGGER.warning("Could not delete repository %s: %s", repo_id, err)
            ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_REPO}_{repo_id}")

    def status(self, repo_id: str) -> RepoStatus | None:
        """Return what the last poll learned of a repository."""
        return (self.coordinator.data or {}).get(repo_id)

    def _token_refused(self) -> None:
        """Ask the user for the firmware service's new token (a reauthentication)."""
        self.entry.async_start_reauth(self.hass, data={REAUTH_CREDENTIAL: REAUTH_FIRMWARE})

    async def async_sync(self, repo_id: str) -> FirmwareRepo:
        """Sync a repository now and refresh what the hub knows."""
        try:
            repo = await self.require_client().sync(repo_id)
        except FirmwareAuthError:
            self._token_refused()
            raise
        await self.coordinator.async_refresh()
        return repo

    # -- units ------------------------------------------------------------------------

    def latest(self, uid: str) -> tuple[str, str] | None:
        """Return (commit, version) of the head of the ref a unit tracks, if known."""
        subentry = firmware_units(self.entry).get(uid)
        if subentry is None:
            return None
        status = self.status(subentry.data[DATA_REPO_ID])
        if status is None or status.refs is None:
            return None
        track = subentry.data.get(DATA_TRACK) or status.refs.default_branch or ""
        commit = status.refs.resolve(track)
        if commit is None:
            return None
        return commit, version_name(status.refs, commit)

    def user_env(self, subentry: ConfigSubentry) -> dict[str, Any]:
        """Return the env values the user set for a unit (empty when unreadable)."""
        sealed = subentry.data.get(DATA_ENV)
        if not sealed:
            return {}
        try:
            values = json.loads(open_text(self.box, sealed, _env_context(subentry.data[DATA_UID])))
        except (SecretBoxError, UnicodeDecodeError, ValueError):
            _LOGGER.error("The env values of %s cannot be decrypted", subentry.title)
            return {}
        return dict(values) if isinstance(values, dict) else {}

    def seal_env(self, uid: str, values: dict[str, Any]) -> str:
        """Return the env values the user set for a unit, sealed for its subentry."""
        return seal_text(self.box, json.dumps(values), _env_context(uid))

    def api_url(self) -> str:
        """Return the base URL units call the hub at (``MH_API_URL``)."""
        try:
            base = get_url(self.hass, prefer_external=False)
        except NoURLAvailableError:
            base = "http://homeassistant.local:8123"
        return f"{base}{UNIT_API}"

    def env(
        self, uid: str, version: str | None = None, schema: UnitSchema | None = None
    ) -> dict[str, Any]:
        """Return a unit's ``env.json`` (raise EnvError when it cannot be built).

        ``schema``: the ``makerhub.json`` of the version the file is for (an update's
        target declares its own env keys); the unit's current one by default.
        """
        unit = self.hub.units[uid]
        subentry = firmware_units(self.entry).get(uid)
        data = self.entry.data
        password = self.credentials.password(uid)
        token = self.credentials.token(uid)
        declared = declared_env(schema or unit.identity.schema)
        user = self.user_env(subentry) if subentry is not None else {}
        generated = generated_env(
            uid,
            mqtt_host=data.get(CONF_UNIT_BROKER_HOST) or "localhost",
            mqtt_port=int(data.get(CONF_UNIT_BROKER_PORT, DEFAULT_UNIT_BROKER_PORT)),
            mqtt_tls=bool(data.get(CONF_UNIT_BROKER_TLS, False)),
            mqtt_username=unit_username(uid) if password else None,
            mqtt_password=password,
            api_url=self.api_url(),
            token=token,
            state_interval=DEFAULT_STATE_INTERVAL,
            version=version or (None if subentry is None else subentry.data.get(DATA_VERSION)),
        )
        return merge_env(user, {}, generated, declared_defaults(declared), declared)

    async def async_build_archive(
        self,
        uid: str,
        commit: str,
        version: str,
        fmt: str = "tar.gz",
        schema: UnitSchema | None = None,
    ) -> FirmwareArchive:
        """Build (or reuse) a unit's archive for a commit whose ``makerhub.json`` is
        ``schema`` (the unit's current one by default)."""
        subentry = firmware_units(self.entry)[uid]
        unit = self.hub.units[uid]
        try:
            env = self.env(uid, version, schema)
        except EnvError as err:
            raise firmware_failed(f"env.json: {err}") from err
        return await self.require_client().build_archive(
            subentry.data[DATA_REPO_ID],
            commit,
            env,
            self.hub.schema_json(unit, schema=schema),
            fmt=fmt,
        )

    def signed_archive_url(self, uid: str, archive_id: str) -> str:
        """Return the URL a unit downloads an archive from (works for 10 minutes)."""
        expires = int(time.time()) + ARCHIVE_URL_TTL
        signature = archive_signature(self.url_key, uid, archive_id, expires)
        return (
            f"{self.api_url()}/units/{uid}/archive/{archive_id}?expires={expires}&sig={signature}"
        )

    def check_archive_url(self, uid: str, archive_id: str, expires: str, signature: str) -> bool:
        """Return whether a unit's archive URL is genuine and not expired."""
        try:
            until = int(expires)
        except ValueError:
            return False
        expected = archive_signature(self.url_key, uid, archive_id, until)
        return until >= time.time() and hmac.compare_digest(expected, signature)

    # -- updates ----------------------------------------------------------------------

    def resolve(self, uid: str, version: str | None) -> tuple[str, str]:
        """Return (commit, version) for a version to install (None: the latest)."""
        if version is None:
            if (latest := self.latest(uid)) is None:
                raise firmware_failed(
                    "the repository has not been synced yet, or the tracked ref does not exist"
                )
            return latest
        subentry = firmware_units(self.entry)[uid]
        status = self.status(subentry.data[DATA_REPO_ID])
        commit = None if status is None or status.refs is None else status.refs.resolve(version)
        if commit is None:
            raise firmware_failed(f"no version {version} in the repository")
        return commit, version_name(status.refs if status else None, commit)

    async def async_install(
        self, uid: str, version: str | None = None, rollout: int | None = None
    ) -> UpdateJob:
        """Update a unit and wait for its answer; return the finished job (``rollout``:
        the id of the rollout this update belongs to)."""
        if (job := self.jobs.get(uid)) is not None and not job.done.is_set():
            raise firmware_failed("an update of this unit is running")
        unit = self.hub.units.get(uid)
        if unit is None or uid not in firmware_units(self.entry):
            raise firmware_failed(f"{uid} is not a unit made from a repository")
        commit, version = self.resolve(uid, version)
        client = self.require_client()
        subentry = firmware_units(self.entry)[uid]
        try:
            validation = await client.validate(subentry.data[DATA_REPO_ID], commit)
            schema = validation.require_schema()
            archive = await self.async_build_archive(uid, commit, version, schema=schema)
        except FirmwareError as err:
            raise firmware_failed(err) from err
        interval = float(self.env(uid, version).get("MH_STATE_INTERVAL", DEFAULT_STATE_INTERVAL))
        loop = asyncio.get_running_loop()
        job = UpdateJob(
            uid, version, commit, loop.time() + max(TIMEOUT_FACTOR * interval, MIN_TIMEOUT)
        )
        self.jobs[uid] = job
        self._changed(uid)
        await self.hub.async_send_command(
            unit,
            "update",
            version=version,
            url=self.signed_archive_url(uid, archive.id),
            sha256=archive.sha256,
            size=archive.size,
        )
        await self._async_follow(job)
        if job.status is UpdateStatus.SUCCESS:
            self.hass.config_entries.async_update_subentry(
                self.entry,
                subentry,
                data={
                    **subentry.data,
                    DATA_COMMIT: commit,
                    DATA_VERSION: version,
                    DATA_SCHEMA: schema.to_json(),
                },
            )
        self.hass.bus.async_fire(
            EVENT_UPDATE_FINISHED,
            {
                "unit": uid,
                "name": unit.identity.name,
                "version": version,
                "result": job.status.value,
                "error": job.error,
                "rollout": rollout,
            },
        )
        self._changed(uid)
        return job

    async def _async_follow(self, job: UpdateJob) -> None:
        """Wait for the unit to report the new version, an error event, or the timeout."""
        loop = asyncio.get_running_loop()
        unit = self.hub.units[job.uid]

        @callback
        def check() -> None:
            state = unit.state
            if state is not None and state.version == job.version and unit.available:
                job.finish(UpdateStatus.SUCCESS)

        stop = [unit.add_listener(STATE, check), unit.add_listener(AVAILABILITY, check)]
        try:
            check()
            await asyncio.wait_for(job.done.wait(), max(job.deadline - loop.time(), 0))
        except TimeoutError:
            job.finish(UpdateStatus.ERROR, f"the unit did not report {job.version} in time")
        finally:
            for undo in stop:
                undo()

    @callback
    def _on_event(self, event: Event[Mapping[str, Any]]) -> None:
        job = self.jobs.get(event.data.get("unit", ""))
        if job is None or job.done.is_set():
            return
        if event.data.get("version") not in (None, job.version):
            return  # about another update (an earlier one, or a command sent by hand)
        kind = event.data.get("event")
        if kind == "update_started":
            job.status = UpdateStatus.IN_PROGRESS
            self._changed(job.uid)
        elif kind in ("update_failed", "rolled_back"):
            job.finish(
                UpdateStatus.ERROR, f"{kind}: {event.data.get('error') or 'no reason given'}"
            )
            self._changed(job.uid)

    def outdated(self, uid: str) -> bool:
        """Return whether a unit runs something else than its tracked ref's head."""
        latest = self.latest(uid)
        unit = self.hub.units.get(uid)
        if latest is None or unit is None:
            return False
        running = unit.state.version if unit.state is not None else None
        return running != latest[1]

    # -- rollouts ---------------------------------------------------------------------

    async def async_rollout(self, plan: RolloutPlan) -> Rollout:
        """Start a rollout in the background; return it."""
        if self.rollout is not None and self.rollout.state in (
            RolloutState.WAITING,
            RolloutState.RUNNING,
        ):
            raise firmware_failed("a rollout is running")

        async def update(uid: str) -> UpdateResult:
            job = await self.async_install(uid, rollout=rollout.id)
            if job.status is UpdateStatus.SUCCESS:
                return UpdateResult.SUCCESS
            assert self.rollout is not None
            self.rollout.errors[uid] = job.error or "failed"
            return UpdateResult.FAILED

        def online(uid: str) -> bool:
            unit = self.hub.units.get(uid)
            return unit is not None and unit.available

        rollout = Rollout(
            plan, update, online, now=dt_util.now, on_change=lambda _: self._changed()
        )
        self.rollout = rollout

        async def run() -> None:
            await rollout.run()
            self.hass.bus.async_fire(EVENT_UPDATE_FINISHED, {"unit": None, **rollout.summary()})

        self.entry.async_create_background_task(self.hass, run(), f"makerhub rollout {rollout.id}")
        return rollout

    @callback
    def _auto_update(self) -> None:
        """Update the units set to follow their tracked ref, once a poll saw it move."""
        for uid, subentry in firmware_units(self.entry).items():
            if not subentry.data.get(DATA_AUTO_UPDATE) or not self.outdated(uid):
                continue
            if (job := self.jobs.get(uid)) is not None and not job.done.is_set():
                continue
            if uid not in self.hub.units or not self.hub.units[uid].available:
                continue
            _LOGGER.info("Auto-updating %s: its tracked ref moved", subentry.title)
            self.entry.async_create_background_task(
                self.hass, self._async_install_quietly(uid), f"makerhub auto-update {uid}"
            )

    async def _async_install_quietly(self, uid: str) -> None:
        try:
            await self.async_install(uid)
        except HomeAssistantError as err:
            _LOGGER.warning("Auto-update of %s failed: %s", uid, err)


async def async_create_firmware(
    hass: HomeAssistant, entry: ConfigEntry, hub: FirmwareHub, credentials: UnitCredentials
) -> HubFirmware:
    """Return the hub's firmware side, with a client when the service is set up."""
    box = await async_get_secret_box(hass)
    client = None
    url = entry.options.get(CONF_FIRMWARE_URL)
    if url:
        sealed = entry.options.get(CONF_FIRMWARE_TOKEN, "")
        token = open_text_or_none(box, sealed, CONTEXT_FIRMWARE_TOKEN) if sealed else ""
        if token is None:
            token = ""
            _LOGGER.error(
                "The firmware service token cannot be decrypted; Home Assistant asks for "
                "it again when the service refuses it"
            )
        client = FirmwareClient(async_get_clientsession(hass), url, token)
    return HubFirmware(hass, entry, hub, credentials=credentials, box=box, client=client)
