"""Unit archives over the API: contents, determinism, caching, signed downloads."""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import subprocess
import tarfile
import time
from typing import Any
import zipfile

import pytest

from makerhub_firmware.archive import GZIP_HEADER

from .conftest import Api, ApiFactory
from .gitrepos import MAKERHUB_JSON, WorkRepo, valid_repo

ENV = {"MH_UNIT_ID": "3f9a0c71be42", "MH_MQTT_PASSWORD": "s3cret-broker-pass", "SENSOR_PIN": 4}
RICH_REPO_ARCHIVE = [
    ".makerhubignore",
    "docs/keep.md",
    "env.json",
    "lib/current.py",
    "lib/sensor.py",
    "main.py",
    "makerhub.json",
    "run.sh",
    "schema.json",
]
"""What an archive of ``rich_repo`` holds: no examples/, build/, cache/, docs/ but keep."""
SCHEMA = {"v": 1, "unit": "3f9a0c71be42", "inputs": {}, "outputs": {}, "sys": {}}


async def build(api: Api, repo_id: str, **fields: Any) -> dict[str, Any]:
    payload = {"ref": "main", "env": ENV, "schema": SCHEMA, "format": "tar.gz", **fields}
    status, body = await api.call("POST", f"/api/repos/{repo_id}/archives", json=payload)
    assert status == 201, body
    return body


async def fetch(api: Api, archive: dict[str, Any]) -> bytes:
    status, data = await api.call("GET", archive["path"], token=None)
    assert status == 200, data
    assert isinstance(data, bytes)
    return data


def tar_members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return {member.name: member for member in archive.getmembers()}


def tar_read(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        extracted = archive.extractfile(name)
        assert extracted is not None
        return extracted.read()


@pytest.fixture
def rich_repo(tmp_path: Any) -> WorkRepo:
    repo = WorkRepo(tmp_path / "upstream")
    repo.write(
        {
            "makerhub.json": MAKERHUB_JSON,
            "main.py": "print('hello')\n",
            "lib/sensor.py": "READ = 1\n",
            "lib/cache/tmp.bin": b"\0" * 10,
            "examples/demo.py": "demo\n",
            "docs/notes.md": "notes\n",
            "docs/keep.md": "keep\n",
            "env.json": '{"from": "repo"}',
            "build/out.o": b"\x7fELF",
            ".makerhubignore": "# leave out\n/docs/*\n!/docs/keep.md\nbuild/\ncache/\n",
            "run.sh": "#!/bin/sh\necho run\n",
        }
    )
    (repo.work / "run.sh").chmod(0o755)
    repo.symlink("lib/current.py", "sensor.py")
    repo.commit("Rich tree")
    return repo


async def test_tar_gz_archive_contents(api: Api, rich_repo: WorkRepo) -> None:
    record = await api.add_repo(rich_repo.url)
    archive = await build(api, record["id"])
    data = await fetch(api, archive)
    assert len(data) == archive["size"]
    assert hashlib.sha256(data).hexdigest() == archive["sha256"]
    members = tar_members(data)
    assert sorted(members) == RICH_REPO_ARCHIVE
    assert json.loads(tar_read(data, "env.json")) == ENV  # the unit's, not the repo's
    assert json.loads(tar_read(data, "schema.json")) == SCHEMA
    assert members["run.sh"].mode == 0o755
    assert members["main.py"].mode == 0o644
    assert members["lib/current.py"].issym()
    assert members["lib/current.py"].linkname == "sensor.py"
    commit_time = calendar.timegm((2024, 5, 1, 12, 0, 0))
    assert {m.mtime for m in members.values()} == {commit_time}
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members.values()} == {(0, 0, "", "")}
    assert data.startswith(GZIP_HEADER)
    # the system's tar and gzip read the multi-member stream too
    listed = subprocess.run(
        ["tar", "-tzf", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    assert sorted(listed.split()) == sorted(members)
    subprocess.run(["gzip", "-t"], input=data, check=True)


async def test_zip_archive_contents(api: Api, rich_repo: WorkRepo, tmp_path: Any) -> None:
    record = await api.add_repo(rich_repo.url)
    archive = await build(api, record["id"], format="zip")
    data = await fetch(api, archive)
    assert hashlib.sha256(data).hexdigest() == archive["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        assert zipped.testzip() is None
        names = sorted(zipped.namelist())
        assert "examples/demo.py" not in names
        assert "build/out.o" not in names
        assert json.loads(zipped.read("env.json")) == ENV
        assert zipped.read("lib/sensor.py") == b"READ = 1\n"
        info = zipped.getinfo("run.sh")
        assert (info.external_attr >> 16) & 0o777 == 0o755
        link = zipped.getinfo("lib/current.py")
        assert (link.external_attr >> 16) & 0o170000 == 0o120000
        assert zipped.read(link) == b"sensor.py"
        assert {i.date_time for i in zipped.infolist()} == {(2024, 5, 1, 12, 0, 0)}
    assert names == RICH_REPO_ARCHIVE
    (tmp_path / "unit.zip").write_bytes(data)  # Info-ZIP's unzip checks every CRC too
    subprocess.run(["unzip", "-tq", str(tmp_path / "unit.zip")], check=True, capture_output=True)


async def test_deterministic_same_inputs_same_bytes_across_services(
    make_api: ApiFactory, tmp_path: Any
) -> None:
    repo = valid_repo(tmp_path / "upstream")
    digests = []
    for name in ("one", "two"):
        api = await make_api(name)
        record = await api.add_repo(repo.url)
        for fmt in ("tar.gz", "zip"):
            first = await build(api, record["id"], format=fmt)
            again = await build(api, record["id"], format=fmt)
            assert again["id"] == first["id"]
            assert again["sha256"] == first["sha256"]
            assert hashlib.sha256(await fetch(api, again)).hexdigest() == first["sha256"]
            digests.append((fmt, first["sha256"]))
    assert digests[:2] == digests[2:]  # a second service, new clone: the same bytes


async def test_different_env_or_schema_changes_the_archive(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url)
    base = await build(api, record["id"])
    other_env = await build(api, record["id"], env={**ENV, "MH_UNIT_ID": "0d2c4e6a8b10"})
    other_schema = await build(api, record["id"], schema={**SCHEMA, "unit": "0d2c4e6a8b10"})
    shas = {base["sha256"], other_env["sha256"], other_schema["sha256"]}
    assert len(shas) == 3
    assert len({base["id"], other_env["id"], other_schema["id"]}) == 3
    data = await fetch(api, other_env)
    assert json.loads(tar_read(data, "env.json"))["MH_UNIT_ID"] == "0d2c4e6a8b10"
    # the shared body is built once; tails differ
    bodies = list((api.service.settings.data_dir / "cache" / "bodies").glob("*.body"))
    assert len(bodies) == 1


async def test_cached_archive_survives_restart_and_new_commit_is_new(
    make_api: ApiFactory, tmp_path: Any
) -> None:
    repo = valid_repo(tmp_path / "upstream")
    api = await make_api("data")
    record = await api.add_repo(repo.url)
    first = await build(api, record["id"])
    for runner in api.runners:
        await runner.cleanup()
    api.runners.clear()
    again = await make_api("data")  # same data directory, fresh process state
    cached = await build(again, record["id"], ref=first["commit"])
    assert cached["sha256"] == first["sha256"]
    assert hashlib.sha256(await fetch(again, cached)).hexdigest() == first["sha256"]
    repo.commit("Second", {"main.py": "print(2)\n"})
    await again.call("POST", f"/api/repos/{record['id']}/sync")
    newer = await build(again, record["id"])
    assert newer["commit"] != first["commit"]
    assert newer["sha256"] != first["sha256"]


async def test_tail_with_secrets_is_encrypted_at_rest(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url)
    await build(api, record["id"])
    cache = api.service.settings.data_dir / "cache"
    for path in cache.rglob("*"):
        if path.is_file():
            assert b"s3cret-broker-pass" not in path.read_bytes(), path


async def test_signed_url_expiry_and_tampering(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url)
    archive = await build(api, record["id"], expires_in=120)
    assert archive["expires"] - time.time() == pytest.approx(120, abs=5)
    path = f"/api/download/{archive['id']}"
    expired, _ = api.service.signer.sign(path, ttl=60, now=time.time() - 61)
    status, body = await api.call("GET", expired, token=None)
    assert (status, body["message"]) == (401, "signed URL: expired")
    tampered = archive["path"].replace("expires=", "expires=9")
    status, body = await api.call("GET", tampered, token=None)
    assert (status, body["message"]) == (401, "signed URL: invalid signature")
    status, body = await api.call("GET", path, token=None)
    assert status == 401
    other = await build(api, record["id"], env={"MH_UNIT_ID": "other"})
    swapped = archive["path"].replace(archive["id"], other["id"])
    status, _ = await api.call("GET", swapped, token=None)
    assert status == 401  # a signature is for one archive only
    # the admin token does not replace a signature on the unit route...
    status, _ = await api.call("GET", path)
    assert status == 401
    # ...but has its own download route, and can sign again
    status, data = await api.call("GET", f"/api/archives/{archive['id']}/content")
    assert status == 200
    assert hashlib.sha256(data).hexdigest() == archive["sha256"]
    status, signed = await api.call(
        "POST", f"/api/archives/{archive['id']}/url", json={"expires_in": 30}
    )
    assert status == 200
    assert hashlib.sha256(await fetch(api, signed)).hexdigest() == archive["sha256"]


async def test_invalid_repository_is_not_packaged(api: Api, tmp_path: Any) -> None:
    repo = WorkRepo(tmp_path / "upstream")
    repo.commit(
        "Broken", {"makerhub.json": '{"name": "x", "outputs": {"Temp": {"type": "float"}}}'}
    )
    record = await api.add_repo(repo.url)
    status, body = await api.call(
        "POST", f"/api/repos/{record['id']}/archives", json={"ref": "main", "env": {}, "schema": {}}
    )
    assert status == 422
    assert body["error"] == "invalid_schema"
    assert body["details"] == [
        {
            "file": "makerhub.json",
            "path": "outputs.Temp",
            "reason": "name must match [a-z][a-z0-9_]{0,31}",
        }
    ]
    assert not list((api.service.settings.data_dir / "cache" / "bodies").glob("*.body"))


async def test_archive_request_errors(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url)
    url = f"/api/repos/{record['id']}/archives"
    cases = [
        ({"ref": "main", "env": {}, "schema": {}, "format": "rar"}, 400, "format"),
        ({"ref": "main", "env": [], "schema": {}}, 400, "env"),
        ({"ref": "nope", "env": {}, "schema": {}}, 404, "does not name a commit"),
        ({"ref": "--output=/tmp/x", "env": {}, "schema": {}}, 422, "ref"),
        ({"ref": "main", "env": {"X": "y" * 70000}, "schema": {}}, 413, "env"),
    ]
    for payload, status_code, text in cases:
        status, body = await api.call("POST", url, json=payload)
        assert status == status_code, (payload, body)
        assert text in body["message"]
