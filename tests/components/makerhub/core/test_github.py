"""The GitHub client against a local fake GitHub: repositories, README commits, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
import time

import aiohttp
import pytest

from custom_components.makerhub.core.github import (
    LICENSES,
    GitHubAuthError,
    GitHubClient,
    GitHubConnectionError,
    GitHubError,
    GitHubNameTakenError,
    GitHubPermissionError,
    GitHubRateLimitError,
    Repository,
    check_path,
    licence_name,
    one_line,
    repository_name,
    starter_readme,
)
from tests.helpers.fake_github import FakeGitHub, blob_sha

TOKEN = "ghp_S3cretMakerhubTokenValue0123456789"
READONLY = "github_pat_ReadOnlyTokenValue0123456789"


@pytest.fixture
async def github(socket_enabled: None) -> AsyncIterator[FakeGitHub]:
    """A running fake GitHub that knows alice (full access) and rob (read only)."""
    async with FakeGitHub(
        tokens={TOKEN: "alice", READONLY: "rob"}, readonly_tokens={READONLY}
    ) as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One HTTP session per test."""
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def client(github: FakeGitHub, session: aiohttp.ClientSession) -> GitHubClient:
    """Alice's client."""
    return GitHubClient(session, TOKEN, github.base_url + "/")


def assert_secret_kept(err: BaseException) -> None:
    """Neither token shows in the error, its cause or its repr."""
    for text in (str(err), repr(err), str(err.__cause__)):
        assert TOKEN not in text
        assert READONLY not in text


def near(actual: datetime | None, expected: datetime) -> bool:
    """Return whether two instants are within a few seconds."""
    return actual is not None and abs(actual - expected) < timedelta(seconds=5)


async def test_login(client: GitHubClient, github: FakeGitHub) -> None:
    """The login of the token's user; GitHub's recommended headers are sent."""
    assert await client.login() == "alice"
    headers = github.requests[-1].headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert headers["User-Agent"].startswith("Makerhub")
    assert TOKEN not in repr(client)


async def test_create_project_repository(client: GitHubClient, github: FakeGitHub) -> None:
    """The repository gets the licence and the starter README, committed over auto_init's."""
    repository = await client.create_project_repository(
        "Café lamp (v2)",
        "A bedside lamp.",
        "Laser cutter for the shade, soldering bench for the driver.",
        ["Cut the shade", "Solder the driver", "Assemble"],
        "mit",
    )
    assert repository == Repository(
        full_name="alice/Cafe-lamp-v2",
        html_url="https://github.com/alice/Cafe-lamp-v2",
        default_branch="main",
    )
    repo = github.repos["alice/Cafe-lamp-v2"]
    assert not repo.private
    assert repo.text("README.md") == (
        "# Café lamp (v2)\n"
        "\n"
        "A bedside lamp.\n"
        "\n"
        "## How it uses the space\n"
        "\n"
        "Laser cutter for the shade, soldering bench for the driver.\n"
        "\n"
        "## Steps\n"
        "\n"
        "1. [ ] Cut the shade\n"
        "2. [ ] Solder the driver\n"
        "3. [ ] Assemble\n"
        "\n"
        "## Licence\n"
        "\n"
        "Released under the MIT License (see [LICENSE](LICENSE)).\n"
        "\n"
        "---\n"
        "\n"
        "Started with Makerhub.\n"
    )
    assert repo.text("LICENSE").startswith("MIT License")
    assert repo.commits == ["Initial commit", "Add the Makerhub starter README"]
    create, get, put = github.requests
    assert create.body == {
        "name": "Cafe-lamp-v2",
        "description": "A bedside lamp.",
        "private": False,
        "auto_init": True,
        "license_template": "mit",
    }
    assert (get.method, get.path, get.query) == (
        "GET",
        "/repos/alice/Cafe-lamp-v2/contents/README.md",
        {"ref": "main"},
    )
    assert put.body["sha"] == blob_sha(b"# Cafe-lamp-v2\nA bedside lamp.\n")
    assert put.body["branch"] == "main"
    assert put.body["message"] == "Add the Makerhub starter README"


async def test_private_repository_without_licence(client: GitHubClient, github: FakeGitHub) -> None:
    """No licence: no license_template sent, no LICENSE file, the README says so."""
    await client.create_project_repository("Bench", "", "", [], None, private=True)
    repo = github.repos["alice/Bench"]
    assert repo.private
    assert set(repo.files) == {"README.md"}
    assert "license_template" not in github.requests[0].body
    readme = repo.text("README.md")
    assert "_No description yet._" in readme
    assert "_No steps yet._" in readme
    assert "No licence chosen yet: all rights reserved." in readme


async def test_description_made_one_short_line(client: GitHubClient, github: FakeGitHub) -> None:
    """Control characters and newlines go; at most 350 characters reach GitHub."""
    description = "First line\nsecond\tline\x00 " + "x" * 500
    await client.create_repository("desc", description, licence=None)
    sent = github.requests[0].body["description"]
    assert sent.startswith("First line second line x")
    assert len(sent) == 350
    assert github.repos["alice/desc"].description == sent


async def test_unknown_licence(client: GitHubClient, github: FakeGitHub) -> None:
    """A licence outside the policy is refused before anything is sent."""
    with pytest.raises(ValueError, match="unknown licence 'wtfpl'"):
        await client.create_repository("x", "", licence="wtfpl")
    assert github.requests == []


async def test_put_file_creates_then_updates(client: GitHubClient, github: FakeGitHub) -> None:
    """A new path is created without sha; an existing one updated with its blob sha."""
    repository = await client.create_repository("notes", "", licence=None)
    await client.put_file(repository, "docs/wiring notes.md", "v1 ✓\n", "Add notes")
    put = github.requests[-1]
    assert put.path == "/repos/alice/notes/contents/docs/wiring notes.md"
    assert "sha" not in put.body
    await client.put_file(repository, "docs/wiring notes.md", "v2\n", "Update notes")
    assert github.requests[-1].body["sha"] == blob_sha("v1 ✓\n".encode())
    repo = github.repos["alice/notes"]
    assert repo.text("docs/wiring notes.md") == "v2\n"
    assert repo.commits[-2:] == ["Add notes", "Update notes"]


async def test_put_file_on_a_directory(client: GitHubClient, github: FakeGitHub) -> None:
    """A path that is a directory is refused with a clear message."""
    repository = await client.create_repository("dirs", "", licence=None)
    await client.put_file(repository, "docs/a.md", "a", "Add a")
    with pytest.raises(GitHubError, match="docs in alice/dirs is not a file"):
        await client.put_file(repository, "docs", "x", "Overwrite")


async def test_put_file_in_a_missing_repository(client: GitHubClient) -> None:
    """GitHub's 404 on the PUT comes back as a GitHubError with its message."""
    missing = Repository("alice/missing", "https://github.com/alice/missing", "main")
    with pytest.raises(GitHubError, match=r"\(404\): Not Found") as caught:
        await client.put_file(missing, "README.md", "x", "Add")
    assert caught.value.status == 404


@pytest.mark.parametrize(
    "path", ["", "/README.md", "a/../b", "..", "a//b", "./a", "a/", "a\\b", "docs/."]
)
async def test_path_validation(client: GitHubClient, github: FakeGitHub, path: str) -> None:
    """Only plain relative paths are accepted, before anything is sent."""
    repository = Repository("alice/x", "https://github.com/alice/x", "main")
    with pytest.raises(ValueError, match="invalid file path"):
        await client.put_file(repository, path, "x", "Add")
    assert github.requests == []


def test_check_path_accepts_plain_paths() -> None:
    """Nested, dotted and spaced names are fine."""
    for path in ("README.md", "docs/a b.md", ".github/workflows/ci.yml", "a..b/c"):
        assert check_path(path) == path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Robot arm v2", "Robot-arm-v2"),
        ("Café lamp (v2)", "Cafe-lamp-v2"),
        ("  --hello--  world--  ", "hello-world"),
        ("my_project.v1", "my_project.v1"),
        (".", "project"),
        ("..", "project"),
        ("...", "project"),
        ("", "project"),
        ("🙂🙂", "project"),
        ("日本語", "project"),
        ("lamp.git", "lamp"),
        ("lamp.GIT.git", "lamp"),
        (".github", "github"),
        ("a" * 150, "a" * 100),
        ("a" * 99 + " b", "a" * 99),
        ("a/b\\c:d", "a-b-c-d"),
    ],
)
def test_repository_name(name: str, expected: str) -> None:
    """Valid GitHub names: [A-Za-z0-9._-], at most 100, never '.' or '..'."""
    assert repository_name(name) == expected


def test_starter_readme_is_deterministic() -> None:
    """Same input, same README; steps flattened to one line each, blank ones dropped."""
    args = ("Lamp\nv2", "Desc", "Uses", ["Cut\n  the  shade", "  ", "Glue"], "gpl-3.0")
    readme = starter_readme(*args)
    assert readme == starter_readme(*args)
    assert readme.startswith("# Lamp v2\n")
    assert "1. [ ] Cut the shade\n2. [ ] Glue\n" in readme
    assert "Released under the GNU General Public License v3.0" in readme
    assert starter_readme("", "", "", [], None).startswith("# Untitled project\n")


def test_licences() -> None:
    """GitHub licence keys with display names; None is "no licence"."""
    assert {"mit", "apache-2.0", "gpl-3.0", "agpl-3.0", "mpl-2.0"} <= set(LICENSES)
    assert {"bsd-3-clause", "cc0-1.0", "unlicense"} <= set(LICENSES)
    assert licence_name(None) == "No licence"
    assert licence_name("apache-2.0") == "Apache License 2.0"
    with pytest.raises(ValueError, match="unknown licence"):
        licence_name("MIT")
    with pytest.raises(ValueError, match="unknown licence"):
        starter_readme("x", "", "", [], "proprietary")


def test_one_line() -> None:
    """Control characters and whitespace runs become single spaces; trimmed to a limit."""
    assert one_line("  a\r\nb\x07c  ", 100) == "a b c"
    assert one_line("abc def", 4) == "abc"


async def test_name_taken(client: GitHubClient, github: FakeGitHub) -> None:
    """GitHub's 422 'name already exists on this account' has its own error."""
    github.add_repo("alice", "Lamp")
    with pytest.raises(GitHubNameTakenError, match="already exists") as caught:
        await client.create_project_repository("lamp", "", "", [], None)
    assert caught.value.status == 422
    assert_secret_kept(caught.value)


async def test_other_validation_error(client: GitHubClient) -> None:
    """Any other 422 is a GitHubError carrying GitHub's message and field errors."""
    with pytest.raises(GitHubError) as caught:
        await client.create_repository("bad name", "", licence=None)
    assert not isinstance(caught.value, GitHubNameTakenError)
    assert str(caught.value) == (
        "GitHub refused the request (422): Repository creation failed.; name is invalid"
    )


async def test_error_without_messages(client: GitHubClient, github: FakeGitHub) -> None:
    """Field errors without a message still say which field; unknown bodies say so."""
    errors = [{"field": "name", "code": "missing"}, {"code": "custom"}, "odd"]
    body = {"message": "Validation Failed", "errors": errors}
    github.fail_next.append((422, json.dumps(body), {}))
    with pytest.raises(GitHubError, match=r"Validation Failed; name: missing"):
        await client.login()
    github.fail_next.append((500, json.dumps({"errors": "not a list"}), {}))
    with pytest.raises(GitHubError, match=r"\(500\): no details"):
        await client.login()


async def test_server_error_page(client: GitHubClient, github: FakeGitHub) -> None:
    """A non-JSON error page (a 502 from a proxy) is still a clear GitHubError."""
    github.fail_next.append((502, "<html>Bad gateway</html>", {}))
    with pytest.raises(GitHubError, match=r"GitHub refused the request \(502\): no details"):
        await client.login()


async def test_unexpected_answer(client: GitHubClient, github: FakeGitHub) -> None:
    """A 200 that is not GitHub's JSON is refused, not trusted."""
    github.fail_next.append((200, "<html>captive portal</html>", {}))
    with pytest.raises(GitHubError, match="no 'login'"):
        await client.login()


async def test_bad_token(github: FakeGitHub, session: aiohttp.ClientSession) -> None:
    """An unknown token: GitHubAuthError (401), the token not shown."""
    bad = GitHubClient(session, TOKEN + "x", github.base_url)
    with pytest.raises(GitHubAuthError, match="bad credentials") as caught:
        await bad.login()
    assert caught.value.status == 401
    assert TOKEN not in str(caught.value)


async def test_empty_token(github: FakeGitHub, session: aiohttp.ClientSession) -> None:
    """No token at all is an auth error too."""
    with pytest.raises(GitHubAuthError):
        await GitHubClient(session, "", github.base_url).login()


async def test_readonly_token(github: FakeGitHub, session: aiohttp.ClientSession) -> None:
    """A token that may read but not create: the error names the permission needed."""
    readonly = GitHubClient(session, READONLY, github.base_url)
    assert await readonly.login() == "rob"
    with pytest.raises(GitHubPermissionError) as caught:
        await readonly.create_project_repository("Lamp", "", "", [], "mit")
    message = str(caught.value)
    assert "'repo' scope" in message
    assert "'Administration: write'" in message
    assert "GitHub asks for: administration=write" in message
    assert "Resource not accessible by personal access token" in message
    assert caught.value.status == 403
    assert_secret_kept(caught.value)


async def test_readonly_token_cannot_commit(
    github: FakeGitHub, session: aiohttp.ClientSession
) -> None:
    """Committing needs Contents: write."""
    github.add_repo("rob", "lamp", {"README.md": "# lamp\n"})
    readonly = GitHubClient(session, READONLY, github.base_url)
    repository = Repository("rob/lamp", "https://github.com/rob/lamp", "main")
    with pytest.raises(GitHubPermissionError, match="'Contents: write'"):
        await readonly.put_file(repository, "README.md", "x", "Update")


async def test_forbidden_without_hint(client: GitHubClient, github: FakeGitHub) -> None:
    """A 403 without GitHub's permission header still says what is needed."""
    github.fail_next.append((403, json.dumps({"message": "Must have admin rights"}), {}))
    with pytest.raises(GitHubPermissionError, match="Must have admin rights") as caught:
        await client.create_repository("x", "", licence=None)
    assert "GitHub asks for" not in str(caught.value)


async def test_primary_rate_limit(client: GitHubClient, github: FakeGitHub) -> None:
    """x-ratelimit-remaining 0: retry at x-ratelimit-reset."""
    github.rate_limited = "primary"
    github.rate_limit_reset = int(time.time()) + 600
    with pytest.raises(GitHubRateLimitError) as caught:
        await client.login()
    retry_at = datetime.fromtimestamp(github.rate_limit_reset, UTC)
    assert caught.value.retry_at == retry_at
    assert f"try again after {retry_at:%Y-%m-%d %H:%M:%S} UTC" in str(caught.value)
    assert "hourly rate limit" in str(caught.value)
    assert caught.value.status == 403
    assert_secret_kept(caught.value)


async def test_primary_rate_limit_without_reset(client: GitHubClient, github: FakeGitHub) -> None:
    """No usable reset header: retry 'later', retry_at None."""
    github.fail_next.append((429, "{}", {"x-ratelimit-remaining": "0"}))
    with pytest.raises(GitHubRateLimitError, match="try again later") as caught:
        await client.login()
    assert caught.value.retry_at is None


@pytest.mark.parametrize("status", [403, 429])
async def test_secondary_rate_limit(client: GitHubClient, github: FakeGitHub, status: int) -> None:
    """retry-after seconds from now, with either status GitHub uses."""
    github.rate_limited = "secondary"
    github.secondary_status = status
    github.retry_after = 90
    with pytest.raises(GitHubRateLimitError, match="secondary rate limit") as caught:
        await client.create_repository("x", "", licence=None)
    assert caught.value.status == status
    assert near(caught.value.retry_at, datetime.now(UTC) + timedelta(seconds=90))


async def test_secondary_rate_limit_without_retry_after(
    client: GitHubClient, github: FakeGitHub
) -> None:
    """No retry-after: GitHub's advice is to wait at least a minute."""
    github.rate_limited = "secondary"
    github.retry_after = None
    with pytest.raises(GitHubRateLimitError) as caught:
        await client.login()
    assert near(caught.value.retry_at, datetime.now(UTC) + timedelta(minutes=1))


async def test_bare_429(client: GitHubClient, github: FakeGitHub) -> None:
    """A 429 with no header at all is still a rate limit."""
    github.fail_next.append((429, "Too Many Requests", {}))
    with pytest.raises(GitHubRateLimitError) as caught:
        await client.login()
    assert near(caught.value.retry_at, datetime.now(UTC) + timedelta(minutes=1))


async def test_rate_headers_on_normal_answers(client: GitHubClient, github: FakeGitHub) -> None:
    """The fake counts requests as GitHub does (x-ratelimit-* on every answer)."""
    await client.login()
    await client.login()
    assert github._used[TOKEN] == 2


async def test_connection_error(client: GitHubClient, github: FakeGitHub) -> None:
    """GitHub unreachable: GitHubConnectionError naming the cause, not the token."""
    await github.stop()
    with pytest.raises(GitHubConnectionError, match="Could not reach GitHub") as caught:
        await client.login()
    assert "ClientConnectorError" in str(caught.value)
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)
    assert_secret_kept(caught.value)


async def test_timeout(github: FakeGitHub, session: aiohttp.ClientSession) -> None:
    """No answer in time: GitHubConnectionError."""
    github.delay = 1
    slow = GitHubClient(session, TOKEN, github.base_url, timeout=0.2)
    with pytest.raises(GitHubConnectionError, match=r"did not answer within 0\.2 s"):
        await slow.login()


async def test_token_masked_if_echoed(client: GitHubClient, github: FakeGitHub) -> None:
    """Should a server ever echo the token, the message masks it."""
    github.fail_next.append((400, json.dumps({"message": f"bad header Bearer {TOKEN}"}), {}))
    with pytest.raises(GitHubError, match=r"bad header Bearer \*\*\*") as caught:
        await client.login()
    assert_secret_kept(caught.value)
