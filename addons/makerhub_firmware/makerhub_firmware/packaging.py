"""Building unit archives: one body per (repository, commit, format, ignore rules, asset),
one tail per unit (see :mod:`.archive` for the layout and :mod:`.cache` for storage)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
import hashlib
import hmac
import json
from pathlib import Path
import secrets
import time
from typing import Any, Final

from .archive import (
    ArchiveFile,
    ArchiveFormat,
    BodyInfo,
    build_tail,
    constant,
    file_mode,
    memory_file,
    read_chunks,
    write_body,
)
from .blobs import BlobReader
from .cache import ArchiveCache, UnitArchive
from .errors import InvalidRequestError, TooLargeError
from .ignore import IgnoreRules
from .releases import DownloadedAsset
from .repository import GitRepository, RepoFile
from .tree import ALWAYS_EXCLUDED, TreeEntry, check_entries, select_entries
from .validation import GITMODULES, parse_submodules

LAYOUT_VERSION: Final = 1
"""Part of every cache key: bump it when archive bytes change for the same inputs."""
ENV_FILE: Final = "env.json"
SCHEMA_FILE: Final = "schema.json"
MAX_UNIT_FILE: Final = 64 * 1024


def canonical_json(value: Any, name: str) -> bytes:
    """Return a unit file as canonical JSON (sorted keys, 2-space indent, final newline)."""
    if not isinstance(value, dict):
        raise InvalidRequestError(f"{name}: must be a JSON object")
    data = (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    if len(data) > MAX_UNIT_FILE:
        raise TooLargeError(f"{name}: over {MAX_UNIT_FILE} bytes")
    return data


@dataclass(frozen=True, slots=True)
class UnitFiles:
    """What makes one unit's archive differ from another's."""

    env: bytes
    schema: bytes
    format: ArchiveFormat


class Packager:
    """Builds bodies and tails, through the cache."""

    def __init__(self, cache: ArchiveCache, id_key: bytes, max_file_size: int) -> None:
        """Use ``id_key`` to derive archive ids (they reveal nothing about the inputs)."""
        self.cache = cache
        self._id_key = id_key
        self.max_file_size = max_file_size
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def archive_id(self, repo_id: str, commit: str, files: UnitFiles) -> str:
        """Return the cache key of one unit archive."""
        message = b"\0".join(
            [
                str(LAYOUT_VERSION).encode(),
                ALWAYS_EXCLUDED.encode(),
                repo_id.encode(),
                commit.encode(),
                files.format.value.encode(),
                hashlib.sha256(files.env).digest(),
                hashlib.sha256(files.schema).digest(),
            ]
        )
        return hmac.new(self._id_key, message, hashlib.sha256).hexdigest()

    def cached(self, archive_id: str) -> UnitArchive | None:
        """Return a unit archive built before, or None."""
        return self.cache.load_unit(archive_id)

    async def package(
        self,
        *,
        repo_id: str,
        repository: GitRepository,
        commit: str,
        files: UnitFiles,
        ignore_file: RepoFile | None,
        asset: DownloadedAsset | None,
    ) -> UnitArchive:
        """Build (or reuse) the body, add the unit's tail, and record the archive."""
        body_key = _body_key(repo_id, commit, files.format, ignore_file, asset)
        async with self._locks[body_key]:
            info = self.cache.load_body(body_key)
            if info is None:
                info = await self._build_body(
                    repo_id=repo_id,
                    repository=repository,
                    commit=commit,
                    fmt=files.format,
                    ignore_file=ignore_file,
                    asset=asset,
                    body_key=body_key,
                )
        self._locks.pop(body_key, None)
        tail = build_tail(
            info, [memory_file(ENV_FILE, files.env), memory_file(SCHEMA_FILE, files.schema)]
        )
        digest = await asyncio.to_thread(self.cache.body_digest, body_key)
        digest.update(tail)
        record = UnitArchive(
            id=self.archive_id(repo_id, commit, files),
            repo=repo_id,
            commit=commit,
            format=files.format,
            body=body_key,
            size=info.size + len(tail),
            sha256=digest.hexdigest(),
            created_at=time.time(),
            asset=asset.name if asset is not None else None,
        )
        await asyncio.to_thread(self.cache.store_unit, record, tail)
        return record

    async def _build_body(
        self,
        *,
        repo_id: str,
        repository: GitRepository,
        commit: str,
        fmt: ArchiveFormat,
        ignore_file: RepoFile | None,
        asset: DownloadedAsset | None,
        body_key: str,
    ) -> BodyInfo:
        tree = await repository.list_tree(commit)
        links = await repository.link_targets(tree)
        submodules: dict[str, str] = {}
        if any(entry.path == GITMODULES for entry in tree.entries):
            gitmodules = await repository.read_files(commit, [GITMODULES], 256 * 1024)
            if GITMODULES in gitmodules:
                submodules = parse_submodules(gitmodules[GITMODULES].content)
        check_entries(tree, links, self.max_file_size, submodules)
        rules = IgnoreRules.parse(
            ignore_file.content.decode("utf-8", "replace") if ignore_file is not None else ""
        )
        replaced = {ENV_FILE, SCHEMA_FILE} | ({asset.name} if asset is not None else set())
        selected = select_entries(tree.entries, rules, replaced)
        mtime = await repository.commit_time(commit)
        staging = self.cache.root / f".body-{secrets.token_hex(8)}"
        write = partial(
            _write_body_file,
            process=repository.git.popen_cat_file(repository.path),
            selected=selected,
            links=links,
            asset=asset,
            fmt=fmt,
            path=staging,
            mtime=mtime,
        )
        try:
            info = await asyncio.to_thread(write)
            await asyncio.to_thread(self.cache.store_body, body_key, info, staging, repo_id)
        finally:
            staging.unlink(missing_ok=True)
        await asyncio.to_thread(self.cache.prune)
        return info


def _body_key(
    repo_id: str,
    commit: str,
    fmt: ArchiveFormat,
    ignore_file: RepoFile | None,
    asset: DownloadedAsset | None,
) -> str:
    parts = [
        f"layout={LAYOUT_VERSION}",
        f"always={ALWAYS_EXCLUDED}",
        f"repo={repo_id}",
        f"commit={commit}",
        f"format={fmt.value}",
        f"ignore={ignore_file.oid if ignore_file is not None else '-'}",
        f"asset={asset.name + ':' + asset.sha256 if asset is not None else '-'}",
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _write_body_file(
    *,
    process: Any,
    selected: Iterable[TreeEntry],
    links: dict[str, str],
    asset: DownloadedAsset | None,
    fmt: ArchiveFormat,
    path: Path,
    mtime: int,
) -> BodyInfo:
    """Stream the selected blobs into a body file (runs in a worker thread)."""
    with BlobReader(process) as reader:
        files: list[ArchiveFile] = []
        for entry in selected:
            if entry.is_symlink:
                target = links[entry.path].encode()
                files.append(
                    ArchiveFile(entry.path, 0o777, len(target), constant(target), is_link=True)
                )
            else:
                files.append(
                    ArchiveFile(
                        entry.path,
                        file_mode(entry.mode),
                        entry.size,
                        partial(reader.chunks, entry.oid, entry.size),
                    )
                )
        if asset is not None:
            files.append(
                ArchiveFile(asset.name, 0o755, asset.size, partial(read_chunks, asset.path))
            )
        files.sort(key=lambda file: file.path.encode())
        with path.open("wb") as out:
            return write_body(fmt, files, out, mtime)
