"""A project without a repository: an empty ``git init`` workspace, cloned into later."""

from __future__ import annotations

from pathlib import Path
import stat

from dev.processes.git_repo import git
from makerhub_desktops.gitclone import is_fresh_init

from .conftest import Service, make_repo
from .test_api import as_user


def user_env(home: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "GIT_AUTHOR_NAME": "Maker",
        "GIT_AUTHOR_EMAIL": "maker@example.invalid",
        "GIT_COMMITTER_NAME": "Maker",
        "GIT_COMMITTER_EMAIL": "maker@example.invalid",
    }


def log(workspace: Path) -> str:
    """The subjects of the commits of a workspace (owned by its desktop's user)."""
    return git(workspace, "-c", f"safe.directory={workspace}", "log", "--format=%s").strip()


def staging_leftovers(service: Service) -> list[str]:
    return sorted(p.name for p in service.manager.staging.iterdir() if p.name != ".home")


async def test_a_first_start_without_a_repository_makes_an_empty_workspace(
    service: Service, repos_root: Path
) -> None:
    answer = await service.start("alpha")
    assert (answer["state"], answer["repository"]) == ("running", None)
    await service.start("beta", f"file://{make_repo(repos_root, 'beta')}")
    alpha, beta = service.manager.get("alpha"), service.manager.get("beta")
    assert alpha.account is not None
    assert beta.account is not None
    workspace = alpha.paths.workspace
    assert [p.name for p in workspace.iterdir()] == [".git"]
    # Everything in it is the project's user's; its home is closed to everyone else.
    for path in (workspace, *workspace.rglob("*")):
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (alpha.account.uid, alpha.account.gid), path
    assert stat.S_IMODE(alpha.paths.home.stat().st_mode) == 0o700
    env = user_env(alpha.paths.home)
    # The maker uses it as their own repository: no commit yet, a remote can be added.
    assert as_user(alpha.account.uid, "git", "-C", str(workspace), "status", env=env) == 0
    assert (
        as_user(
            alpha.account.uid, "git", "-C", str(workspace), "rev-parse", "--verify", "HEAD", env=env
        )
        != 0
    )
    remote = [
        "git",
        "-C",
        str(workspace),
        "remote",
        "add",
        "origin",
        "https://example.invalid/a.git",
    ]
    assert as_user(alpha.account.uid, *remote, env=env) == 0
    # Another project's user can neither read nor write it.
    assert as_user(beta.account.uid, "ls", str(workspace)) != 0
    assert as_user(beta.account.uid, "cat", str(workspace / ".git" / "config")) != 0
    assert as_user(beta.account.uid, "touch", str(workspace / "intruder")) != 0
    assert not (workspace / "intruder").exists()
    assert staging_leftovers(service) == []


async def test_a_later_start_with_a_repository_clones_into_the_empty_workspace(
    service: Service, repo: Path
) -> None:
    await service.start("alpha")
    answer = await service.start("alpha", f"file://{repo}")
    assert answer["repository"] == f"file://{repo}"
    desktop = service.manager.get("alpha")
    assert desktop.account is not None
    workspace = desktop.paths.workspace
    assert (workspace / "README.md").read_text() == "# project\n"
    assert (workspace / "README.md").stat().st_uid == desktop.account.uid
    assert log(workspace) == "first"
    assert staging_leftovers(service) == []
    # Survives a restart of the service: the record says where it came from.
    status, listing = await service.call("GET", "/api/desktops/alpha")
    assert (status, listing["repository"]) == (200, f"file://{repo}")


async def test_a_workspace_with_work_in_it_is_never_replaced(service: Service, repo: Path) -> None:
    await service.start("alpha")
    desktop = service.manager.get("alpha")
    assert desktop.account is not None
    workspace = desktop.paths.workspace
    env = user_env(desktop.paths.home)
    # A commit with no file in the tree is work too.
    commit = ["git", "-C", str(workspace), "commit", "-q", "--allow-empty", "-m", "start"]
    assert as_user(desktop.account.uid, *commit, env=env) == 0
    answer = await service.start("alpha", f"file://{repo}")
    assert answer["repository"] is None
    assert not (workspace / "README.md").exists()
    assert log(workspace) == "start"
    # A file not yet committed, in a second project's workspace.
    await service.start("beta")
    beta = service.manager.get("beta")
    notes = beta.paths.workspace / "notes.txt"
    notes.write_text("my plan\n")
    answer = await service.start("beta", f"file://{repo}")
    assert answer["repository"] is None
    assert notes.read_text() == "my plan\n"
    assert not (beta.paths.workspace / "README.md").exists()
    assert staging_leftovers(service) == []


async def test_a_failed_clone_leaves_the_empty_workspace(
    service: Service, repos_root: Path
) -> None:
    await service.start("alpha")
    workspace = service.manager.get("alpha").paths.workspace
    status, body = await service.call(
        "POST",
        "/api/desktops/alpha/start",
        json={"repository": {"url": f"file://{repos_root}/missing.git"}},
    )
    assert (status, body["error"]) == (502, "clone_failed")
    assert [p.name for p in workspace.iterdir()] == [".git"]
    assert service.manager.get("alpha").record.url is None
    assert staging_leftovers(service) == []


def test_what_counts_as_an_empty_workspace(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    git(tmp_path, "init", "-q", str(fresh))
    assert is_fresh_init(fresh)
    linked = tmp_path / "linked"
    linked.symlink_to(fresh)
    staged = tmp_path / "staged"
    git(tmp_path, "init", "-q", str(staged))
    (staged / "a.txt").write_text("a\n")
    git(staged, "add", "a.txt")
    (staged / "a.txt").unlink()  # staged, then deleted: the index still holds it
    linked_git = tmp_path / "linked-git"
    linked_git.mkdir()
    (linked_git / ".git").symlink_to(fresh / ".git")
    for path in (linked, staged, linked_git, tmp_path / "missing"):
        assert not is_fresh_init(path), path
