"""The archive cache on disk: bodies (shared) and unit records (one per unit's inputs).

``bodies/<key>.body`` is a body as :mod:`.archive` writes it, ``bodies/<key>.json`` its
description. ``units/<id>.json`` describes one unit archive (its body, size, sha256) and
``units/<id>.tail`` holds its tail encrypted: the tail carries ``env.json``, which holds
the unit's broker password and token.

A unit archive's sha256 is computed without reading the body again: the body's running
hash state is kept in memory and copied for each tail. Bodies are evicted oldest-used
first beyond ``max_bytes``; their unit records go with them.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
import hashlib
import json
import logging
import os
from pathlib import Path
import re
import threading
from typing import Any, Final

from .archive import ArchiveFormat, BodyInfo, read_chunks
from .store import atomic_write
from .vendor.secret_box import SecretBox

_LOGGER = logging.getLogger(__name__)

KEY_RE: Final = re.compile(r"[0-9a-f]{64}")
MAX_UNIT_RECORDS: Final = 20_000


@dataclass(frozen=True, slots=True)
class UnitArchive:
    """One unit's archive: a cached body plus its own tail."""

    id: str
    repo: str
    commit: str
    format: ArchiveFormat
    body: str
    size: int
    sha256: str
    created_at: float
    asset: str | None = None

    def to_api(self) -> dict[str, Any]:
        """Return the API form."""
        data = asdict(self)
        data["format"] = self.format.value
        data.pop("body")
        return data


class ArchiveCache:
    """Bodies and unit records under ``root``."""

    def __init__(self, root: Path, box: SecretBox, max_bytes: int) -> None:
        """Keep at most ``max_bytes`` of bodies under ``root``."""
        self.root = root
        self.bodies = root / "bodies"
        self.units = root / "units"
        self.bodies.mkdir(parents=True, exist_ok=True)
        self.units.mkdir(parents=True, exist_ok=True)
        self._box = box
        self.max_bytes = max_bytes
        self._hashes: dict[str, Any] = {}
        self._lock = threading.Lock()

    def body_path(self, key: str) -> Path:
        """Return where a body's bytes are."""
        return self.bodies / f"{key}.body"

    def load_body(self, key: str) -> BodyInfo | None:
        """Return a cached body's description, or None."""
        meta = self.bodies / f"{key}.json"
        if not meta.exists() or not self.body_path(key).exists():
            return None
        data = json.loads(meta.read_text())
        return BodyInfo(
            ArchiveFormat(data["format"]),
            data["size"],
            data["entries"],
            data["mtime"],
            base64.b64decode(data["central_directory"]),
        )

    def store_body(self, key: str, info: BodyInfo, written: Path, repo_id: str) -> None:
        """Move a freshly written body into the cache and describe it."""
        written.replace(self.body_path(key))
        data = {
            "repo": repo_id,
            "format": info.format.value,
            "size": info.size,
            "entries": info.entries,
            "mtime": info.mtime,
            "central_directory": base64.b64encode(info.central_directory).decode(),
        }
        atomic_write(self.bodies / f"{key}.json", json.dumps(data).encode(), 0o644, durable=False)

    def body_digest(self, key: str) -> Any:
        """Return a copy of the body's sha256 state (reads the body once per process).

        Blocking: call it from a worker thread.
        """
        with self._lock:
            state = self._hashes.get(key)
        if state is None:
            state = hashlib.sha256()
            for chunk in read_chunks(self.body_path(key)):
                state.update(chunk)
            with self._lock:
                self._hashes[key] = state
        return state.copy()

    def load_unit(self, archive_id: str) -> UnitArchive | None:
        """Return a unit record, or None when unknown or its body was evicted."""
        if KEY_RE.fullmatch(archive_id) is None:
            return None
        meta = self.units / f"{archive_id}.json"
        try:
            data = json.loads(meta.read_text())
        except FileNotFoundError:
            return None
        data["format"] = ArchiveFormat(data["format"])
        record = UnitArchive(**data)
        if not self.body_path(record.body).exists():
            return None
        return record

    def store_unit(self, record: UnitArchive, tail: bytes) -> None:
        """Save a unit record with its tail, encrypted."""
        sealed = self._box.encrypt(tail, f"tail:{record.id}")
        atomic_write(self.units / f"{record.id}.tail", sealed.encode(), durable=False)
        data = asdict(record)
        data["format"] = record.format.value
        atomic_write(
            self.units / f"{record.id}.json", json.dumps(data).encode(), 0o644, durable=False
        )

    def load_tail(self, archive_id: str) -> bytes:
        """Return a unit's tail, decrypted."""
        sealed = (self.units / f"{archive_id}.tail").read_text()
        return self._box.decrypt(sealed, f"tail:{archive_id}")

    def touch(self, body_key: str) -> None:
        """Mark a body as just used (eviction is oldest-used first)."""
        try:
            os.utime(self.body_path(body_key))
        except FileNotFoundError:
            return

    def prune(self) -> int:
        """Evict the oldest-used bodies beyond ``max_bytes``; return how many went."""
        bodies = sorted(
            (path.stat().st_mtime, path.stat().st_size, path) for path in self.bodies.glob("*.body")
        )
        total = sum(size for _, size, _ in bodies)
        evicted: set[str] = set()
        for _, size, path in bodies:
            if total <= self.max_bytes:
                break
            key = path.stem
            path.unlink(missing_ok=True)
            (self.bodies / f"{key}.json").unlink(missing_ok=True)
            with self._lock:
                self._hashes.pop(key, None)
            evicted.add(key)
            total -= size
        units = list(self.units.glob("*.json"))
        if evicted or len(units) > MAX_UNIT_RECORDS:
            self._prune_units(units, evicted)
        return len(evicted)

    def _prune_units(self, units: list[Path], evicted: set[str]) -> None:
        aged = sorted(units, key=lambda path: path.stat().st_mtime)
        excess = len(aged) - MAX_UNIT_RECORDS
        for index, meta in enumerate(aged):
            try:
                body = json.loads(meta.read_text())["body"]
            except (OSError, ValueError, KeyError):
                body = None
            if body in evicted or index < excess:
                meta.unlink(missing_ok=True)
                meta.with_suffix(".tail").unlink(missing_ok=True)

    def forget_repo(self, repo_id: str) -> None:
        """Drop every cached archive of a repository."""
        for meta in self.units.glob("*.json"):
            try:
                record = json.loads(meta.read_text())
            except (OSError, ValueError):
                continue
            if record.get("repo") == repo_id:
                meta.unlink(missing_ok=True)
                meta.with_suffix(".tail").unlink(missing_ok=True)
        for meta in self.bodies.glob("*.json"):
            try:
                owner = json.loads(meta.read_text()).get("repo")
            except (OSError, ValueError):
                continue
            if owner == repo_id:
                key = meta.stem
                self.body_path(key).unlink(missing_ok=True)
                meta.unlink(missing_ok=True)
                with self._lock:
                    self._hashes.pop(key, None)
