"""The registry of repositories, persisted as one JSON file written atomically."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
import json
import os
from pathlib import Path
import tempfile
from typing import Any, Final, Literal

AuthKind = Literal["none", "token", "ssh_key"]
STORE_VERSION: Final = 1


@dataclass(slots=True)
class RepoRecord:
    """One registered repository. ``credential``/``webhook_secret`` are ciphertexts."""

    id: str
    name: str
    url: str
    sync_interval: int
    size_limit: int
    auth: AuthKind = "none"
    username: str | None = None
    credential: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    api_url: str | None = None
    created_at: float = 0.0
    last_sync: float | None = None
    last_attempt: float | None = None
    last_error: str | None = None
    default_branch: str | None = None
    size: int | None = None
    syncs: int = 0

    def to_api(self) -> dict[str, Any]:
        """Return the record as the API shows it: never a secret, only whether one is set."""
        data = asdict(self)
        data.pop("credential")
        data.pop("webhook_secret")
        data["has_credentials"] = self.credential is not None
        data["webhook"] = self.webhook_secret is not None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RepoRecord:
        """Load a stored record (unknown keys from newer versions are dropped)."""
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


class RepoStore:
    """Loads and saves :class:`RepoRecord` objects to ``path``."""

    def __init__(self, path: Path) -> None:
        """Use ``path`` (created on first save)."""
        self.path = path

    def load(self) -> dict[str, RepoRecord]:
        """Return the stored records by id."""
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text())
        return {item["id"]: RepoRecord.from_json(item) for item in data["repositories"]}

    def save(self, records: dict[str, RepoRecord]) -> None:
        """Write all records atomically (a crash leaves the old file or the new one)."""
        document = {
            "version": STORE_VERSION,
            "repositories": [asdict(record) for record in records.values()],
        }
        atomic_write(self.path, json.dumps(document, indent=1).encode())


def atomic_write(path: Path, data: bytes, mode: int = 0o600, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` through a temporary file in the same directory.

    ``durable`` also syncs the data to disk before the rename: the registry needs it;
    cache entries, which are rebuilt when lost, do not pay for it.
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
