"""Registering, syncing and reading repositories over the HTTP API, against real git."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Api
from .gitrepos import WorkRepo


async def test_register_reports_branches_tags_and_commits(api: Api, repo: WorkRepo) -> None:
    repo.branch("feature")
    feature = repo.commit("Add fan control\n\nThe fan follows the temperature.", {"fan.py": "x"})
    repo.checkout("main")
    repo.tag("v1.0", "Release 1.0")
    main = repo.commit("Tune readings", {"main.py": "print('tuned')\n"})
    body = await api.add_repo(repo.url)
    assert body["default_branch"] == "main"
    assert body["last_error"] is None
    assert body["last_sync"] is not None
    assert body["sync_interval"] == 86400
    assert body["size_limit"] == 10 * 1024 * 1024
    status, refs = await api.call("GET", f"/api/repos/{body['id']}/refs")
    assert status == 200
    assert {b["name"]: b["commit"] for b in refs["branches"]} == {"main": main, "feature": feature}
    tags = {t["name"]: t["commit"] for t in refs["tags"]}
    assert set(tags) == {"v1.0"}
    assert tags["v1.0"] != main  # the tag is on the commit before "Tune readings"
    messages = {c["commit"]: c["message"] for c in refs["commits"]}
    assert messages[feature] == "Add fan control\n\nThe fan follows the temperature."
    assert messages[main] == "Tune readings"
    assert len(refs["commits"]) == 3


async def test_sync_on_demand_fetches_new_commits_and_deleted_branches(
    api: Api, repo: WorkRepo
) -> None:
    repo.branch("old")
    repo.commit("On old branch")
    repo.checkout("main")
    record = await api.add_repo(repo.url)
    newer = repo.commit("Newer", {"main.py": "print(2)\n"})
    from .gitrepos import git

    git(repo.work, "push", "-q", "origin", "--delete", "old")
    status, synced = await api.call("POST", f"/api/repos/{record['id']}/sync")
    assert status == 200
    assert synced["syncs"] == 2
    _, refs = await api.call("GET", f"/api/repos/{record['id']}/refs")
    assert [b["name"] for b in refs["branches"]] == ["main"]
    assert refs["branches"][0]["commit"] == newer


async def test_crud_list_update_delete(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url, sync_interval=0)
    repo_id = record["id"]
    status, listing = await api.call("GET", "/api/repos")
    assert status == 200
    assert [r["id"] for r in listing] == [repo_id]
    status, updated = await api.call(
        "PATCH", f"/api/repos/{repo_id}", json={"name": "Renamed", "sync_interval": 3600}
    )
    assert status == 200
    assert (updated["name"], updated["sync_interval"]) == ("Renamed", 3600)
    status, _ = await api.call("DELETE", f"/api/repos/{repo_id}")
    assert status == 204
    assert not (api.service.settings.data_dir / "repositories" / repo_id).exists()
    status, body = await api.call("GET", f"/api/repos/{repo_id}")
    assert status == 404
    assert body["error"] == "not_found"
    stored = json.loads((api.service.settings.data_dir / "repositories.json").read_text())
    assert stored["repositories"] == []


async def test_failed_sync_is_reported_and_keeps_the_last_good_state(
    api: Api, repo: WorkRepo, tmp_path: Path
) -> None:
    record = await api.add_repo(repo.url)
    repo.bare.rename(tmp_path / "moved.git")
    status, synced = await api.call("POST", f"/api/repos/{record['id']}/sync")
    assert status == 200
    assert "git fetch failed" in synced["last_error"]
    assert synced["last_sync"] == record["last_sync"]
    _, refs = await api.call("GET", f"/api/repos/{record['id']}/refs")
    assert [b["name"] for b in refs["branches"]] == ["main"]


async def test_bad_requests_get_precise_errors(api: Api, repo: WorkRepo) -> None:
    cases = [
        ({"url": repo.url}, "name: required"),
        ({"name": "x"}, "url: required"),
        ({"name": "x", "url": repo.url, "colour": "red"}, "unknown fields: colour"),
        ({"name": "x", "url": repo.url, "sync_interval": 5}, "sync_interval"),
        ({"name": "x", "url": repo.url, "size_limit": "big"}, "size_limit"),
        ({"name": "x", "url": repo.url, "token": "t", "ssh_key": "k"}, "either token or ssh_key"),
    ]
    for payload, message in cases:
        status, body = await api.call("POST", "/api/repos", json=payload)
        assert status == 400, payload
        assert message in body["message"]
    status, body = await api.call("POST", "/api/repos", data=b"{not json")
    assert (status, body["error"]) == (400, "invalid_request")
    _, health = await api.call("GET", "/api/health")
    assert health["refused"]["invalid_request"] == len(cases) + 1
    assert api.service.records == {}
