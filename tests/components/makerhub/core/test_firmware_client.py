"""The firmware client against the real firmware service, started in-process.

The service is the add-on's own code (:mod:`makerhub_firmware`) on a free port of
127.0.0.1; repositories are real git repositories made with the ``git`` CLI. A small fake
server covers the answers the real one cannot be made to give (5xx, garbage, stalls).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import hashlib
import io
import json
import os
from pathlib import Path
import shutil
import tarfile
import time
from typing import Any
import zipfile

import aiohttp
from aiohttp import web
import pytest

from custom_components.makerhub.core.firmware_client import (
    ArchiveStream,
    CommitInfo,
    FirmwareArchive,
    FirmwareAuthError,
    FirmwareClient,
    FirmwareConflictError,
    FirmwareConnectionError,
    FirmwareError,
    FirmwareInvalidSchemaError,
    FirmwareNotFoundError,
    FirmwareRefusedError,
    FirmwareRepo,
    FirmwareRequestError,
    FirmwareServiceError,
    FirmwareTooLargeError,
    FirmwareUpstreamError,
    Issue,
    RepoRefs,
    SignedUrl,
    Validation,
    repo_name_from_url,
)
from custom_components.makerhub.core.schema import UnitSchema
from custom_components.makerhub.core.unit_env import (
    declared_defaults,
    declared_env,
    generated_env,
    merge_env,
)
from dev.processes.git_repo import FirmwareGitRepo
from dev.processes.ports import free_port
from tests.helpers.firmware_service import TOKEN, FirmwareServer, thermometer_repo

UID = "3f9a0c71be42"
UNIT_SCHEMA_JSON = {
    "v": 1,
    "unit": UID,
    "inputs": {"relay": [f"makerhub/{UID}/in/relay"]},
    "outputs": {"temperature": [f"makerhub/{UID}/out/temperature"]},
    "sys": {"status": f"makerhub/{UID}/sys/status"},
}


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[FirmwareGitRepo, str, str]:
    """The thermometer repository: two commits on main, v1.0.0 on the first."""
    return thermometer_repo(tmp_path / "upstream")


@pytest.fixture
async def server(socket_enabled: None, tmp_path: Path) -> AsyncIterator[FirmwareServer]:
    """The real firmware service, without an external URL."""
    async with FirmwareServer(tmp_path / "data") as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One HTTP session per test."""
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def client(server: FirmwareServer, session: aiohttp.ClientSession) -> FirmwareClient:
    """A client with the service's token."""
    return FirmwareClient(session, server.base_url + "/", server.token)


@pytest.fixture
async def repo(client: FirmwareClient, upstream: tuple[FirmwareGitRepo, str, str]) -> FirmwareRepo:
    """The thermometer repository, registered (and so cloned)."""
    return await client.create_repo(upstream[0].url)


def unit_env(schema: UnitSchema, version: str = "v1.0.0") -> dict[str, Any]:
    """The env.json the hub would give the unit for ``schema``."""
    declared = declared_env(schema)
    generated = generated_env(
        UID,
        mqtt_host="192.168.1.10",
        mqtt_username=f"unit-{UID}",
        mqtt_password="broker-password-123",
        api_url="http://homeassistant.local:8123",
        token="unit-token-456",
        version=version,
    )
    return merge_env(
        {"LABEL": "workbench", "WIFI_SSID": "makerspace"},
        {},
        generated,
        declared_defaults(declared),
        declared,
    )


def tar_members(data: bytes) -> dict[str, bytes]:
    """Return a tar.gz archive's regular files by name."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        }


# --- service and repositories ------------------------------------------------------------


async def test_health_counts_repositories_and_refusals(
    client: FirmwareClient, upstream: tuple[FirmwareGitRepo, str, str]
) -> None:
    """Health reports the repositories and refusals by code."""
    health = await client.health()
    assert (health.status, health.repositories, dict(health.refused)) == ("ok", 0, {})
    await client.create_repo(upstream[0].url)
    with pytest.raises(FirmwareRefusedError):
        await client.create_repo("ext::sh -c touch% /tmp/pwned")
    health = await client.health()
    assert health.repositories == 1
    assert health.refused == {"refused": 1}


async def test_create_repo_clones_and_names(
    client: FirmwareClient, upstream: tuple[FirmwareGitRepo, str, str]
) -> None:
    """Registering clones at once; the name defaults to the URL's last part."""
    record = await client.create_repo(upstream[0].url)
    assert record.name == "bench-thermo"
    assert record.url == upstream[0].url
    assert record.synced
    assert record.syncs == 1
    assert record.last_error is None
    assert record.default_branch == "main"
    assert (record.auth, record.has_credentials, record.webhook) == ("none", False, False)
    assert record.size is not None
    assert record.size > 0
    assert len(record.id) == 12
    named = await client.create_repo(
        upstream[0].url,
        "Bench thermometer",
        webhook_secret="a-webhook-secret-of-16+",
        sync_interval=0,
        size_limit=1024 * 1024,
    )
    assert (named.name, named.webhook, named.sync_interval, named.size_limit) == (
        "Bench thermometer",
        True,
        0,
        1024 * 1024,
    )


async def test_list_get_update_delete(client: FirmwareClient, repo: FirmwareRepo) -> None:
    """A repository is listed, read, changed and forgotten."""
    assert await client.list_repos() == [repo]
    assert await client.get_repo(repo.id) == repo
    changed = await client.update_repo(repo.id, name="Thermo", sync_interval=3600)
    assert (changed.name, changed.sync_interval, changed.syncs) == ("Thermo", 3600, 1)
    with_token = await client.update_repo(repo.id, token="a-git-token", username="ada")
    assert (with_token.auth, with_token.has_credentials, with_token.username) == (
        "token",
        True,
        "ada",
    )
    cleared = await client.update_repo(repo.id, token="")
    assert (cleared.auth, cleared.has_credentials) == ("none", False)
    await client.delete_repo(repo.id)
    assert await client.list_repos() == []
    with pytest.raises(FirmwareNotFoundError) as err:
        await client.get_repo(repo.id)
    assert err.value.status == 404
    assert err.value.code == "not_found"
    assert repo.id in err.value.message
    with pytest.raises(FirmwareNotFoundError):
        await client.delete_repo(repo.id)


async def test_sync_fetches_new_commits_and_keeps_errors(
    client: FirmwareClient, repo: FirmwareRepo, upstream: tuple[FirmwareGitRepo, str, str]
) -> None:
    """A sync fetches what was pushed; a failed one records last_error and keeps the state."""
    git_repo, _, second = upstream
    third = git_repo.commit("Tune the sensor", {"main.py": "print('tuned')\n"})
    synced = await client.sync(repo.id)
    assert synced.syncs == 2
    assert synced.last_error is None
    assert (await client.refs(repo.id)).resolve("main") == third
    shutil.rmtree(git_repo.bare)
    failed = await client.sync(repo.id)
    assert failed.last_error
    assert failed.syncs == 2
    refs = await client.refs(repo.id)
    assert refs.last_error == failed.last_error
    assert refs.resolve("main") == third
    assert refs.commit_info(second) is not None


async def test_refs_branches_tags_and_commit_messages(
    client: FirmwareClient, repo: FirmwareRepo, upstream: tuple[FirmwareGitRepo, str, str]
) -> None:
    """Refs give branches, tags and the recent commits with their whole messages."""
    _, first, second = upstream
    refs = await client.refs(repo.id)
    assert isinstance(refs, RepoRefs)
    assert refs.default_branch == "main"
    assert [(b.name, b.commit) for b in refs.branches] == [("main", second)]
    assert [(t.name, t.commit) for t in refs.tags] == [("v1.0.0", first)]
    assert refs.head is not None
    assert refs.head.commit == second
    assert refs.last_sync is not None
    assert refs.last_error is None
    assert [c.commit for c in refs.commits] == [second, first]
    newest = refs.commits[0]
    assert isinstance(newest, CommitInfo)
    assert newest.subject == "Add humidity"
    assert newest.message.startswith("Add humidity\n\nReads the SHT31")
    assert newest.body == "Reads the SHT31 next to the thermometer.\nNew env key INTERVAL."
    assert newest.author == "Ada Maker"
    assert newest.when.isoformat() == "2024-05-02T12:00:00+00:00"
    assert refs.resolve("v1.0.0") == first
    assert refs.resolve(second[:7]) == second
    assert refs.resolve("nope") is None
    assert refs.commit_info(first[:6]) is None
    assert refs.tags_at(first) == ["v1.0.0"]
    assert refs.tags_at(second) == []
    assert refs.branch("nope") is None
    assert refs.tag("nope") is None


async def test_validate_returns_the_schema_at_a_ref(
    client: FirmwareClient, repo: FirmwareRepo, upstream: tuple[FirmwareGitRepo, str, str]
) -> None:
    """Validation gives the commit and the unit schema (the entities' source) at a ref."""
    _, first, second = upstream
    latest = await client.validate(repo.id)
    assert isinstance(latest, Validation)
    assert (latest.commit, latest.valid, latest.source, latest.issues) == (
        second,
        True,
        "makerhub.json",
        (),
    )
    schema = latest.require_schema()
    assert schema.name == "Bench thermometer"
    assert set(schema.outputs) == {"temperature", "humidity"}
    assert schema.outputs["temperature"].device_class == "temperature"
    assert set(schema.env) == {"SENSOR_PIN", "LABEL", "CLOUD_KEY", "INTERVAL"}
    assert schema.env["CLOUD_KEY"].secret is True
    assert latest.schema_json is not None
    assert latest.schema_json["name"] == "Bench thermometer"
    released = await client.validate(repo.id, "v1.0.0")
    assert released.commit == first
    assert released.schema is not None
    assert set(released.schema.outputs) == {"temperature"}
    assert (await client.validate(repo.id, first)).commit == first


async def test_invalid_commit_reports_every_issue(
    client: FirmwareClient, repo: FirmwareRepo, upstream: tuple[FirmwareGitRepo, str, str]
) -> None:
    """A broken makerhub.json validates as invalid, and cannot be packaged."""
    git_repo = upstream[0]
    git_repo.commit(
        "Break it",
        {
            "makerhub.json": {
                "name": "Broken",
                "outputs": {"Bad-Name": {"type": "float"}, "t": {"type": "complex"}},
                "env": {"lower": {"default": 1}},
            }
        },
    )
    await client.sync(repo.id)
    result = await client.validate(repo.id, "main")
    assert not result.valid
    assert result.schema is None
    assert result.source == "makerhub.json"
    paths = {(issue.file, issue.path) for issue in result.issues}
    assert ("makerhub.json", "outputs.Bad-Name") in paths
    assert ("makerhub.json", "outputs.t.type") in paths
    assert ("makerhub.json", "env.lower") in paths
    with pytest.raises(FirmwareInvalidSchemaError) as err:
        result.require_schema()
    assert err.value.details == result.issues
    assert "outputs.Bad-Name" in err.value.message
    with pytest.raises(FirmwareInvalidSchemaError) as built:
        await client.build_archive(repo.id, "main", {"MH_UNIT_ID": UID}, UNIT_SCHEMA_JSON)
    assert isinstance(built.value, FirmwareRefusedError)
    assert (built.value.status, built.value.code) == (422, "invalid_schema")
    assert {(i.file, i.path) for i in built.value.details} == paths
    assert str(built.value.details[0]).startswith("makerhub.json: ")


async def test_validate_unknown_ref(client: FirmwareClient, repo: FirmwareRepo) -> None:
    """An unknown ref is not found; a hostile one is refused."""
    with pytest.raises(FirmwareNotFoundError):
        await client.validate(repo.id, "no-such-branch")
    with pytest.raises(FirmwareRefusedError) as err:
        await client.validate(repo.id, "--upload-pack=evil")
    assert err.value.status == 422


async def test_pepeunit_repository_schema(client: FirmwareClient, tmp_path: Path) -> None:
    """A Pepeunit repository validates into the same schema form, env keys included."""
    pepe = FirmwareGitRepo(tmp_path / "pepe", "fan-unit")
    pepe.commit(
        "Pepeunit fan",
        {
            "schema_example.json": {
                "input_topic": ["set_fan_state/pepeunit"],
                "output_topic": ["temperature/pepeunit"],
            },
            "env_example.json": {"WIFI_SSID": "ssid", "PWM_FAN_PIN": 0, "PU_AUTH_TOKEN": "jwt"},
        },
    )
    record = await client.create_repo(pepe.url)
    result = await client.validate(record.id)
    assert result.valid
    assert result.source == "pepeunit"
    schema = result.require_schema()
    assert set(schema.inputs) == {"set_fan_state"}
    assert set(schema.outputs) == {"temperature"}
    assert declared_env(schema)["PWM_FAN_PIN"].type == "int"


# --- archives ----------------------------------------------------------------------------


async def test_build_archive_and_download(
    client: FirmwareClient,
    repo: FirmwareRepo,
    upstream: tuple[FirmwareGitRepo, str, str],
    session: aiohttp.ClientSession,
) -> None:
    """An archive of v1.0.0 with the merged env.json; its signed link downloads it."""
    first = upstream[1]
    schema = (await client.validate(repo.id, "v1.0.0")).require_schema()
    env = unit_env(schema)
    before = int(time.time())
    archive = await client.build_archive(repo.id, "v1.0.0", env, UNIT_SCHEMA_JSON)
    assert isinstance(archive, FirmwareArchive)
    assert (archive.repo, archive.commit, archive.format, archive.asset) == (
        repo.id,
        first,
        "tar.gz",
        None,
    )
    assert len(archive.sha256) == 64
    assert archive.size > 0
    assert len(archive.id) == 64
    assert archive.path is not None
    assert archive.path.startswith(f"/api/download/{archive.id}?")
    assert archive.url is None, "no external URL: only the signed path"
    assert archive.expires is not None
    assert before + 590 <= archive.expires <= before + 610
    url = client.download_url(archive)
    assert url == client.base_url + archive.path
    async with session.get(url) as response:
        assert response.status == 200
        data = await response.read()
    assert hashlib.sha256(data).hexdigest() == archive.sha256
    assert len(data) == archive.size
    files = tar_members(data)
    assert json.loads(files["env.json"]) == env
    assert json.loads(files["schema.json"]) == UNIT_SCHEMA_JSON
    assert "main.py" in files
    assert "notes.txt" not in files
    assert not any(name.startswith("examples/") for name in files)
    again = await client.build_archive(repo.id, first, env, UNIT_SCHEMA_JSON, expires_in=60)
    assert (again.id, again.sha256) == (archive.id, archive.sha256)
    assert again.expires is not None
    assert again.expires <= int(time.time()) + 60


async def test_zip_archive_and_format_errors(client: FirmwareClient, repo: FirmwareRepo) -> None:
    """A zip archive is built on request; a bad format or ref is refused with the reason."""
    archive = await client.build_archive(
        repo.id, "main", {"MH_UNIT_ID": UID}, UNIT_SCHEMA_JSON, fmt="zip"
    )
    assert archive.format == "zip"
    chunks = [chunk async for chunk in client.archive_content(archive.id)]
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as zipped:
        assert json.loads(zipped.read("env.json")) == {"MH_UNIT_ID": UID}
    with pytest.raises(FirmwareRequestError) as err:
        await client.build_archive(repo.id, "main", {}, {}, fmt="rar")
    assert (err.value.status, err.value.code) == (400, "invalid_request")
    assert "format" in err.value.message
    with pytest.raises(FirmwareRequestError):
        await client.build_archive(repo.id, "main", {}, {}, expires_in=0)
    with pytest.raises(FirmwareNotFoundError):
        await client.build_archive(repo.id, "no-such-tag", {}, {})
    with pytest.raises(FirmwareNotFoundError):
        await client.build_archive("0" * 12, "main", {}, {})


async def test_get_archive_and_sign(client: FirmwareClient, repo: FirmwareRepo) -> None:
    """An archive's record, and fresh signed links for it."""
    built = await client.build_archive(repo.id, "main", {"MH_UNIT_ID": UID}, UNIT_SCHEMA_JSON)
    record = await client.get_archive(built.id)
    assert record == built
    assert (record.signed, record.path, record.url, record.expires) == (None, None, None, None)
    with pytest.raises(ValueError, match="sign"):
        client.download_url(record)
    signed = await client.sign(built.id, expires_in=120)
    assert isinstance(signed, SignedUrl)
    assert (signed.sha256, signed.size, signed.url) == (built.sha256, built.size, None)
    assert signed.path.startswith(f"/api/download/{built.id}?")
    assert abs(signed.expires - (time.time() + 120)) < 5
    assert signed.expires_at.timestamp() == signed.expires
    assert client.download_url(signed) == client.base_url + signed.path
    assert signed.absolute("http://ha.local:8123/") == "http://ha.local:8123" + signed.path
    default = await client.sign(built.id)
    assert default.expires >= signed.expires
    with pytest.raises(FirmwareRequestError):
        await client.sign(built.id, expires_in=10**9)
    with pytest.raises(FirmwareNotFoundError):
        await client.get_archive("f" * 64)
    with pytest.raises(FirmwareNotFoundError):
        await client.sign("f" * 64)


async def test_archive_content_streams_with_metadata(
    client: FirmwareClient, repo: FirmwareRepo
) -> None:
    """The bytes stream in chunks, with size, sha256 and a file name known up front."""
    built = await client.build_archive(repo.id, "main", {"MH_UNIT_ID": UID}, UNIT_SCHEMA_JSON)
    stream = client.archive_content(built.id, chunk_size=512)
    assert isinstance(stream, ArchiveStream)
    async with stream:
        assert (stream.size, stream.sha256) == (built.size, built.sha256)
        assert stream.content_type == "application/gzip"
        assert stream.filename is not None
        assert stream.filename.endswith(".tar.gz")
        assert await stream.open() is stream
        chunks = [chunk async for chunk in stream]
    assert len(chunks) > 1
    assert all(len(chunk) <= 512 for chunk in chunks)
    data = b"".join(chunks)
    assert hashlib.sha256(data).hexdigest() == built.sha256
    direct = b"".join([chunk async for chunk in client.archive_content(built.id)])
    assert direct == data
    await stream.close()
    with pytest.raises(FirmwareNotFoundError):
        async for _ in client.archive_content("e" * 64):
            pass


async def test_external_url_signed_links(
    socket_enabled: None,
    tmp_path: Path,
    session: aiohttp.ClientSession,
    upstream: tuple[FirmwareGitRepo, str, str],
) -> None:
    """With an external URL configured, links are full URLs units can use as they are."""
    async with FirmwareServer(
        tmp_path / "external", external_url="http://units.example:8099/"
    ) as running:
        client = FirmwareClient(session, running.base_url, running.token)
        record = await client.create_repo(upstream[0].url)
        archive = await client.build_archive(record.id, "main", {}, UNIT_SCHEMA_JSON)
        assert archive.url == "http://units.example:8099" + (archive.path or "")
        assert client.download_url(archive) == archive.url
        signed = await client.sign(archive.id)
        assert signed.absolute("http://ignored") == signed.url


# --- errors ------------------------------------------------------------------------------


async def test_wrong_token_is_unauthorized(
    server: FirmwareServer, session: aiohttp.ClientSession
) -> None:
    """A wrong token is refused with the service's message; the token is never shown."""
    wrong = "wrong-token-9876543210"
    client = FirmwareClient(session, server.base_url, wrong)
    with pytest.raises(FirmwareAuthError) as err:
        await client.health()
    assert (err.value.status, err.value.code, err.value.message) == (
        401,
        "unauthorized",
        "invalid token",
    )
    assert wrong not in repr(client)
    assert server.base_url in repr(client)
    with pytest.raises(FirmwareAuthError):
        async for _ in client.archive_content("a" * 64):
            pass


async def test_refused_urls_and_requests(client: FirmwareClient, tmp_path: Path) -> None:
    """Hostile URLs are refused (422) and malformed requests rejected (400), with reasons."""
    for url in ("ext::sh -c touch% /tmp/pwned", "--upload-pack=touch /tmp/x", "http://h/r.git"):
        with pytest.raises(FirmwareRefusedError) as err:
            await client.create_repo(url, "Evil")
        assert err.value.code == "refused"
        assert err.value.status == 422
        assert err.value.message
    with pytest.raises(FirmwareRequestError) as short:
        await client.create_repo(f"file://{tmp_path}/x.git", "X", webhook_secret="short")
    assert "webhook_secret" in short.value.message
    with pytest.raises(FirmwareRequestError):
        await client.create_repo(f"file://{tmp_path}/x.git", "X", token="t", ssh_key="k")
    with pytest.raises(FirmwareError) as missing:
        await client.create_repo(f"file://{tmp_path}/missing.git", "Missing")
    assert missing.value.status is not None
    assert missing.value.status >= 400


async def test_too_large_repository(client: FirmwareClient, tmp_path: Path) -> None:
    """A repository over its size limit is refused as too_large, and not kept."""
    big = FirmwareGitRepo(tmp_path / "big", "big")
    big.commit(
        "Big blob",
        {"makerhub.json": {"name": "Big"}, "blob.bin": os.urandom(300_000)},
    )
    with pytest.raises(FirmwareTooLargeError) as err:
        await client.create_repo(big.url, size_limit=100_000)
    assert isinstance(err.value, FirmwareRefusedError)
    assert (err.value.status, err.value.code) == (413, "too_large")
    assert await client.list_repos() == []


async def test_malformed_ids_are_not_found_without_a_request(
    session: aiohttp.ClientSession,
) -> None:
    """Ids that cannot exist are refused before anything is sent."""
    client = FirmwareClient(session, "http://127.0.0.1:9", "token")
    for call in (
        client.get_repo("../health"),
        client.refs("ABC"),
        client.get_archive("xyz"),
        client.sign("1" * 63),
    ):
        with pytest.raises(FirmwareNotFoundError):
            await call
    with pytest.raises(FirmwareNotFoundError):
        client.archive_content("nope")


async def test_unreachable_service(socket_enabled: None, session: aiohttp.ClientSession) -> None:
    """Nothing listening: a connection error, with no status, saying where."""
    base = f"http://127.0.0.1:{free_port()}"
    client = FirmwareClient(session, base, TOKEN)
    with pytest.raises(FirmwareConnectionError) as err:
        await client.list_repos()
    assert (err.value.status, err.value.code) == (None, "unreachable")
    assert base in err.value.message
    assert TOKEN not in err.value.message
    with pytest.raises(FirmwareConnectionError):
        async for _ in client.archive_content("a" * 64):
            pass


# --- answers the real service does not give: a fake -------------------------------------

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def fake(
    socket_enabled: None, session: aiohttp.ClientSession
) -> AsyncIterator[Callable[[Handler], Awaitable[FirmwareClient]]]:
    """Serve one handler for every path; return a client of it (short timeouts)."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> FirmwareClient:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return FirmwareClient(session, f"http://{host}:{port}", TOKEN, timeout=0.5)

    yield start
    for runner in runners:
        await runner.cleanup()


def answer(status: int, body: Any, content_type: str = "application/json") -> Handler:
    """A handler giving one fixed answer."""

    async def handler(request: web.Request) -> web.StreamResponse:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        text = body if isinstance(body, str) else json.dumps(body)
        return web.Response(status=status, text=text, content_type=content_type)

    return handler


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "bad_request", FirmwareRequestError),
        (409, "conflict", FirmwareConflictError),
        (502, "upstream_failed", FirmwareUpstreamError),
        (500, "internal", FirmwareServiceError),
        (404, "http", FirmwareNotFoundError),
        (405, "http", FirmwareServiceError),
        (413, None, FirmwareTooLargeError),
        (422, "something_new", FirmwareRefusedError),
        (403, None, FirmwareAuthError),
        (503, None, FirmwareServiceError),
    ],
)
async def test_error_codes_map_to_classes(
    fake: Callable[[Handler], Awaitable[FirmwareClient]],
    status: int,
    code: str | None,
    expected: type[FirmwareError],
) -> None:
    """Each error code (or, failing that, the status) gives its class and the message."""
    body: dict[str, Any] = {"message": f"said {status}"}
    if code is not None:
        body["error"] = code
    client = await fake(answer(status, body))
    with pytest.raises(FirmwareError) as err:
        await client.list_repos()
    assert type(err.value) is expected
    assert (err.value.status, err.value.message) == (status, f"said {status}")
    assert err.value.code == (
        code
        if code in {"bad_request", "conflict", "upstream_failed", "internal"}
        else expected.default_code
    )


async def test_conflict_with_details_and_garbage_errors(
    fake: Callable[[Handler], Awaitable[FirmwareClient]],
) -> None:
    """Details become issues; an error without JSON still says what happened."""
    client = await fake(
        answer(
            422,
            {
                "error": "invalid_schema",
                "message": "bad",
                "details": [{"file": "makerhub.json", "path": "name", "reason": "required"}, 7],
            },
        )
    )
    with pytest.raises(FirmwareInvalidSchemaError) as err:
        await client.validate("a" * 12)
    assert err.value.details == (Issue("makerhub.json", "name", "required"), Issue("", "", "7"))
    garbage = await fake(answer(500, "<html>oops</html>", "text/html"))
    with pytest.raises(FirmwareServiceError) as broken:
        await garbage.health()
    assert broken.value.message == "the firmware service answered HTTP 500"
    assert broken.value.code == "internal"


@pytest.mark.parametrize(
    ("body", "call"),
    [
        ("not json", "health"),
        ({"status": "ok"}, "health"),
        ({"repositories": 1, "status": 2, "refused": {}}, "health"),
        ({"not": "a list"}, "list_repos"),
        ([{"id": "x"}], "list_repos"),
        (["not an object"], "list_repos"),
        ({"valid": "yes"}, "validate"),
    ],
)
async def test_unexpected_answers(
    fake: Callable[[Handler], Awaitable[FirmwareClient]], body: Any, call: str
) -> None:
    """Answers that are not what the API describes are service errors, not crashes."""
    client = await fake(answer(200, body, "application/json"))
    method = getattr(client, call)
    with pytest.raises(FirmwareServiceError, match="unexpected answer"):
        await (method("a" * 12) if call == "validate" else method())


async def test_schema_this_integration_cannot_read(
    fake: Callable[[Handler], Awaitable[FirmwareClient]],
) -> None:
    """A schema the service accepted but this integration cannot parse makes it invalid."""
    client = await fake(
        answer(
            200,
            {
                "commit": "c" * 40,
                "valid": True,
                "source": "makerhub.json",
                "schema": {"name": "Future", "outputs": {}, "inputs": {}, "telepathy": True},
                "issues": [],
            },
        )
    )
    result = await client.validate("a" * 12, "main")
    assert not result.valid
    assert result.schema is None
    assert result.issues == (
        Issue("makerhub.json", "telepathy", "not understood here: unknown key"),
    )


async def test_empty_and_no_content_answers(
    fake: Callable[[Handler], Awaitable[FirmwareClient]],
) -> None:
    """A 204 (or an empty 200) is None, as for DELETE."""

    async def no_content(request: web.Request) -> web.StreamResponse:
        return web.Response(status=200 if request.method == "GET" else 204)

    client = await fake(no_content)
    await client.delete_repo("a" * 12)
    with pytest.raises(FirmwareServiceError):
        await client.get_repo("a" * 12)


async def test_timeouts(fake: Callable[[Handler], Awaitable[FirmwareClient]]) -> None:
    """A service that does not answer in time is a connection error saying how long."""

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(2)
        return web.json_response({})

    client = await fake(slow)
    with pytest.raises(FirmwareConnectionError, match=r"within 0\.5 s"):
        await client.health()
    with pytest.raises(FirmwareConnectionError, match=r"within 0\.5 s"):
        await client.archive_content("a" * 64).open()


async def test_stream_checks_bytes(fake: Callable[[Handler], Awaitable[FirmwareClient]]) -> None:
    """Streamed bytes are checked against the announced sha256 and size; stalls are errors."""
    payload = b"archive bytes" * 100
    mode = {"value": "good"}

    async def handler(request: web.Request) -> web.StreamResponse:
        if mode["value"] == "error-garbage":
            return web.Response(status=404, text="gone")
        sha = hashlib.sha256(payload).hexdigest()
        if mode["value"] == "bad-sha":
            sha = "0" * 64
        response = web.StreamResponse(headers={"X-Archive-Sha256": sha})
        response.content_type = "application/zip"
        if mode["value"] != "chunked":
            response.content_length = len(payload)
        await response.prepare(request)
        if mode["value"] == "stall":
            await response.write(payload[:10])
            await asyncio.sleep(2)
        if mode["value"] == "short":
            await response.write(payload[:-1])
            request.transport.close()  # type: ignore[union-attr]
            return response
        await response.write(payload)
        await response.write_eof()
        return response

    client = await fake(handler)
    stream = client.archive_content("a" * 64)
    async with stream:
        assert stream.filename is None
        assert stream.content_type == "application/zip"
        assert b"".join([c async for c in stream]) == payload
    mode["value"] = "chunked"
    async with client.archive_content("a" * 64) as chunked:
        assert chunked.size is None
        assert b"".join([c async for c in chunked]) == payload
    mode["value"] = "bad-sha"
    with pytest.raises(FirmwareServiceError, match="sha256"):
        async for _ in client.archive_content("a" * 64):
            pass
    mode["value"] = "short"
    with pytest.raises(FirmwareConnectionError, match="broke off"):
        async for _ in client.archive_content("a" * 64):
            pass
    mode["value"] = "stall"
    with pytest.raises(FirmwareConnectionError, match="stalled"):
        async for _ in client.archive_content("a" * 64):
            pass
    mode["value"] = "error-garbage"
    with pytest.raises(FirmwareNotFoundError, match="HTTP 404"):
        await client.archive_content("a" * 64).open()


async def test_size_mismatch_is_reported() -> None:
    """Fewer bytes than announced (with a clean end) is a service error."""

    class Content:
        async def iter_chunked(self, size: int) -> Any:
            yield b"abc"

    class Response:
        content_length = 5
        headers: dict[str, str] = {}
        content_type = "application/gzip"
        content_disposition = None
        content = Content()

        def release(self) -> None:
            pass

    async def opener() -> Any:
        return Response()

    with pytest.raises(FirmwareServiceError, match="got 3 bytes of 5"):
        async for _ in ArchiveStream(opener, 1.0):
            pass


def test_repo_name_from_url() -> None:
    """Display names come from the clone URL's last part."""
    assert repo_name_from_url("https://github.com/makers/bench-thermo.git") == "bench-thermo"
    assert repo_name_from_url("git@github.com:makers/fan.git") == "fan"
    assert repo_name_from_url("ssh://git@host:2222/x/lamp/") == "lamp"
    assert repo_name_from_url("https://host/") == "firmware"
    assert len(repo_name_from_url("https://h/" + "a" * 100)) == 64
