"""Hostile repositories and input are refused with a clear error, and nothing is touched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import Api
from .gitrepos import MAKERHUB_JSON, WorkRepo, git, valid_repo


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ext::sh -c touch% /tmp/makerhub-pwned", "the ext:: transport runs programs"),
        ("ext::sh", "the ext:: transport"),
        ("fd::3", "the fd:: transport"),
        ("--upload-pack=touch /tmp/makerhub-pwned", "must not start with '-'"),
        ("-oProxyCommand=touch /tmp/makerhub-pwned", "must not start with '-'"),
        ("ssh://-oProxyCommand=touch%20x/repo", "invalid host"),
        ("git@-oProxyCommand=x:repo", "invalid host"),
        ("ssh://host/-upload-pack.git", "must not start with '-'"),
        ("https://user:pass@example.com/r.git", "credentials inside the URL"),
        ("https://example.com/a/../../r.git", "'..'"),
        ("ftp://example.com/r.git", "the ftp scheme is not allowed"),
        ("https://exa mple.com/r.git", "whitespace or control characters"),
        ("relative/path", "absolute path"),
    ],
)
async def test_hostile_urls_are_refused_before_git_runs(api: Api, url: str, reason: str) -> None:
    status, body = await api.call("POST", "/api/repos", json={"name": "evil", "url": url})
    assert status == 422, body
    assert body["error"] == "refused"
    assert reason in body["message"]
    assert api.service.records == {}
    assert not Path("/tmp/makerhub-pwned").exists()
    assert list((api.service.settings.data_dir / "repositories").iterdir()) == []


async def test_file_urls_into_the_service_data_are_refused(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url)
    data = api.service.settings.data_dir
    own_clone = data / "repositories" / record["id"]
    link = data.parent / "innocent-link"
    link.symlink_to(own_clone)
    for url in (
        f"file://{own_clone}",
        f"{own_clone}",
        f"file://{data}/../{data.name}/repositories/{record['id']}",
        f"file://{link}",
        f"file://{data}",
    ):
        status, body = await api.call("POST", "/api/repos", json={"name": "self", "url": url})
        assert status == 422, url
        assert "own data" in body["message"]
    status, body = await api.call(
        "PATCH", f"/api/repos/{record['id']}", json={"url": f"file://{own_clone}"}
    )
    assert status == 422
    assert len(api.service.records) == 1
    assert api.service.records[record["id"]].url == f"file://{repo.bare}"


async def test_file_scheme_is_refused_unless_allowed(make_api: object, repo: WorkRepo) -> None:
    api = await make_api(allowed_schemes=frozenset({"https", "ssh"}))  # type: ignore[operator]
    status, body = await api.call("POST", "/api/repos", json={"name": "x", "url": repo.url})
    assert status == 422
    assert "the file scheme is not allowed here; allowed: https, ssh" in body["message"]


async def test_repository_over_the_size_limit_is_refused_and_leaves_nothing(
    api: Api, tmp_path: Path
) -> None:
    repo = WorkRepo(tmp_path / "upstream")
    repo.commit("Big", {"makerhub.json": MAKERHUB_JSON, "blob.bin": os.urandom(300_000)})
    status, body = await api.call(
        "POST", "/api/repos", json={"name": "big", "url": repo.url, "size_limit": 100_000}
    )
    assert status == 413
    assert body["error"] == "too_large"
    assert "over its size limit of 100000 bytes" in body["message"]
    assert api.service.records == {}
    data = api.service.settings.data_dir
    assert list((data / "repositories").iterdir()) == []
    assert [p.name for p in (data / "tmp").iterdir()] == ["home"]


async def test_sync_that_would_pass_the_size_limit_is_undone(api: Api, tmp_path: Path) -> None:
    repo = valid_repo(tmp_path / "upstream")
    record = await api.add_repo(repo.url, size_limit=150_000)
    _, before = await api.call("GET", f"/api/repos/{record['id']}/refs")
    repo.branch("huge")
    repo.commit("Huge", {"blob.bin": os.urandom(400_000)})
    status, synced = await api.call("POST", f"/api/repos/{record['id']}/sync")
    assert status == 200
    assert "size limit of 150000 bytes" in synced["last_error"]
    _, after = await api.call("GET", f"/api/repos/{record['id']}/refs")
    assert after["branches"] == before["branches"]
    clone = api.service.settings.data_dir / "repositories" / record["id"]
    assert sum(p.stat().st_size for p in clone.rglob("*") if p.is_file()) < 150_000


async def test_symlink_pointing_outside_the_tree(api: Api, tmp_path: Path) -> None:
    repo = valid_repo(tmp_path / "upstream")
    record = await api.add_repo(repo.url)
    cases = {
        "escape": ("lib/escape", "../../etc/passwd", "points outside the tree"),
        "absolute": ("abs", "/etc/passwd", "is absolute"),
        # lib/hop/../.. looks like the root, but lib/hop -> .. is the root, and its
        # parent is outside: resolution must follow the link before applying '..'
        "chain": ("lib/chain", "hop/../..", "points outside the tree"),
    }
    for branch, (path, target, _) in cases.items():
        repo.checkout("main")
        repo.branch(branch)
        if branch == "chain":
            repo.symlink("lib/hop", "..")
        repo.symlink(path, target)
        repo.commit(f"Add {branch} link")
    await api.call("POST", f"/api/repos/{record['id']}/sync")
    for branch, (_, _, reason) in cases.items():
        status, body = await api.call(
            "POST",
            f"/api/repos/{record['id']}/archives",
            json={"ref": branch, "env": {}, "schema": {}},
        )
        assert status == 422, branch
        assert reason in json.dumps(body["details"]), (branch, body)
        _, validation = await api.call(
            "GET", f"/api/repos/{record['id']}/validate", params={"ref": branch}
        )
        assert validation["valid"] is False
    assert not list((api.service.settings.data_dir / "cache" / "bodies").glob("*.body"))


async def test_submodule_pointing_elsewhere_is_refused(api: Api, tmp_path: Path) -> None:
    other = valid_repo(tmp_path / "other", "other")
    repo = valid_repo(tmp_path / "upstream")
    commit = git(other.work, "rev-parse", "HEAD").strip()
    repo.write(
        {
            ".gitmodules": '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://evil.example/lib.git\n'
        }
    )
    git(repo.work, "add", ".gitmodules")
    git(repo.work, "update-index", "--add", "--cacheinfo", f"160000,{commit},vendor/lib")
    git(repo.work, "commit", "-q", "-m", "Add submodule")
    repo.push()
    record = await api.add_repo(repo.url)
    status, body = await api.call(
        "POST", f"/api/repos/{record['id']}/archives", json={"ref": "main", "env": {}, "schema": {}}
    )
    assert status == 422
    assert body["details"] == [
        {
            "file": "vendor/lib",
            "path": "",
            "reason": "a submodule pointing to https://evil.example/lib.git; submodules are not "
            "packaged (vendor the code into the repository instead)",
        }
    ]


async def test_huge_single_file_is_refused(make_api: object, tmp_path: Path) -> None:
    api = await make_api(max_file_size=50_000)  # type: ignore[operator]
    repo = valid_repo(tmp_path / "upstream", extra={"firmware.img": b"\1" * 60_000})
    record = await api.add_repo(repo.url)
    status, body = await api.call(
        "POST", f"/api/repos/{record['id']}/archives", json={"ref": "main", "env": {}, "schema": {}}
    )
    assert status == 422
    assert body["details"] == [
        {
            "file": "firmware.img",
            "path": "",
            "reason": "60000 bytes, over the single-file limit of 50000 bytes",
        }
    ]


async def test_tree_with_dot_dot_entry_is_refused(api: Api, tmp_path: Path) -> None:
    """A crafted tree object naming an entry '..' (git fsck rejects it, so the clone must
    never even get it)."""
    repo = valid_repo(tmp_path / "upstream")
    blob = git(repo.work, "hash-object", "-w", "--stdin", stdin=b"evil\n").strip()
    raw_tree = b"100644 ..\0" + bytes.fromhex(blob)
    tree = git(
        repo.work, "hash-object", "-t", "tree", "-w", "--literally", "--stdin", stdin=raw_tree
    ).strip()
    commit = git(repo.work, "commit-tree", tree, "-m", "evil").strip()
    git(repo.work, "update-ref", "refs/heads/evil", commit)
    git(repo.work, "push", "-q", "--no-verify", "origin", "evil")
    status, body = await api.call("POST", "/api/repos", json={"name": "evil", "url": repo.url})
    assert status == 502
    assert "fetch" in body["message"]
    assert api.service.records == {}


async def test_invalid_json_and_schema_issues_are_precise(api: Api, tmp_path: Path) -> None:
    repo = WorkRepo(tmp_path / "upstream")
    repo.commit("Bad JSON", {"makerhub.json": '{"name": "x",\n "outputs": {,}}'})
    record = await api.add_repo(repo.url)
    _, result = await api.call("GET", f"/api/repos/{record['id']}/validate")
    assert result["valid"] is False
    assert result["issues"] == [
        {
            "file": "makerhub.json",
            "path": "",
            "reason": "invalid JSON at line 2 column 14: "
            "Expecting property name enclosed in double quotes",
        }
    ]


async def test_untouched_state_after_refusals(api: Api, repo: WorkRepo) -> None:
    record = await api.add_repo(repo.url)
    data = api.service.settings.data_dir
    before = snapshot(data / "repositories") | {
        "registry": (data / "repositories.json").read_bytes()
    }
    for payload in (
        {"name": "x", "url": "ext::sh -c id"},
        {"name": "x", "url": f"file://{data}"},
        {"name": "x", "url": repo.url, "size_limit": -1},
    ):
        status, _ = await api.call("POST", "/api/repos", json=payload)
        assert status in (400, 422)
    status, _ = await api.call(
        "PATCH", f"/api/repos/{record['id']}", json={"url": "--upload-pack=x"}
    )
    assert status == 422
    after = snapshot(data / "repositories") | {
        "registry": (data / "repositories.json").read_bytes()
    }
    assert after == before
    _, health = await api.call("GET", "/api/health")
    assert health["refused"] == {"invalid_request": 1, "refused": 3}


async def test_firmware_key_is_validated(api: Api, tmp_path: Path) -> None:
    repo = WorkRepo(tmp_path / "upstream")
    repo.commit(
        "Bad firmware key",
        {"makerhub.json": {**MAKERHUB_JSON, "firmware": {"asset": "../fw.bin", "tag": "v1"}}},
    )
    record = await api.add_repo(repo.url)
    _, result = await api.call("GET", f"/api/repos/{record['id']}/validate")
    assert result["valid"] is False
    assert [(i["file"], i["path"]) for i in result["issues"]] == [
        ("makerhub.json", "firmware.tag"),
        ("makerhub.json", "firmware.asset"),
    ]
    good = repo.commit(
        "Fixed", {"makerhub.json": {**MAKERHUB_JSON, "firmware": {"asset": "fw.bin"}}}
    )
    await api.call("POST", f"/api/repos/{record['id']}/sync")
    _, result = await api.call("GET", f"/api/repos/{record['id']}/validate", params={"ref": good})
    assert result["valid"] is True
    assert result["schema"]["firmware"] == {"asset": "fw.bin"}


async def test_validation_reports_every_problem_with_its_file(
    make_api: object, tmp_path: Path
) -> None:
    """Two escaping symlinks, a submodule, an oversized file and a schema error: each is
    its own issue, located by file, not just the first one found."""
    api = await make_api(max_file_size=50_000)  # type: ignore[operator]
    other = valid_repo(tmp_path / "other", "other")
    repo = WorkRepo(tmp_path / "upstream")
    repo.write(
        {
            "makerhub.json": {**MAKERHUB_JSON, "outputs": {"temperature": {"type": "complex"}}},
            "firmware.img": b"\1" * 60_000,
            ".gitmodules": '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://evil.example/lib.git\n',
        }
    )
    repo.symlink("passwd_link", "/etc/passwd")
    repo.symlink("shadow_link", "../../../../../../etc/shadow")
    git(repo.work, "add", "-A")
    commit = git(other.work, "rev-parse", "HEAD").strip()
    git(repo.work, "update-index", "--add", "--cacheinfo", f"160000,{commit},vendor/lib")
    git(repo.work, "commit", "-q", "-m", "Everything wrong at once")
    repo.push()
    record = await api.add_repo(repo.url)

    status, result = await api.call("GET", f"/api/repos/{record['id']}/validate")

    assert status == 200
    assert result["valid"] is False
    assert result["issues"] == [
        {
            "file": "makerhub.json",
            "path": "outputs.temperature.type",
            "reason": "required: one of float, int, bool, str, enum",
        },
        {
            "file": "firmware.img",
            "path": "",
            "reason": "60000 bytes, over the single-file limit of 50000 bytes",
        },
        {
            "file": "passwd_link",
            "path": "",
            "reason": "symlink to '/etc/passwd' is absolute",
        },
        {
            "file": "shadow_link",
            "path": "",
            "reason": "symlink to '../../../../../../etc/shadow' points outside the tree",
        },
        {
            "file": "vendor/lib",
            "path": "",
            "reason": "a submodule pointing to https://evil.example/lib.git; submodules are "
            "not packaged (vendor the code into the repository instead)",
        },
    ]
    status, body = await api.call(
        "POST", f"/api/repos/{record['id']}/archives", json={"ref": "main", "env": {}, "schema": {}}
    )
    assert status == 422
    assert body["error"] == "invalid_schema"
    assert body["details"] == result["issues"]


async def test_validation_reports_hostile_names_and_oversized_schema_files(
    api: Api, tmp_path: Path
) -> None:
    """Names git accepts but an archive must not hold, a symlink target that is not UTF-8
    and root files over the schema-file limit: every one is reported, by file."""
    repo = WorkRepo(tmp_path / "upstream")
    padding = " " * 300_000
    schema = json.dumps(MAKERHUB_JSON) + padding
    repo.write(
        {
            "makerhub.json": schema,
            "env_example.json": "{}" + padding,
            "main.py": "print('hello')\n",
        }
    )
    git(repo.work, "add", "-A")
    blob = git(repo.work, "hash-object", "-w", "--stdin", stdin=b"x\n").strip()
    bad_target = git(repo.work, "hash-object", "-w", "--stdin", stdin=b"caf\xe9").strip()
    long_target = git(repo.work, "hash-object", "-w", "--stdin", stdin=b"a/" * 2500).strip()
    for mode, oid, path in [
        ("120000", long_target, "long_link"),
        ("100644", blob, "lib\\evil.py"),
        ("100644", blob, os.fsdecode(b"caf\xe9.py")),
        ("120000", bad_target, "latin1_link"),
    ]:
        git(repo.work, "update-index", "--add", "--cacheinfo", f"{mode},{oid},{path}")
    git(repo.work, "commit", "-q", "-m", "Odd names")
    repo.push()
    record = await api.add_repo(repo.url)

    status, result = await api.call("GET", f"/api/repos/{record['id']}/validate")

    assert status == 200
    assert result["valid"] is False
    assert result["source"] is None
    assert result["issues"] == [
        {
            "file": "makerhub.json",
            "path": "",
            "reason": f"{len(schema)} bytes, over the 262144-byte limit",
        },
        {
            "file": "env_example.json",
            "path": "",
            "reason": "300002 bytes, over the 262144-byte limit",
        },
        {
            "file": "caf\\xe9.py",
            "path": "",
            "reason": "path is not UTF-8; archives need UTF-8 names",
        },
        {"file": "lib\\evil.py", "path": "", "reason": "path contains a backslash or NUL"},
        {"file": "long_link", "path": "", "reason": "symlink with a 5000-byte target"},
        {"file": "latin1_link", "path": "", "reason": "symlink target is not UTF-8"},
    ]


async def test_a_failed_clone_answers_upstream_failed_and_keeps_nothing(
    api: Api, tmp_path: Path
) -> None:
    """What DOCS.md promises: a clone that fails is 502 upstream_failed with git's reason."""
    missing = tmp_path / "nowhere.git"
    status, body = await api.call(
        "POST", "/api/repos", json={"name": "gone", "url": f"file://{missing}"}
    )
    assert status == 502
    assert body["error"] == "upstream_failed"
    assert body["message"].startswith("git fetch failed: ")
    assert api.service.records == {}
    assert list((api.service.settings.data_dir / "repositories").iterdir()) == []
    _, health = await api.call("GET", "/api/health")
    assert health["refused"] == {"upstream_failed": 1}
