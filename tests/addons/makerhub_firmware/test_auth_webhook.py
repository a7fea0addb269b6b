"""Bearer-token auth on every route, ingress trust, push webhooks, scheduled sync."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import hashlib
import hmac
import json
import re

import pytest

from makerhub_firmware.api import PUBLIC_ROUTES, ROUTES

from .conftest import Api, ApiFactory
from .gitrepos import WorkRepo

SECRET = "webhook-secret-0123456789"


def concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "0" * 12, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, _, name in ROUTES if name not in PUBLIC_ROUTES],
)
async def test_every_route_needs_the_bearer_token(api: Api, method: str, path: str) -> None:
    for token in (None, "wrong-token-0123456789", ""):
        status, body = await api.call(method, concrete(path), token=token)
        assert status == 401, (method, path, token)
        assert body["error"] == "unauthorized"
    status, _ = await api.call(
        method, concrete(path), token="x", headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )
    assert status == 401


async def test_with_the_token_routes_answer(api: Api) -> None:
    status, body = await api.call("GET", "/api/health")
    assert (status, body["status"]) == (200, "ok")
    status, _ = await api.call("GET", "/")
    assert status == 200


async def test_ingress_is_trusted_only_from_the_supervisor_address(make_api: ApiFactory) -> None:
    trusted = await make_api("trusted", trusted_ingress="127.0.0.1")
    status, _ = await trusted.call(
        "GET", "/api/repos", token=None, headers={"X-Ingress-Path": "/x"}
    )
    assert status == 200
    status, _ = await trusted.call("GET", "/api/repos", token=None)
    assert status == 401  # not through ingress
    other = await make_api("other", trusted_ingress="172.30.32.2")
    status, _ = await other.call("GET", "/api/repos", token=None, headers={"X-Ingress-Path": "/x"})
    assert status == 401  # the header alone proves nothing


def github_headers(body: bytes, secret: str = SECRET, event: str = "push") -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": event,
        "Content-Type": "application/json",
    }


async def wait_for_syncs(api: Api, repo_id: str, count: int) -> dict:
    for _ in range(200):
        _, record = await api.call("GET", f"/api/repos/{repo_id}")
        if record["syncs"] >= count:
            return record
        await asyncio.sleep(0.02)
    raise AssertionError(f"repository did not reach {count} syncs")


async def test_github_push_webhook_syncs(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url, webhook_secret=SECRET)
    assert record["webhook"] is True
    assert SECRET not in json.dumps(record)
    head = repo.commit("Pushed", {"main.py": "print('pushed')\n"})
    body = json.dumps({"ref": "refs/heads/main", "after": head}).encode()
    status, answer = await api.call(
        "POST", f"/api/webhook/{record['id']}", token=None, data=body, headers=github_headers(body)
    )
    assert (status, answer) == (202, {"event": "push", "queued": True})
    await wait_for_syncs(api, record["id"], 2)
    _, refs = await api.call("GET", f"/api/repos/{record['id']}/refs")
    assert refs["branches"][0]["commit"] == head


async def test_gitea_webhook_and_ping(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url, webhook_secret=SECRET)
    body = b'{"ref": "refs/heads/main"}'
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    status, answer = await api.call(
        "POST",
        f"/api/webhook/{record['id']}",
        token=None,
        data=body,
        headers={"X-Gitea-Signature": digest, "X-Gitea-Event": "push"},
    )
    assert (status, answer["queued"]) == (202, True)
    await wait_for_syncs(api, record["id"], 2)
    status, answer = await api.call(
        "POST",
        f"/api/webhook/{record['id']}",
        token=None,
        data=body,
        headers=github_headers(body, event="ping"),
    )
    assert (status, answer) == (200, {"event": "ping", "queued": False})


async def test_webhook_signature_is_required(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url, webhook_secret=SECRET)
    body = b'{"ref": "refs/heads/main"}'
    url = f"/api/webhook/{record['id']}"
    cases = [
        ({}, "no X-Hub-Signature-256 or X-Gitea-Signature"),
        (github_headers(body, secret="another-secret-0123456"), "does not match"),
        ({"X-Hub-Signature-256": "md5=abc"}, "sha256=<hex>"),
        ({"X-Gitea-Signature": "00" * 32}, "does not match"),
        (github_headers(b"other body"), "does not match"),
    ]
    for headers, message in cases:
        status, answer = await api.call("POST", url, token=None, data=body, headers=headers)
        assert status == 401, headers
        assert message in answer["message"]
    # the admin token is no substitute for the signature
    status, _ = await api.call("POST", url, data=body)
    assert status == 401
    _, current = await api.call("GET", f"/api/repos/{record['id']}")
    assert current["syncs"] == 1
    plain = await api.add_repo(repo.url, name="no hook")
    status, answer = await api.call(
        "POST", f"/api/webhook/{plain['id']}", token=None, data=body, headers=github_headers(body)
    )
    assert status == 404
    assert "no webhook secret" in answer["message"]


async def test_scheduled_sync_runs_when_due(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url, sync_interval=60)
    manual = await api.add_repo(repo.url, name="manual", sync_interval=0)
    head = repo.commit("Later", {"main.py": "print('later')\n"})
    for stored in api.service.records.values():
        stored.last_attempt = (stored.last_attempt or 0) - 120  # as if two periods passed
    api.service._wake.set()
    synced = await wait_for_syncs(api, record["id"], 2)
    assert synced["last_error"] is None
    _, refs = await api.call("GET", f"/api/repos/{record['id']}/refs")
    assert refs["branches"][0]["commit"] == head
    _, untouched = await api.call("GET", f"/api/repos/{manual['id']}")
    assert untouched["syncs"] == 1  # sync_interval 0: manual only


async def test_large_webhook_body_in_chunks_is_read_whole(api: Api, repo: WorkRepo) -> None:
    """A push payload of a few MiB arrives in many chunks; the signature covers all."""
    record = await api.add_repo(repo.url, webhook_secret=SECRET)
    body = json.dumps({"ref": "refs/heads/main", "commits": ["x" * 1000] * 3000}).encode()

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    status, answer = await api.call(
        "POST",
        f"/api/webhook/{record['id']}",
        token=None,
        data=chunked(),
        headers=github_headers(body),
    )
    assert (status, answer["queued"]) == (202, True)
    await wait_for_syncs(api, record["id"], 2)
    too_big = b"x" * (5 * 1024 * 1024 + 1)
    status, answer = await api.call(
        "POST",
        f"/api/webhook/{record['id']}",
        token=None,
        data=too_big,
        headers=github_headers(too_big),
    )
    assert status == 413
