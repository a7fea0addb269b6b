"""Hostile input is refused with nothing touched: no user, no home, no record, no clone."""

from __future__ import annotations

from pathlib import Path
import pwd
import secrets

import pytest

from dev.processes.git_repo import git

from .conftest import Service


def assert_nothing_touched(service: Service, prefix: str) -> None:
    manager = service.manager
    assert [u.pw_name for u in pwd.getpwall() if u.pw_name.startswith(prefix)] == []
    assert list(manager.homes.iterdir()) == []
    assert list(manager.run.iterdir()) == []
    assert [p.name for p in manager.staging.iterdir()] == [".home"]
    assert manager.store.load() == {}
    assert manager.desktops == {}


@pytest.mark.parametrize(
    "project",
    [
        "..",
        "%2E%2E",
        "..%2F..%2Fetc",
        "a%3Brm%20-rf%20%2F",
        "%24(id)",
        "%60id%60",
        "-rf",
        "a%20b",
        "Alpha",
        "a" * 25,
        "a%0Ab",
        "%7Cnc",
    ],
)
async def test_hostile_project_ids(
    service: Service, repo: Path, user_prefix: str, project: str
) -> None:
    status, body = await service.call(
        "POST", f"/api/desktops/{project}/start", json={"repository": {"url": f"file://{repo}"}}
    )
    assert (status, body["error"]) == (422, "refused"), body
    assert "project id" in body["message"]
    for method, path in (("GET", ""), ("POST", "/connect"), ("POST", "/stop")):
        status, _ = await service.call(method, f"/api/desktops/{project}{path}", json={})
        assert status in {404, 422}
    assert_nothing_touched(service, user_prefix)


def hostile_urls(repos_root: Path, data_dir: Path, marker: Path) -> list[str]:
    return [
        f"ext::sh -c touch% {marker}",
        f"ext::sh -c 'touch {marker}'",
        f"--upload-pack=touch {marker}",
        f"-u touch {marker}",
        "fd::17",
        "file:///etc",
        "/etc",
        f"file://{repos_root}/../../..{marker.parent}",
        f"file://{data_dir}",
        f"file://{data_dir}/homes",
        "https://ada:s3cret-in-url@example.com/x.git",
        "https://-oProxyCommand=touch/x.git",
        "ssh://-oProxyCommand=x/y.git",
        "http://example.com/x.git",
        "git://example.com/x.git",
        "https://example.com/../x.git",
        "https://example.com/x.git?upload-pack=touch",
        "relative/path.git",
        "",
    ]


async def test_hostile_repository_urls(
    service: Service, repos_root: Path, user_prefix: str, tmp_path: Path
) -> None:
    marker = tmp_path / f"pwned-{secrets.token_hex(4)}"
    for url in hostile_urls(repos_root, service.manager.settings.data_dir, marker):
        status, body = await service.call(
            "POST", "/api/desktops/alpha/start", json={"repository": {"url": url}}
        )
        assert (status, body["error"]) == (422, "refused"), (url, body)
        assert body["message"].startswith("repository.url"), body
        assert "s3cret-in-url" not in body["message"]
    assert not marker.exists()
    assert_nothing_touched(service, user_prefix)
    _, health = await service.call("GET", "/api/health")
    assert health["refused"]["refused"] == len(hostile_urls(repos_root, Path(), marker))


def repo_with_links(root: Path, name: str, links: dict[str, str]) -> Path:
    work = root / f"{name}-work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "README.md").write_text("# links\n")
    (work / "sub").mkdir()
    (work / "sub" / "inner.txt").write_text("inside\n")
    for link, target in links.items():
        (work / link).parent.mkdir(parents=True, exist_ok=True)
        (work / link).symlink_to(target)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "links")
    bare = root / f"{name}.git"
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    return bare


@pytest.mark.parametrize(
    "links",
    [
        {"leak": "/etc/passwd"},
        {"up": "../../.."},
        {"sub/deep": "../../outside"},
        {"hop": "sub/..", "sub/escape": "../hop/.."},
        {"chain": "step/..", "step": ".."},
    ],
    ids=["absolute", "relative", "nested", "through-a-link", "chain"],
)
async def test_symlinks_out_of_the_workspace_refuse_the_clone(
    service: Service, repos_root: Path, user_prefix: str, links: dict[str, str]
) -> None:
    bare = repo_with_links(repos_root, "linked", links)
    status, body = await service.call(
        "POST", "/api/desktops/alpha/start", json={"repository": {"url": f"file://{bare}"}}
    )
    assert (status, body["error"]) == (422, "refused"), body
    assert "symlink" in body["message"]
    assert_nothing_touched(service, user_prefix)


async def test_symlinks_inside_the_workspace_are_fine(service: Service, repos_root: Path) -> None:
    bare = repo_with_links(repos_root, "linked", {"docs": "sub", "sub/again": "inner.txt"})
    await service.start("alpha", f"file://{bare}")
    workspace = service.manager.get("alpha").paths.workspace
    assert (workspace / "docs" / "again").read_text() == "inside\n"


async def test_a_repository_that_cannot_be_cloned(
    service: Service, repos_root: Path, user_prefix: str
) -> None:
    status, body = await service.call(
        "POST",
        "/api/desktops/alpha/start",
        json={"repository": {"url": f"file://{repos_root}/missing.git"}},
    )
    assert (status, body["error"]) == (502, "clone_failed")
    assert "does not appear to be a git repository" in body["message"]
    assert_nothing_touched(service, user_prefix)
