"""The space's cameras in Home Assistant, recorded by the recorder service.

The recorder service (the ``makerhub_recorder`` add-on, or the same program run anywhere)
records every camera; the client is ``core/recorder_client.py``. Here the hub:

- polls the cameras and the disk with a ``DataUpdateCoordinator``; repair issues say while
  the service cannot be reached or refuses the hub's token (fixable: a new token entered),
  while the free-space floor is reached, and for each camera lost for long (the service's
  ``error`` status);
- starts and stops recordings, records clips, tells a camera whether its space is active
  and which project is worked on (its time-lapse), and fetches snapshots and files.

:class:`HubCameras` always exists; without a configured service it says so
(:attr:`HubCameras.configured`) and its actions fail with ``recorder_not_configured``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
import logging
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from ..const import DOMAIN
from ..core.recorder_client import (
    Camera,
    CameraStatus,
    RecorderAuthError,
    RecorderClient,
    RecorderError,
    Storage,
)
from ..devices import CAMERA_DEVICE_PREFIX
from ..secrets import CONTEXT_RECORDER_TOKEN, async_get_secret_box, open_text_or_none

_LOGGER = logging.getLogger(__name__)

CONF_RECORDER_URL: Final = "recorder_url"
CONF_RECORDER_TOKEN: Final = "recorder_token"  # noqa: S105 (an option's key)
"""Sealed with the hub's secret box."""
ISSUE_UNREACHABLE: Final = "recorder_unreachable"
ISSUE_TOKEN_REFUSED: Final = "recorder_token_refused"  # noqa: S105 (an issue's id)
"""Fixable: its fix flow (cameras/repairs.py) asks for a new token."""
ISSUE_FLOOR: Final = "recorder_floor_reached"
ISSUE_LOST: Final = "camera_lost"
"""Per camera: ``camera_lost_<camera id>``."""
POLL_INTERVAL: Final = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class RecorderState:
    """What one poll learned: the cameras by id and the disk."""

    cameras: dict[str, Camera]
    storage: Storage


async def async_check_recorder(hass: HomeAssistant, url: str, token: str) -> None:
    """Check that the recorder service at ``url`` answers and accepts ``token``."""
    await RecorderClient(async_get_clientsession(hass), url, token).health()


def recorder_form_error(err: RecorderError) -> str:
    """Return the form error key of a failed :func:`async_check_recorder`."""
    return "recorder_auth" if isinstance(err, RecorderAuthError) else "recorder_unreachable"


def recorder_failed(err: RecorderError) -> HomeAssistantError:
    """Return the action error of a service's refusal or failure (its message kept)."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="recorder_failed",
        translation_placeholders={"error": str(err)},
    )


class HubCameras:
    """The hub's side of the cameras."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: RecorderClient | None
    ) -> None:
        """Wrap a client (None while no recorder service is set up)."""
        self.hass = hass
        self.entry = entry
        self.client = client
        self.coordinator: DataUpdateCoordinator[RecorderState] = DataUpdateCoordinator(
            hass,
            _LOGGER,
            config_entry=entry,
            name="makerhub cameras",
            update_method=self._async_poll,
            update_interval=POLL_INTERVAL if client is not None else None,
        )
        self._new_camera_listeners: list[Callable[[list[Camera]], None]] = []
        self._known: set[str] = set()

    @property
    def configured(self) -> bool:
        """Return whether a recorder service is set up."""
        return self.client is not None

    async def async_start(self) -> None:
        """Poll the service (a failing first poll is retried on the interval)."""
        if self.client is None:
            for issue in (ISSUE_UNREACHABLE, ISSUE_TOKEN_REFUSED, ISSUE_FLOOR):
                ir.async_delete_issue(self.hass, DOMAIN, issue)
            return
        await self.coordinator.async_refresh()
        self.entry.async_on_unload(self.coordinator.async_add_listener(self._on_poll))

    def require_client(self) -> RecorderClient:
        """Return the client; raise HomeAssistantError when no service is set up."""
        if self.client is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="recorder_not_configured"
            )
        return self.client

    # -- state ---------------------------------------------------------------------

    async def _async_poll(self) -> RecorderState:
        client = self.require_client()
        try:
            cameras = await client.list_cameras()
            storage = await client.storage()
        except RecorderError as err:
            # A refused token is fixable (a new one entered); anything else is not.
            refused = isinstance(err, RecorderAuthError)
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
                translation_placeholders={"url": client.base_url, "error": str(err)},
                data={"entry_id": self.entry.entry_id} if refused else None,
            )
            raise UpdateFailed(str(err)) from err
        for issue_id in (ISSUE_UNREACHABLE, ISSUE_TOKEN_REFUSED):
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        state = RecorderState({camera.id: camera for camera in cameras}, storage)
        self._issues(state)
        return state

    def _floor_pressed(self, storage: Storage) -> bool:
        """Whether the floor is reached now, or the service deleted early since the last
        poll: it keeps the floor by deleting, so between its passes the disk is just
        above it and ``floor_reached`` alone is seldom seen."""
        previous = self.coordinator.data
        deleted_since = (
            previous is not None and storage.early_deletions > previous.storage.early_deletions
        )
        return storage.floor_reached or deleted_since

    def _issues(self, state: RecorderState) -> None:
        """Raise or clear the floor's and each lost camera's repair issue."""
        if self._floor_pressed(state.storage):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                ISSUE_FLOOR,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_FLOOR,
                translation_placeholders={
                    "free": _gib(state.storage.free_bytes),
                    "floor": _gib(state.storage.free_floor_bytes),
                    "deleted": str(state.storage.early_deletions),
                },
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_FLOOR)
        previous = set() if self.coordinator.data is None else set(self.coordinator.data.cameras)
        for camera_id in previous | set(state.cameras):
            camera = state.cameras.get(camera_id)
            issue_id = f"{ISSUE_LOST}_{camera_id}"
            if camera is not None and camera.status is CameraStatus.ERROR:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=ISSUE_LOST,
                    translation_placeholders={
                        "camera": camera.name,
                        "error": camera.last_error or "no picture",
                    },
                )
            else:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    @callback
    def _on_poll(self) -> None:
        """Announce cameras seen for the first time; drop the devices of removed ones."""
        if self.coordinator.data is None:
            return
        cameras = self.coordinator.data.cameras
        new = [camera for camera_id, camera in cameras.items() if camera_id not in self._known]
        self._known |= set(cameras)
        if new:
            for listener in self._new_camera_listeners:
                listener(new)
        self._remove_gone(set(cameras))

    def _remove_gone(self, present: set[str]) -> None:
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(registry, self.entry.entry_id):
            for domain, identifier in device.identifiers:
                if domain != DOMAIN or not identifier.startswith(CAMERA_DEVICE_PREFIX):
                    continue
                camera_id = identifier.removeprefix(CAMERA_DEVICE_PREFIX)
                if camera_id not in present:
                    _LOGGER.info("Removing the device %s: its camera is gone", device.name)
                    registry.async_update_device(
                        device.id, remove_config_entry_id=self.entry.entry_id
                    )
                    self._known.discard(camera_id)

    @callback
    def add_camera_listener(self, listener: Callable[[list[Camera]], None]) -> None:
        """Call ``listener`` with the cameras known now and with each new one later."""
        self._new_camera_listeners.append(listener)
        if self.coordinator.data is not None and self.coordinator.data.cameras:
            self._known |= set(self.coordinator.data.cameras)
            listener(list(self.coordinator.data.cameras.values()))

    def camera_exists(self, camera_id: str) -> bool:
        """Return whether a camera's device is live (before a successful poll: assumed)."""
        data = self.coordinator.data
        return data is None or camera_id in data.cameras

    def camera(self, camera_id: str) -> Camera | None:
        """Return a camera as last polled."""
        data = self.coordinator.data
        return None if data is None else data.cameras.get(camera_id)

    @property
    def storage(self) -> Storage | None:
        """Return the disk as last polled."""
        data = self.coordinator.data
        return None if data is None else data.storage

    @property
    def available(self) -> bool:
        """Return whether the service is set up and its last poll succeeded."""
        return self.client is not None and self.coordinator.last_update_success

    def lookup(self, reference: str) -> Camera:
        """Return a camera by id or name; raise ``unknown_camera`` (an action's input
        naming none)."""
        self.require_client()
        data = self.coordinator.data
        for camera in () if data is None else data.cameras.values():
            if reference in (camera.id, camera.name):
                return camera
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_camera",
            translation_placeholders={"camera": reference},
        )

    # -- actions -------------------------------------------------------------------

    async def async_set_recording(self, camera_id: str, on: bool) -> Camera:
        """Start (from the pre-roll) or stop a camera's recording."""
        client = self.require_client()
        try:
            if on:
                camera = await client.start_recording(camera_id)
            else:
                camera = await client.stop_recording(camera_id)
        except RecorderError as err:
            raise recorder_failed(err) from err
        self._store(camera)
        return camera

    async def async_record_clip(
        self, camera_id: str, duration: float, pre_roll: float | None
    ) -> dict[str, Any]:
        """Record a clip; return the service's answer (recording id, start, end)."""
        try:
            return await self.require_client().record_clip(camera_id, duration, pre_roll)
        except RecorderError as err:
            raise recorder_failed(err) from err

    async def async_set_activity(self, camera_id: str, active: bool, project: str | None) -> Camera:
        """Tell a camera whether its space is active and the project worked on there."""
        try:
            camera = await self.require_client().set_activity(camera_id, active, project)
        except RecorderError as err:
            raise recorder_failed(err) from err
        self._store(camera)
        return camera

    async def async_snapshot(self, camera_id: str) -> bytes | None:
        """Return a camera's latest picture (None when it has none now)."""
        try:
            return await self.require_client().snapshot(camera_id)
        except RecorderError as err:
            _LOGGER.debug("No snapshot of %s: %s", camera_id, err)
            return None

    def _store(self, camera: Camera) -> None:
        """Keep an answer the service just gave, for the entities, until the next poll."""
        data = self.coordinator.data
        if data is None:
            return
        cameras = {**data.cameras, camera.id: camera}
        self.coordinator.async_set_updated_data(RecorderState(cameras, data.storage))


def _gib(size: int) -> str:
    return f"{size / 2**30:.1f} GiB"


async def async_create_cameras(hass: HomeAssistant, entry: ConfigEntry) -> HubCameras:
    """Return the hub's cameras side, with a client when the service is set up."""
    client = None
    url = entry.options.get(CONF_RECORDER_URL)
    if url:
        sealed = entry.options.get(CONF_RECORDER_TOKEN, "")
        box = await async_get_secret_box(hass)
        token = open_text_or_none(box, sealed, CONTEXT_RECORDER_TOKEN) if sealed else ""
        if token is None:
            token = ""
            _LOGGER.error(
                "The recorder service token cannot be decrypted; enter it again in "
                "Makerhub's options"
            )
        client = RecorderClient(async_get_clientsession(hass), url, token)
    return HubCameras(hass, entry, client)
