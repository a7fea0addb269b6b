"""The firmware service: repositories, their sync schedule, validation and archives.

This is the layer the HTTP API (:mod:`.api`) calls; it owns the data directory:

    <data>/secrets.key          AES-GCM key (0600), generated on first start
    <data>/api.token            generated API token (0600), unless one is configured
    <data>/repositories.json    the registry (credentials encrypted)
    <data>/repositories/<id>/   bare clones
    <data>/assets/<id>/         downloaded release assets
    <data>/cache/               archive bodies and unit records
    <data>/tmp/                 staging clones, ssh key files (removed after use), git's HOME
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
import contextlib
import dataclasses
import json
import logging
from pathlib import Path
import secrets
import shutil
import time
from typing import Any, Final

import aiohttp

from .archive import ArchiveFormat
from .cache import ArchiveCache, UnitArchive
from .discovery import announce, discovery_config
from .errors import ConflictError, FirmwareError, InvalidSchemaError, NotFoundError, RefusalCounter
from .gitcmd import Git, GitEnvironment
from .packaging import Packager, UnitFiles, canonical_json
from .payloads import (
    DEFAULT_SIZE_LIMIT,
    DEFAULT_SYNC_INTERVAL,
    ArchiveRequest,
    RepoChanges,
    check_api_url,
)
from .releases import DownloadedAsset, ReleasesClient, default_api_url
from .repository import COMMIT_RE, GitRepository, check_ref
from .settings import Settings
from .signing import UrlSigner
from .store import RepoRecord, RepoStore, atomic_write
from .sync import Credentials, Syncer, check_ssh_key
from .urls import parse_clone_url
from .validation import Validation, validate_commit
from .vendor.schema import FirmwareSpec
from .vendor.secret_box import SecretBox
from .webhook import event_name, verify_signature

_LOGGER = logging.getLogger(__name__)

RECENT_COMMITS: Final = 20
VALIDATION_CACHE: Final = 256
MAX_REPOS: Final = 500


def _known_asset(index: Path) -> DownloadedAsset | None:
    """Return an asset downloaded before, if its index and file are still there."""
    try:
        known = json.loads(index.read_text())
    except FileNotFoundError:
        return None
    path = Path(known["path"])
    if not path.exists():
        return None
    return DownloadedAsset(path, known["name"], known["size"], known["sha256"])


class FirmwareService:
    """Everything behind the API."""

    def __init__(self, settings: Settings) -> None:
        """Prepare the data directory layout; :meth:`start` loads state."""
        self.settings = settings
        data = settings.data_dir
        self.temp = data / "tmp"
        self.assets = data / "assets"
        self.box = SecretBox.from_key_file(data / "secrets.key")
        self.store = RepoStore(data / "repositories.json")
        self.git = Git(
            GitEnvironment(
                home=self.temp / "home",
                allowed_schemes=settings.allowed_schemes,
                ssh_program=settings.ssh_program,
                known_hosts=settings.known_hosts,
                timeout=settings.git_timeout,
            )
        )
        self.syncer = Syncer(self.git, data / "repositories", self.temp)
        self.cache = ArchiveCache(data / "cache", self.box, settings.cache_max_bytes)
        self.packager = Packager(self.cache, self.box.derive("archive-id"), settings.max_file_size)
        self.signer = UrlSigner(self.box.derive("url-signing"), settings.url_ttl)
        self.refusals = RefusalCounter()
        self.records: dict[str, RepoRecord] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending_webhooks: set[str] = set()
        self._validations: OrderedDict[tuple[str, str, str], Validation] = OrderedDict()
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self.releases: ReleasesClient | None = None
        self.started_at = time.time()

    # --- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Load the registry, clean leftovers and start the sync scheduler."""
        shutil.rmtree(self.temp, ignore_errors=True)
        (self.temp / "home").mkdir(parents=True, mode=0o700)
        self.temp.chmod(0o700)
        self.syncer.repositories.mkdir(parents=True, exist_ok=True)
        self.records = self.store.load()
        self._session = aiohttp.ClientSession()
        self.releases = ReleasesClient(self._session)
        self._spawn(self._scheduler(), "scheduler")
        if self.settings.supervisor_token:
            config = discovery_config(self.settings.port, self.settings.token)
            self._spawn(
                announce(
                    self._session,
                    self.settings.supervisor_token,
                    config,
                    self.settings.supervisor_url,
                ),
                "discovery",
            )

    async def stop(self) -> None:
        """Cancel background work and close the HTTP session."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def _spawn(self, coroutine: Any, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine, name=f"makerhub-firmware {name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- registry ---------------------------------------------------------------------

    def get(self, repo_id: str) -> RepoRecord:
        """Return a repository's record, or raise :class:`NotFoundError`."""
        record = self.records.get(repo_id)
        if record is None:
            raise NotFoundError(f"no repository {repo_id!r}")
        return record

    def _lock(self, repo_id: str) -> asyncio.Lock:
        return self._locks.setdefault(repo_id, asyncio.Lock())

    def _save(self) -> None:
        self.store.save(self.records)

    def _apply_secrets(self, record: RepoRecord, changes: RepoChanges) -> None:
        context = f"repo:{record.id}"
        if changes.ssh_key is not None:
            if changes.ssh_key:
                key = check_ssh_key(changes.ssh_key)
                record.credential = self.box.encrypt(key.encode(), f"{context}:credential")
                record.auth = "ssh_key"
            elif record.auth == "ssh_key":
                record.credential, record.auth = None, "none"
        if changes.token is not None:
            if changes.token:
                record.credential = self.box.encrypt(
                    changes.token.encode(), f"{context}:credential"
                )
                record.auth = "token"
            elif record.auth == "token":
                record.credential, record.auth = None, "none"
        if changes.username is not None:
            record.username = changes.username or None
        if changes.webhook_secret is not None:
            record.webhook_secret = (
                self.box.encrypt(changes.webhook_secret.encode(), f"{context}:webhook")
                if changes.webhook_secret
                else None
            )

    def credentials(self, record: RepoRecord) -> Credentials:
        """Return a repository's decrypted credentials, for one git process."""
        if record.credential is None:
            return Credentials()
        secret = self.box.decrypt(record.credential, f"repo:{record.id}:credential").decode()
        if record.auth == "ssh_key":
            return Credentials(ssh_key=secret)
        return Credentials(token=secret, username=record.username)

    def _check_url(self, url: Any) -> str:
        return parse_clone_url(url, self.settings.allowed_schemes, [self.settings.data_dir]).url

    async def add(self, changes: RepoChanges) -> RepoRecord:
        """Register a repository: check everything, clone it, and only then keep it."""
        if len(self.records) >= MAX_REPOS:
            raise ConflictError(f"at most {MAX_REPOS} repositories")
        url = self._check_url(changes.url)
        assert changes.name is not None
        record = RepoRecord(
            id=secrets.token_hex(6),
            name=changes.name,
            url=url,
            sync_interval=DEFAULT_SYNC_INTERVAL
            if changes.sync_interval is None
            else changes.sync_interval,
            size_limit=changes.size_limit or DEFAULT_SIZE_LIMIT,
            created_at=time.time(),
        )
        if changes.api_url:
            record.api_url = check_api_url(changes.api_url, self.settings.allowed_schemes)
        self._apply_secrets(record, changes)
        async with self._lock(record.id):
            await self._sync_record(record, raise_errors=True)
        self.records[record.id] = record
        self._save()
        self._wake.set()
        _LOGGER.info("registered repository %s (%s)", record.id, record.name)
        return record

    async def update(self, repo_id: str, changes: RepoChanges) -> RepoRecord:
        """Change a repository's settings (a new URL or credentials sync right away)."""
        record = self.get(repo_id)
        async with self._lock(repo_id):
            updated = dataclasses.replace(record)
            if changes.name is not None:
                updated.name = changes.name
            if changes.url is not None:
                updated.url = self._check_url(changes.url)
            if changes.sync_interval is not None:
                updated.sync_interval = changes.sync_interval
            if changes.size_limit is not None:
                updated.size_limit = changes.size_limit
            if changes.api_url is not None:
                updated.api_url = (
                    check_api_url(changes.api_url, self.settings.allowed_schemes)
                    if changes.api_url
                    else None
                )
            self._apply_secrets(updated, changes)
            if (updated.url, updated.credential) != (record.url, record.credential):
                await self._sync_record(updated, raise_errors=True)
            self.records[repo_id] = updated
            self._save()
        self._wake.set()
        return updated

    async def delete(self, repo_id: str) -> None:
        """Forget a repository with its clone, assets and cached archives."""
        self.get(repo_id)
        async with self._lock(repo_id):
            self.records.pop(repo_id, None)
            self._save()
            await asyncio.to_thread(self.syncer.remove, repo_id)
            await asyncio.to_thread(shutil.rmtree, self.assets / repo_id, True)
            await asyncio.to_thread(self.cache.forget_repo, repo_id)
        self._locks.pop(repo_id, None)
        for key in [key for key in self._validations if key[0] == repo_id]:
            del self._validations[key]
        self._wake.set()

    # --- sync -------------------------------------------------------------------------

    async def sync(self, repo_id: str) -> RepoRecord:
        """Sync one repository now and return its record (with ``last_error`` on failure)."""
        record = self.get(repo_id)
        async with self._lock(repo_id):
            await self._sync_record(record, raise_errors=False)
            if repo_id in self.records:
                self._save()
        return record

    async def _sync_record(self, record: RepoRecord, *, raise_errors: bool) -> None:
        record.last_attempt = time.time()
        try:
            self._check_url(record.url)
            outcome = await self.syncer.sync(
                record.id, record.url, self.credentials(record), record.size_limit
            )
        except FirmwareError as err:
            record.last_error = err.message
            _LOGGER.warning("sync of %s failed: %s", record.id, err.message)
            if raise_errors:
                raise  # counted once, where the API answers with it
            self.refusals.count(err)
            return
        record.last_sync = time.time()
        record.last_error = None
        record.default_branch = outcome.default_branch
        record.size = outcome.size
        record.syncs += 1

    def _next_due(self) -> float | None:
        due = [
            (record.last_attempt or record.created_at) + record.sync_interval
            for record in self.records.values()
            if record.sync_interval > 0
        ]
        return min(due) if due else None

    async def _scheduler(self) -> None:
        """Sync every repository when its period has passed since its last attempt."""
        while True:
            self._wake.clear()
            now = time.time()
            for record in list(self.records.values()):
                due = (record.last_attempt or record.created_at) + record.sync_interval
                if record.sync_interval > 0 and due <= now:
                    try:
                        await self.sync(record.id)
                    except NotFoundError:
                        continue  # deleted meanwhile
                    except Exception:
                        _LOGGER.exception("scheduled sync of %s failed", record.id)
            next_due = self._next_due()
            timeout = None if next_due is None else max(0.05, next_due - time.time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def webhook(
        self, repo_id: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        """Check a push webhook's signature and queue a sync."""
        record = self.get(repo_id)
        if record.webhook_secret is None:
            raise NotFoundError(f"repository {repo_id!r} has no webhook secret configured")
        secret = self.box.decrypt(record.webhook_secret, f"repo:{record.id}:webhook")
        verify_signature(secret, body, headers)
        event = event_name(headers)
        if event == "ping":
            return {"event": event, "queued": False}
        if event != "push":
            return {"event": event, "queued": False, "ignored": True}
        if repo_id not in self._pending_webhooks:
            self._pending_webhooks.add(repo_id)
            self._spawn(self._webhook_sync(repo_id), f"webhook sync {repo_id}")
        return {"event": event, "queued": True}

    async def _webhook_sync(self, repo_id: str) -> None:
        try:
            async with self._lock(repo_id):
                self._pending_webhooks.discard(repo_id)
                if (record := self.records.get(repo_id)) is not None:
                    await self._sync_record(record, raise_errors=False)
                    self._save()
        finally:
            self._pending_webhooks.discard(repo_id)

    # --- reading ----------------------------------------------------------------------

    def repository(self, record: RepoRecord) -> GitRepository:
        """Return the clone of a synced repository."""
        repository = GitRepository(self.git, self.syncer.path(record.id))
        if not repository.exists:
            raise ConflictError(f"repository {record.id!r} has not been synced yet")
        return repository

    async def refs(self, repo_id: str) -> dict[str, Any]:
        """Return branches, tags and recent commits."""
        record = self.get(repo_id)
        repository = self.repository(record)
        branches, tags = await repository.refs()
        return {
            "default_branch": record.default_branch,
            "branches": [{"name": n, "commit": c} for n, c in sorted(branches.items())],
            "tags": [{"name": n, "commit": c} for n, c in sorted(tags.items())],
            "commits": await repository.recent_commits(RECENT_COMMITS),
            "last_sync": record.last_sync,
            "last_error": record.last_error,
        }

    async def _resolve(self, repository: GitRepository, ref: str) -> str:
        if COMMIT_RE.fullmatch(ref) is not None and await repository.has_commit(ref):
            return ref
        return await repository.resolve(check_ref(ref))

    async def validate(self, repo_id: str, ref: str | None) -> Validation:
        """Validate the repository at ``ref`` (default: its default branch)."""
        record = self.get(repo_id)
        repository = self.repository(record)
        commit = await self._resolve(repository, ref or "HEAD")
        return await self._validated(record, repository, commit)

    async def _validated(
        self, record: RepoRecord, repository: GitRepository, commit: str
    ) -> Validation:
        """Validate a commit once: a commit never changes, so neither does its result."""
        key = (record.id, record.name, commit)
        if (known := self._validations.get(key)) is not None:
            self._validations.move_to_end(key)
            return known
        result = await validate_commit(repository, commit, record.name, self.settings.max_file_size)
        self._validations[key] = result
        while len(self._validations) > VALIDATION_CACHE:
            self._validations.popitem(last=False)
        return result

    # --- archives ---------------------------------------------------------------------

    async def build_archive(self, repo_id: str, request: ArchiveRequest) -> UnitArchive:
        """Return the unit archive for the request, building it if not cached."""
        record = self.get(repo_id)
        files = UnitFiles(
            env=canonical_json(request.env, "env"),
            schema=canonical_json(request.schema, "schema"),
            format=ArchiveFormat(request.format),
        )
        repository = self.repository(record)
        if COMMIT_RE.fullmatch(request.ref) is not None:
            commit = request.ref
            if (
                cached := self.packager.cached(self.packager.archive_id(record.id, commit, files))
            ) is not None:
                return cached
        commit = await self._resolve(repository, request.ref)
        if (
            cached := self.packager.cached(self.packager.archive_id(record.id, commit, files))
        ) is not None:
            return cached
        validation = await self._validated(record, repository, commit)
        if not validation.valid:
            error = InvalidSchemaError(
                f"commit {commit[:12]} is not a valid unit repository", details=validation.issues
            )
            raise error
        assert validation.schema is not None
        asset = None
        if validation.schema.firmware is not None:
            asset = await self._release_asset(
                record, repository, commit, validation.schema.firmware
            )
        return await self.packager.package(
            repo_id=record.id,
            repository=repository,
            commit=commit,
            files=files,
            ignore_file=validation.ignore_file,
            asset=asset,
        )

    async def _release_asset(
        self, record: RepoRecord, repository: GitRepository, commit: str, spec: FirmwareSpec
    ) -> DownloadedAsset:
        assert self.releases is not None
        directory = self.assets / record.id
        index = directory / f"{commit}-{spec.asset}.json"
        if (known := await asyncio.to_thread(_known_asset, index)) is not None:
            return known
        api_url = record.api_url or default_api_url(record.url)
        check_api_url(api_url, self.settings.allowed_schemes)
        token = self.credentials(record).token
        asset = await self.releases.find_asset(
            api_url, record.url, await repository.tags_at(commit), spec.asset, token
        )
        downloaded = await self.releases.download(asset, directory, record.size_limit, token)
        atomic_write(
            index,
            json.dumps(
                {
                    "path": str(downloaded.path),
                    "name": downloaded.name,
                    "size": downloaded.size,
                    "sha256": downloaded.sha256,
                    "tag": asset.tag,
                }
            ).encode(),
            0o644,
        )
        return downloaded

    def archive(self, archive_id: str) -> UnitArchive:
        """Return a built archive's record."""
        record = self.cache.load_unit(archive_id)
        if record is None:
            raise NotFoundError("no such archive (it may have been evicted; build it again)")
        return record

    def signed_path(self, archive_id: str, ttl: int | None = None) -> tuple[str, str, int]:
        """Return the signed download path, the full URL to hand a unit, and the expiry."""
        path = f"/api/download/{archive_id}"
        signed, expires = self.signer.sign(path, ttl)
        base = (self.settings.external_url or "").rstrip("/")
        return signed, base + signed, expires
