"""Remotes: git daemon, private HTTP with basic auth, ssh keys, release assets."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from pathlib import Path
import stat
import tarfile
from typing import Any

import pytest

from .conftest import TOKEN, Api, ApiFactory, start_app
from .gitrepos import MAKERHUB_JSON, WorkRepo, valid_repo
from .servers import GitDaemon, git_http_app, releases_app, storage_app

PRIVATE_TOKEN = "ghp_private-token-value-1234567890"


@pytest.fixture
def daemon(tmp_path: Path) -> Any:
    base = tmp_path / "served"
    base.mkdir()
    server = GitDaemon(base)
    server.start()
    yield server
    server.stop()


async def test_public_repository_over_git_daemon(api: Api, daemon: GitDaemon) -> None:
    repo = valid_repo(daemon.base, "thermo")
    record = await api.add_repo(daemon.url("thermo.git"))
    assert record["default_branch"] == "main"
    assert record["has_credentials"] is False
    head = repo.commit("Again", {"main.py": "print(3)\n"})
    await api.call("POST", f"/api/repos/{record['id']}/sync")
    _, refs = await api.call("GET", f"/api/repos/{record['id']}/refs")
    assert refs["branches"] == [{"name": "main", "commit": head}]


async def test_private_repository_over_http_with_token(
    api: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    served = tmp_path / "served"
    served.mkdir()
    repo = valid_repo(served, "private")
    app = git_http_app(served, ("maker", PRIVATE_TOKEN))
    runner, base = await start_app(app)
    try:
        url = f"{base}/private.git"
        status, body = await api.call("POST", "/api/repos", json={"name": "p", "url": url})
        assert status == 502
        assert body["error"] == "upstream_failed"
        assert "git fetch failed" in body["message"]
        assert api.service.records == {}
        assert list((api.service.settings.data_dir / "repositories").iterdir()) == []
        status, body = await api.call(
            "POST", "/api/repos", json={"name": "p", "url": url, "token": "wrong-token-1234"}
        )
        assert status == 502
        record = await api.add_repo(url, username="maker", token=PRIVATE_TOKEN)
        assert record["has_credentials"] is True
        assert record["auth"] == "token"
        repo.commit("Private change", {"main.py": "print('p')\n"})
        status, synced = await api.call("POST", f"/api/repos/{record['id']}/sync")
        assert synced["last_error"] is None
        assert synced["syncs"] == 2
        everything = json.dumps([await api.call("GET", "/api/repos"), synced, record])
    finally:
        await runner.cleanup()
    assert PRIVATE_TOKEN not in everything
    data_dir = api.service.settings.data_dir
    stored = (data_dir / "repositories.json").read_text()
    assert PRIVATE_TOKEN not in stored
    assert json.loads(stored)["repositories"][0]["credential"].startswith("v1:")
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert PRIVATE_TOKEN.encode() not in path.read_bytes(), path
    for record_ in caplog.records:
        assert PRIVATE_TOKEN not in record_.getMessage()
    key_file = data_dir / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_ssh_key_is_handed_to_ssh_in_a_private_file_removed_after_use(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    """No sshd here: a stand-in ssh client checks what git hands it, then runs the
    remote command locally, so git really talks its protocol over the "ssh" pipe."""
    repo = valid_repo(tmp_path / "upstream")
    seen = tmp_path / "ssh-seen.json"
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text(
        f"""#!{os.sys.executable}
import json, os, stat, subprocess, sys
args = sys.argv[1:]
key = args[args.index("-i") + 1]
record = {{"args": args, "mode": stat.S_IMODE(os.stat(key).st_mode),
          "key": open(key).read(), "prompt": os.environ.get("GIT_TERMINAL_PROMPT")}}
json.dump(record, open({str(seen)!r}, "w"))
sys.exit(subprocess.call(["sh", "-c", args[-1]]))
"""
    )
    fake_ssh.chmod(0o755)
    api = await make_api(ssh_program=str(fake_ssh))
    key = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAfakekeymaterial\n"
        "-----END OPENSSH PRIVATE KEY-----\n"
    )
    record = await api.add_repo(f"ssh://git@firmware.example{repo.bare}", ssh_key=key)
    assert record["auth"] == "ssh_key"
    used = json.loads(seen.read_text())
    assert used["mode"] == 0o600
    assert used["key"] == key
    assert used["prompt"] == "0"
    args = used["args"]
    for option in ("BatchMode=yes", "IdentitiesOnly=yes", "StrictHostKeyChecking=accept-new"):
        assert option in args
    assert args[args.index("-F") + 1] == "/dev/null"
    assert "git@firmware.example" in args
    key_path = Path(args[args.index("-i") + 1])
    assert not key_path.exists()
    assert not key_path.parent.exists()
    assert key not in (api.service.settings.data_dir / "repositories.json").read_text()


async def test_bad_ssh_key_is_refused(api: Api, repo: WorkRepo) -> None:
    status, body = await api.call(
        "POST",
        "/api/repos",
        json={"name": "x", "url": f"ssh://git@h{repo.bare}", "ssh_key": "hunter2"},
    )
    assert status == 422
    assert "PRIVATE KEY" in body["message"]


def firmware_repo(root: Path) -> WorkRepo:
    repo = WorkRepo(root, "fan")
    repo.commit(
        "Compiled fan firmware",
        {
            "makerhub.json": {**MAKERHUB_JSON, "firmware": {"asset": "firmware.bin"}},
            "src/main.c": "int main;",
        },
    )
    repo.tag("v1.2.0", "Release 1.2.0")
    return repo


@pytest.mark.parametrize("style", ["github", "gitea"])
async def test_release_asset_is_carried_in_the_archive(
    api: Api, tmp_path: Path, style: str
) -> None:
    binary = os.urandom(50_000)
    repo = firmware_repo(tmp_path / "upstream")
    releases = releases_app(
        "makers",
        "fan",
        {"v1.2.0": {"firmware.bin": binary, "other.bin": b"x"}},
        gitea=style == "gitea",
        token=PRIVATE_TOKEN,
    )
    storage = storage_app(releases)
    api_runner, api_base = await start_app(releases)
    storage_runner, storage_base = await start_app(storage)
    releases["redirect"]["storage_base"] = storage_base
    try:
        record = await api.add_repo(
            repo.url, api_url=api_base, token=PRIVATE_TOKEN, username="maker"
        )
        # the clone URL names no owner/repo for a file:// fake: point it at one
        api.service.records[record["id"]].url = f"file://{repo.bare.parent}/makers/fan.git"
        (repo.bare.parent / "makers").mkdir()
        (repo.bare.parent / "makers" / "fan.git").symlink_to(repo.bare)
        status, archive = await api.call(
            "POST",
            f"/api/repos/{record['id']}/archives",
            json={"ref": "v1.2.0", "env": {"MH_UNIT_ID": "u1"}, "schema": {"v": 1}},
        )
        assert status == 201, archive
        assert archive["asset"] == "firmware.bin"
        status, data = await api.call("GET", archive["path"], token=None)
        assert hashlib.sha256(data).hexdigest() == archive["sha256"]
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            member = tar.getmember("firmware.bin")
            assert member.mode == 0o755
            extracted = tar.extractfile(member)
            assert extracted is not None
            assert extracted.read() == binary
        # a second unit reuses the downloaded asset
        before = len(releases["requests"])
        status, _ = await api.call(
            "POST",
            f"/api/repos/{record['id']}/archives",
            json={"ref": "v1.2.0", "env": {"MH_UNIT_ID": "u2"}, "schema": {"v": 1}},
        )
        assert status == 201
        assert len(releases["requests"]) == before
    finally:
        await api_runner.cleanup()
        await storage_runner.cleanup()
    assert all(auth == f"Bearer {PRIVATE_TOKEN}" for _, auth in releases["requests"])
    # the token never travels to the storage origin GitHub redirects to
    assert all(auth is None for _, auth in storage["requests"])
    if style == "github":
        assert storage["requests"]


async def test_commit_without_release_is_refused_clearly(api: Api, tmp_path: Path) -> None:
    repo = firmware_repo(tmp_path / "upstream")
    untagged = repo.commit("Unreleased change", {"src/main.c": "int main2;"})
    releases = releases_app("makers", "fan", {})
    runner, base = await start_app(releases)
    try:
        record = await api.add_repo(repo.url, api_url=base)
        status, body = await api.call(
            "POST",
            f"/api/repos/{record['id']}/archives",
            json={"ref": untagged, "env": {}, "schema": {}},
        )
        assert status == 404
        assert "no tag points at this commit" in body["message"]
    finally:
        await runner.cleanup()


async def test_discovery_announces_to_the_supervisor(make_api: ApiFactory) -> None:
    from .servers import supervisor_app

    supervisor = supervisor_app()
    runner, base = await start_app(supervisor)
    try:
        api = await make_api(supervisor_token="supervisor-secret", supervisor_url=base, port=8099)
        for _ in range(100):
            if supervisor["calls"]:
                break
            await __import__("asyncio").sleep(0.02)
    finally:
        await runner.cleanup()
    assert len(supervisor["calls"]) == 1
    auth, payload = supervisor["calls"][0]
    assert auth == "Bearer supervisor-secret"
    assert payload["service"] == "makerhub"
    assert payload["config"]["port"] == 8099
    assert payload["config"]["token"] == TOKEN
    assert payload["config"]["host"]
    assert api.service.settings.supervisor_token == "supervisor-secret"
