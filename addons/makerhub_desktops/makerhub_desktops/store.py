"""The desktops' records on disk: ``<data>/desktops.json`` (no credential is ever kept)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
import enum
import json
import os
from pathlib import Path
import tempfile
from typing import Any


class State(enum.StrEnum):
    """A desktop's state, as the API and Home Assistant show it."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    SUSPENDED = "suspended"
    ERROR = "error"


@dataclass
class DesktopRecord:
    """What survives a restart of the service."""

    project: str
    user: str
    url: str | None
    """The repository the workspace was cloned from; None: an empty `git init`."""
    uid: int | None = None
    """The user's id, asked for again if the user has to be created anew."""
    state: State = State.STOPPED
    display: int | None = None
    xvnc_pid: int | None = None
    last_active: float = 0.0
    scratch_ttl: float | None = None
    scratch_expires: float | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the stored form."""
        return {**asdict(self), "state": self.state.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DesktopRecord:
        """Read the stored form."""
        return cls(**{**data, "state": State(data["state"])})


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` durably, through a temporary file beside it."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class DesktopStore:
    """Loads and saves the records."""

    def __init__(self, path: Path) -> None:
        """Keep the records in ``path``."""
        self.path = path

    def load(self) -> dict[str, DesktopRecord]:
        """Return the records (none on first start)."""
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return {key: DesktopRecord.from_json(value) for key, value in raw.items()}

    def save(self, records: dict[str, DesktopRecord]) -> None:
        """Write every record."""
        data = {key: record.to_json() for key, record in sorted(records.items())}
        atomic_write(self.path, json.dumps(data, indent=1).encode())
