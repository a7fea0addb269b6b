"""The recorder service: its cameras, their recordings and time-lapses, the disk.

:class:`RecorderService` owns one :class:`~.camera.CameraRecorder` per camera and a
housekeeping task that, every ``housekeeping_interval`` seconds, takes the time-lapse
frames that are due and applies retention (:mod:`.retention`) with the free space of the
recordings' file system (``disk_usage``, injectable for tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
import logging
from pathlib import Path
import shutil
import time
from typing import Any, NamedTuple

from .camera import CameraRecorder
from .errors import ConflictError, InvalidRequestError, UnknownCameraError
from .retention import Item, Plan, Policy, plan
from .settings import Settings
from .store import Camera, Store
from .timelapse import NO_PROJECT, TimelapseKey, Timelapses, day_of, folder_size
from .validation import (
    camera_id_for,
    check_name,
    check_project_id,
    check_serial,
    parse_source,
)

_LOGGER = logging.getLogger(__name__)


class DiskUsage(NamedTuple):
    """What ``shutil.disk_usage`` answers."""

    total: int
    used: int
    free: int


type DiskUsageFunction = Callable[[Path], DiskUsage]


def system_disk_usage(path: Path) -> DiskUsage:
    """The real free space of ``path``'s file system."""
    total, used, free = shutil.disk_usage(path)
    return DiskUsage(total, used, free)


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidRequestError(f"{key}: a number from {low:g} to {high:g}")
    return float(value)


class RecorderService:
    """Every camera and the disk they record to."""

    def __init__(
        self,
        settings: Settings,
        now: Callable[[], float] = time.time,
        disk_usage: DiskUsageFunction = system_disk_usage,
    ) -> None:
        """Use ``now`` for wall-clock times and ``disk_usage`` for the free space."""
        self.settings = settings
        self.now = now
        self.disk_usage = disk_usage
        self.store = Store(settings.data_dir)
        self.timelapses = Timelapses(settings)
        self.cameras: dict[str, CameraRecorder] = {}
        self.floor_deletions = 0
        self.floor_freed_bytes = 0
        self.last_floor_deletion: dict[str, Any] | None = None
        self.floor_unreachable = False
        self.deleted: dict[str, int] = {"age": 0, "camera_size": 0, "total_size": 0, "floor": 0}
        self._last_frame: dict[str, float] = {}
        self._timelapse_key: dict[str, TimelapseKey] = {}
        self._frame_tasks: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None

    def __iter__(self) -> Iterator[CameraRecorder]:
        """The cameras, by id."""
        return iter(sorted(self.cameras.values(), key=lambda c: c.camera.id))

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self, housekeeping: bool = True) -> None:
        """Load the cameras and start recording them."""
        self.settings.media_dir.mkdir(parents=True, exist_ok=True)
        for camera in self.store.load_cameras():
            recorder = CameraRecorder(camera, self.settings, self.store, self.now)
            self.cameras[camera.id] = recorder
            recorder.start()
        if housekeeping:
            self._task = asyncio.create_task(self._housekeep_forever())

    async def close(self) -> None:
        """Stop every camera (ffmpeg closes its segments) and flush the time-lapses."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._frame_tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.gather(*(recorder.stop() for recorder in self.cameras.values()))
        for key in list(self._timelapse_key.values()):
            await self.timelapses.flush(key)

    # --- cameras -----------------------------------------------------------------------

    def get(self, camera_id: str) -> CameraRecorder:
        """A camera by id."""
        try:
            return self.cameras[camera_id]
        except KeyError:
            raise UnknownCameraError(f"no camera {camera_id!r}") from None

    async def add_camera(self, body: dict[str, Any]) -> CameraRecorder:
        """Add a camera and start recording it (its buffer; see ``start_recording``)."""
        unknown = set(body) - {"source", "name", "serial", *_SETTING_FIELDS}
        if unknown:
            raise InvalidRequestError(f"unknown field(s): {', '.join(sorted(unknown))}")
        source = parse_source(body.get("source"), self.settings.device_roots)
        serial = check_serial(body.get("serial"))
        camera_id = camera_id_for(source, serial)
        if camera_id in self.cameras:
            raise ConflictError(f"camera {camera_id} exists (the same stream or serial)")
        for other in self.cameras.values():
            if other.camera.source.identity == source.identity:
                raise ConflictError(f"camera {other.camera.id} records this stream already")
        name = check_name(body.get("name") or source.redacted[:100])
        camera = Camera(id=camera_id, name=name, source=source, serial=serial)
        _apply_settings(camera, body)
        recorder = CameraRecorder(camera, self.settings, self.store, self.now)
        self.cameras[camera_id] = recorder
        self._save_cameras()
        recorder.start()
        return recorder

    def update_camera(self, camera_id: str, body: dict[str, Any]) -> CameraRecorder:
        """Change a camera's name, address (same serial only) or settings."""
        recorder = self.get(camera_id)
        unknown = set(body) - {"name", "source", *_SETTING_FIELDS}
        if unknown:
            raise InvalidRequestError(f"unknown field(s): {', '.join(sorted(unknown))}")
        camera = recorder.camera
        if "source" in body:
            source = parse_source(body["source"], self.settings.device_roots)
            if camera_id_for(source, camera.serial) != camera.id:
                raise ConflictError(
                    "a camera without a serial is its stream address: add the new one instead"
                )
            camera.source = source
        if "name" in body:
            camera.name = check_name(body["name"])
        _apply_settings(camera, body)
        self._save_cameras()
        return recorder

    async def remove_camera(self, camera_id: str, delete_files: bool) -> None:
        """Stop and forget a camera; its files too if asked."""
        recorder = self.get(camera_id)
        await recorder.stop()
        del self.cameras[camera_id]
        self._save_cameras()
        self.store.forget_state(camera_id)
        if delete_files:
            shutil.rmtree(self.settings.media_dir / camera_id, ignore_errors=True)

    def _save_cameras(self) -> None:
        self.store.save_cameras([recorder.camera for recorder in self])

    # --- time-lapse --------------------------------------------------------------------

    def set_activity(self, camera_id: str, active: object, project: object) -> CameraRecorder:
        """Tell a camera whether its space is active and which project is worked on."""
        recorder = self.get(camera_id)
        if not isinstance(active, bool):
            raise InvalidRequestError("active: true or false")
        checked = None if project is None else check_project_id(project)
        state = recorder.state
        changed = (state.active, state.project) != (active, checked)
        state.active = active
        state.project = checked
        recorder.save_state()
        if changed:
            self._last_frame.pop(camera_id, None)
            if active:
                self._schedule_frame(recorder)
        return recorder

    def _timelapse_key_for(self, recorder: CameraRecorder, taken: float) -> TimelapseKey:
        return TimelapseKey(recorder.camera.id, day_of(taken), recorder.state.project or NO_PROJECT)

    def _schedule_frame(self, recorder: CameraRecorder) -> None:
        camera_id = recorder.camera.id
        running = self._frame_tasks.get(camera_id)
        if running is not None and not running.done():
            return
        self._frame_tasks[camera_id] = asyncio.create_task(self._take_frame(recorder))

    async def _take_frame(self, recorder: CameraRecorder) -> None:
        """Take one time-lapse frame now (when the camera gives a picture)."""
        camera_id = recorder.camera.id
        taken = self.now()
        key = self._timelapse_key_for(recorder, taken)
        previous = self._timelapse_key.get(camera_id)
        if previous is not None and previous != key:
            await self.timelapses.flush(previous)
        self._timelapse_key[camera_id] = key
        try:
            segment = recorder.latest_segment()
        except Exception:  # noqa: BLE001  (no picture now: try at the next interval)
            return
        if await self.timelapses.add_frame(key, recorder.folder / segment.name, taken):
            self._last_frame[camera_id] = taken

    async def _timelapse_tick(self) -> None:
        now = self.now()
        for recorder in self:
            camera_id = recorder.camera.id
            interval = recorder.camera.timelapse_interval or self.settings.timelapse_interval
            if recorder.state.active:
                if now - self._last_frame.get(camera_id, -1e18) >= interval:
                    self._schedule_frame(recorder)
            elif (key := self._timelapse_key.pop(camera_id, None)) is not None:
                await self.timelapses.flush(key)

    def timelapse_listing(
        self, camera: str | None, day: str | None, project: str | None
    ) -> list[dict[str, Any]]:
        """Time-lapses by camera, day and project."""
        cameras = [self.get(camera)] if camera is not None else list(self)
        folder = None if project is None else project
        return [
            entry
            for recorder in cameras
            for entry in self.timelapses.listing(recorder.camera.id, day, folder)
        ]

    # --- storage -----------------------------------------------------------------------

    async def _housekeep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.housekeeping_interval)
            try:
                await self.housekeep()
            except Exception:
                _LOGGER.exception("housekeeping failed")

    async def housekeep(self) -> Plan:
        """Take the due time-lapse frames and apply retention once."""
        await self._timelapse_tick()
        return self.apply_retention()

    def _segment_items(self, recorder: CameraRecorder) -> Iterator[Item]:
        camera_id = recorder.camera.id
        for segment in recorder.segments:  # read by the plan before anything is deleted
            yield Item(camera_id, segment.name, segment.end, segment.size)

    def _timelapse_items(self) -> Iterator[Item]:
        """Whole time-lapse days of a project, oldest first (not the ones being built)."""
        current = {self.timelapses.folder(key) for key in self._timelapse_key.values()}
        folders = [
            (folder.stat().st_mtime, recorder.camera.id, folder)
            for recorder in self
            for folder in (self.settings.media_dir / recorder.camera.id / "timelapse").glob("*/*")
            if folder not in current
        ]
        for mtime, camera_id, folder in sorted(folders):
            key = f"{folder.parent.name}/{folder.name}"
            yield Item(camera_id, key, mtime, folder_size(folder), timelapse=True)

    def apply_retention(self) -> Plan:
        """Delete what the limits and the free-space floor say, oldest first."""
        settings = self.settings
        policy = Policy(
            retention_days={
                r.camera.id: r.camera.retention_days or settings.retention_days for r in self
            },
            camera_max_bytes={
                r.camera.id: r.camera.max_bytes or settings.camera_max_bytes for r in self
            },
            total_max_bytes=settings.total_max_bytes,
            free_floor_bytes=settings.free_floor_bytes,
        )
        now = self.now()
        free = self.disk_usage(settings.media_dir).free
        segments = {r.camera.id: (self._segment_items(r), r.used_bytes) for r in self}
        decided = plan(segments, self._timelapse_items(), policy, now, free)
        doomed: dict[str, set[str]] = {}
        for item, reason in decided.deletions:
            if item.timelapse:
                folder = settings.media_dir / item.camera / "timelapse" / item.key
                shutil.rmtree(folder, ignore_errors=True)
            else:
                doomed.setdefault(item.camera, set()).add(item.key)
            self.deleted[reason] += 1
        for camera_id, names in doomed.items():
            self.cameras[camera_id].delete_segments(names)
            self.cameras[camera_id].drop_empty_spans()
        early = decided.early
        if early:
            freed = sum(item.size for item in early)
            self.floor_deletions += len(early)
            self.floor_freed_bytes += freed
            self.last_floor_deletion = {
                "time": now,
                "files": len(early),
                "bytes": freed,
                "oldest_end": min(item.end for item in early),
                "newest_end": max(item.end for item in early),
            }
            _LOGGER.warning(
                "free space under the floor: deleted %s file(s), %s bytes, before their time",
                len(early), freed,
            )  # fmt: skip
        self.floor_unreachable = decided.floor_unreachable
        return decided

    def storage(self) -> dict[str, Any]:
        """Used and free space, the oldest recording, early deletions."""
        usage = self.disk_usage(self.settings.media_dir)
        cameras: dict[str, dict[str, Any]] = {}
        oldest_all: float | None = None
        for recorder in self:
            oldest = recorder.oldest_recording()
            if oldest is not None and (oldest_all is None or oldest < oldest_all):
                oldest_all = oldest
            root = self.settings.media_dir / recorder.camera.id
            cameras[recorder.camera.id] = {
                "recordings_bytes": recorder.used_bytes,
                "timelapse_bytes": folder_size(root / "timelapse") if root.is_dir() else 0,
                "oldest_recording": oldest,
            }
        used = sum(c["recordings_bytes"] + c["timelapse_bytes"] for c in cameras.values())
        return {
            "used_bytes": used,
            "free_bytes": usage.free,
            "total_bytes": usage.total,
            "free_floor_bytes": self.settings.free_floor_bytes,
            "floor_reached": self.floor_unreachable or usage.free < self.settings.free_floor_bytes,
            "oldest_recording": oldest_all,
            "early_deletions": self.floor_deletions,
            "early_deleted_bytes": self.floor_freed_bytes,
            "last_early_deletion": self.last_floor_deletion,
            "deleted": dict(self.deleted),
            "cameras": cameras,
        }

    def counts(self) -> dict[str, int]:
        """Cameras by status."""
        counts = dict.fromkeys(("recording", "idle", "reconnecting", "error"), 0)
        for recorder in self:
            counts[recorder.status] += 1
        return counts


_SETTING_FIELDS = ("pre_roll", "timelapse_interval", "retention_days", "max_bytes")


def _apply_settings(camera: Camera, body: dict[str, Any]) -> None:
    if "pre_roll" in body:
        camera.pre_roll = _number(body, "pre_roll", 0, 300)
    if "timelapse_interval" in body:
        camera.timelapse_interval = _number(body, "timelapse_interval", 1, 86400)
    if "retention_days" in body:
        camera.retention_days = _number(body, "retention_days", 0.01, 3650)
    if "max_bytes" in body:
        value = _number(body, "max_bytes", 0, 2**50)
        camera.max_bytes = None if value is None else int(value)
