"""The fixed git environment: the second lock behind the URL checks."""

from __future__ import annotations

from pathlib import Path
import shlex

import pytest

from makerhub_firmware.gitcmd import Git, GitCommandError, GitEnvironment
from makerhub_firmware.urls import parse_clone_url

from .gitrepos import valid_repo


def settings_of(env: dict[str, str]) -> dict[str, str]:
    count = int(env["GIT_CONFIG_COUNT"])
    return {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(count)}


def test_environment_is_fixed_and_prompt_free(tmp_path: Path) -> None:
    env = GitEnvironment(home=tmp_path).env()
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert env["GIT_CONFIG_GLOBAL"] == "/dev/null"
    assert env["HOME"] == str(tmp_path)
    config = settings_of(env)
    assert config["protocol.allow"] == "never"
    allowed = {k for k, v in config.items() if k.startswith("protocol.") and v == "always"}
    assert allowed == {"protocol.https.allow", "protocol.ssh.allow"}
    assert config["core.hooksPath"] == "/dev/null"
    assert config["transfer.fsckObjects"] == "true"
    assert config["submodule.recurse"] == "false"


def test_ssh_command_with_and_without_key(tmp_path: Path) -> None:
    environment = GitEnvironment(home=tmp_path, ssh_program="/usr/bin/ssh")
    key = tmp_path / "dir with space" / "key"
    words = shlex.split(environment.ssh_command(key))
    assert words[0] == "/usr/bin/ssh"
    assert words[words.index("-i") + 1] == str(key)
    assert "BatchMode=yes" in words
    assert f"UserKnownHostsFile={tmp_path / 'known_hosts'}" in words
    assert words[words.index("-F") + 1] == "/dev/null"
    plain = shlex.split(environment.ssh_command())
    assert "-i" not in plain
    assert "IdentityFile=/dev/null" in plain
    known = GitEnvironment(home=tmp_path, known_hosts=Path("/config/known_hosts"))
    assert "UserKnownHostsFile=/config/known_hosts" in shlex.split(known.ssh_command())


def test_unknown_scheme_cannot_be_allowed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ext"):
        GitEnvironment(home=tmp_path, allowed_schemes=frozenset({"https", "ext"}))


async def test_git_itself_refuses_what_is_not_allowed(tmp_path: Path) -> None:
    """Even if a URL slipped past the checks, git would not run ext:: or file://."""
    repo = valid_repo(tmp_path / "upstream")
    marker = tmp_path / "pwned"
    git = Git(GitEnvironment(home=tmp_path))  # https and ssh only
    target = tmp_path / "clone.git"
    await git.run(["init", "--bare", "-q", str(target)])
    for url in (f"ext::sh -c touch% {marker}", repo.url, str(repo.bare)):
        with pytest.raises(GitCommandError, match="fetch failed"):
            await git.run(["fetch", "--", url, "+refs/heads/*:refs/heads/*"], git_dir=target)
    assert not marker.exists()
    allowed = Git(GitEnvironment(home=tmp_path, allowed_schemes=frozenset({"file"})))
    await allowed.run(["fetch", "-q", "--", repo.url, "+refs/heads/*:refs/heads/*"], git_dir=target)
    with pytest.raises(GitCommandError):
        await allowed.run(["fetch", "--", f"ext::sh -c touch% {marker}", "x"], git_dir=target)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/makers/fan.git", ("https", "github.com")),
        ("ssh://git@github.com:22/makers/fan.git", ("ssh", "github.com")),
        ("git@github.com:makers/fan.git", ("ssh", "github.com")),
        ("https://[::1]:8443/r.git", ("https", "::1")),
    ],
)
def test_good_urls_pass(url: str, expected: tuple[str, str]) -> None:
    parsed = parse_clone_url(url, {"https", "ssh"})
    assert (parsed.scheme, parsed.host) == expected
    assert parsed.url == url


async def test_timeout_kills_git(tmp_path: Path) -> None:
    git = Git(GitEnvironment(home=tmp_path, timeout=0.2))
    with pytest.raises(GitCommandError, match="timed out"):
        await git.run(["-c", "alias.slow=!sleep 30", "slow"])
