"""What the service keeps in its data dir: the cameras and each camera's state.

Every write is atomic (a temporary file, ``fsync``, ``rename``, ``fsync`` of the folder),
so a ``kill -9`` or a power cut leaves either the old file or the new one. Credentials in
a camera's stream address are sealed with the secret box (AES-GCM, key in
``<data>/secret.key``), bound to the camera's id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
import json
import logging
import os
from pathlib import Path
from typing import Any, Final

from .validation import CameraSource
from .vendor.secret_box import SecretBox, SecretBoxError

_LOGGER = logging.getLogger(__name__)

CAMERAS_FILE: Final = "cameras.json"
STATE_DIR: Final = "state"
KEY_FILE: Final = "secret.key"
MAX_GAPS: Final = 100
MAX_SPANS: Final = 10_000


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON, atomically and durably."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w") as file:
        json.dump(data, file, indent=1, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass(slots=True)
class Camera:
    """A camera as configured (``None`` settings fall back to the service's)."""

    id: str
    name: str
    source: CameraSource
    serial: str | None = None
    pre_roll: float | None = None
    timelapse_interval: float | None = None
    retention_days: float | None = None
    max_bytes: int | None = None

    def to_api(self) -> dict[str, Any]:
        """The camera's configuration as answered (credentials never included)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.source.kind,
            "source": self.source.redacted,
            "has_credentials": self.source.has_credentials,
            "serial": self.serial,
            "pre_roll": self.pre_roll,
            "timelapse_interval": self.timelapse_interval,
            "retention_days": self.retention_days,
            "max_bytes": self.max_bytes,
        }


@dataclass(slots=True)
class Span:
    """A recording: ``[start, end)`` in wall-clock seconds; ``end`` None while open."""

    id: str
    start: float
    end: float | None
    kind: str
    """``continuous`` (start/stop) or ``clip``."""


@dataclass(slots=True)
class Gap:
    """A time the camera gave no picture."""

    start: float
    end: float | None = None


@dataclass(slots=True)
class CameraState:
    """What a camera's recorder keeps across restarts."""

    spans: list[Span] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    active: bool = False
    project: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "spans": [asdict(span) for span in self.spans[-MAX_SPANS:]],
            "gaps": [asdict(gap) for gap in self.gaps[-MAX_GAPS:]],
            "active": self.active,
            "project": self.project,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CameraState:
        """Read the stored form."""
        return cls(
            spans=[Span(**span) for span in data.get("spans", [])],
            gaps=[Gap(**gap) for gap in data.get("gaps", [])],
            active=bool(data.get("active", False)),
            project=data.get("project"),
        )


class Store:
    """The cameras (``cameras.json``) and their states (``state/<id>.json``)."""

    def __init__(self, data_dir: Path) -> None:
        """Use ``data_dir``; the secret key is created there on first use."""
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self._box = SecretBox.from_key_file(data_dir / KEY_FILE)

    def load_cameras(self) -> list[Camera]:
        """Every stored camera (one whose credentials do not decrypt is skipped, logged)."""
        path = self.data_dir / CAMERAS_FILE
        if not path.exists():
            return []
        cameras = []
        for item in json.loads(path.read_text()):
            url = item["identity"]
            if item.get("sealed_url"):
                try:
                    url = self._box.decrypt(item["sealed_url"], f"camera:{item['id']}").decode()
                except SecretBoxError:
                    _LOGGER.error("camera %s: its stored address does not decrypt", item["id"])
                    continue
            source = CameraSource(kind=item["kind"], url=url, identity=item["identity"])
            cameras.append(
                Camera(
                    id=item["id"],
                    name=item["name"],
                    source=source,
                    serial=item.get("serial"),
                    pre_roll=item.get("pre_roll"),
                    timelapse_interval=item.get("timelapse_interval"),
                    retention_days=item.get("retention_days"),
                    max_bytes=item.get("max_bytes"),
                )
            )
        return cameras

    def save_cameras(self, cameras: list[Camera]) -> None:
        """Store every camera."""
        items = []
        for camera in cameras:
            item = camera.to_api()
            del item["source"], item["has_credentials"]
            item["identity"] = camera.source.identity
            if camera.source.has_credentials:
                item["sealed_url"] = self._box.encrypt(
                    camera.source.url.encode(), f"camera:{camera.id}"
                )
            items.append(item)
        write_json_atomic(self.data_dir / CAMERAS_FILE, items)

    def load_state(self, camera_id: str) -> CameraState:
        """A camera's state (empty for a new camera)."""
        path = self.data_dir / STATE_DIR / f"{camera_id}.json"
        if not path.exists():
            return CameraState()
        return CameraState.from_json(json.loads(path.read_text()))

    def save_state(self, camera_id: str, state: CameraState) -> None:
        """Store a camera's state."""
        write_json_atomic(self.data_dir / STATE_DIR / f"{camera_id}.json", state.to_json())

    def forget_state(self, camera_id: str) -> None:
        """Delete a camera's state."""
        (self.data_dir / STATE_DIR / f"{camera_id}.json").unlink(missing_ok=True)
