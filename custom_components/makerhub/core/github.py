"""A small GitHub REST client: a maker project's repository, created with a starter README.

Pure Python (no Home Assistant imports; aiohttp only). A project is at its core a git
repository: :class:`GitHubClient` creates one on the member's own account with their
personal access token, optionally with an open-source licence, and commits a README built
from the project (:func:`starter_readme`). Every failure is a :class:`GitHubError` whose
message can be shown to the member as it is (what went wrong, what to do, when to retry);
the token never appears in a message or a log.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import logging
import re
from typing import Any, Final
import unicodedata
from urllib.parse import quote

import aiohttp

_LOGGER = logging.getLogger(__name__)

API_URL: Final = "https://api.github.com"
API_VERSION: Final = "2022-11-28"
USER_AGENT: Final = "Makerhub-HomeAssistant/0.1 (+https://github.com/makerhub/makerhub)"
TIMEOUT: Final = 30.0
MAX_REPOSITORY_NAME: Final = 100
MAX_DESCRIPTION: Final = 350
SECONDARY_WAIT: Final = timedelta(minutes=1)
"""GitHub's advice when a secondary rate limit gives no ``retry-after``: wait a minute."""

CREATE_PERMISSION: Final = (
    "the 'repo' scope (classic token) or 'Administration: write' (fine-grained token)"
)
CONTENTS_PERMISSION: Final = (
    "the 'repo' scope (classic token) or 'Contents: write' (fine-grained token)"
)

LICENSES: Final[dict[str, str]] = {
    "mit": "MIT License",
    "apache-2.0": "Apache License 2.0",
    "gpl-3.0": "GNU General Public License v3.0",
    "lgpl-3.0": "GNU Lesser General Public License v3.0",
    "agpl-3.0": "GNU Affero General Public License v3.0",
    "mpl-2.0": "Mozilla Public License 2.0",
    "bsd-2-clause": 'BSD 2-Clause "Simplified" License',
    "bsd-3-clause": 'BSD 3-Clause "New" or "Revised" License',
    "cc0-1.0": "Creative Commons Zero v1.0 Universal",
    "unlicense": "The Unlicense",
}
"""The licences a space's open-source policy allows: GitHub ``license_template`` key → name.

``None`` where a licence is asked for means "no licence" (all rights reserved).
"""

_INVALID_NAME_RE: Final = re.compile(r"[^A-Za-z0-9._-]+")
_DASHES_RE: Final = re.compile(r"-{2,}")
_SPACE_RE: Final = re.compile(r"\s+")


class GitHubError(Exception):
    """GitHub refused a request or could not be reached; the message says what to do."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the human message and the HTTP status (None when there was no answer)."""
        super().__init__(message)
        self.message = message
        self.status = status


class GitHubAuthError(GitHubError):
    """The token is wrong, revoked or expired (401)."""


class GitHubNameTakenError(GitHubError):
    """The account already has a repository of that name (422)."""


class GitHubRateLimitError(GitHubError):
    """Too many requests; ``retry_at`` (UTC) is when to try again, when GitHub says."""

    def __init__(self, message: str, status: int, retry_at: datetime | None) -> None:
        """Keep when to retry."""
        super().__init__(message, status)
        self.retry_at = retry_at


class GitHubPermissionError(GitHubError):
    """The token may not do this (403): it lacks a scope or permission."""


class GitHubConnectionError(GitHubError):
    """GitHub could not be reached, or did not answer in time."""


@dataclass(frozen=True)
class Repository:
    """A repository on GitHub."""

    full_name: str
    html_url: str
    default_branch: str


def licence_name(licence: str | None) -> str:
    """Return a licence's display name ("No licence" for None); raise ValueError if unknown."""
    if licence is None:
        return "No licence"
    if licence not in LICENSES:
        raise ValueError(f"unknown licence {licence!r}: use one of {', '.join(LICENSES)}")
    return LICENSES[licence]


def repository_name(name: str) -> str:
    """Return a valid GitHub repository name for a project name.

    ``"Café lamp (v2)"`` → ``Cafe-lamp-v2``: accents dropped, anything but letters, digits,
    ``.``, ``_`` and ``-`` replaced by ``-``, dashes collapsed, ``-`` and ``.`` stripped
    from both ends, at most 100 characters, no ``.git`` ending; ``project`` if nothing is
    left.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _DASHES_RE.sub("-", _INVALID_NAME_RE.sub("-", ascii_name)).strip("-.")
    slug = slug[:MAX_REPOSITORY_NAME].strip("-.")
    while slug.lower().endswith(".git"):
        slug = slug[:-4].strip("-.")
    return slug or "project"


def one_line(text: str, limit: int) -> str:
    """Return ``text`` on one line: control characters and runs of spaces made one space."""
    printable = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return _SPACE_RE.sub(" ", printable).strip()[:limit].rstrip()


def starter_readme(
    name: str, description: str, space_use: str, steps: Sequence[str], licence: str | None
) -> str:
    """Return the Markdown README a new project repository starts with (deterministic)."""
    title = one_line(name, MAX_REPOSITORY_NAME) or "Untitled project"
    lines = [f"# {title}", "", description.strip() or "_No description yet._", ""]
    lines += ["## How it uses the space", "", space_use.strip() or "_Not described yet._", ""]
    lines += ["## Steps", ""]
    texts = [one_line(step, len(step)) for step in steps]
    texts = [text for text in texts if text]
    lines += [f"{n}. [ ] {text}" for n, text in enumerate(texts, 1)] or ["_No steps yet._"]
    lines += ["", "## Licence", ""]
    if licence is None:
        lines.append("No licence chosen yet: all rights reserved.")
    else:
        lines.append(f"Released under the {licence_name(licence)} (see [LICENSE](LICENSE)).")
    lines += ["", "---", "", "Started with Makerhub.", ""]
    return "\n".join(lines)


def check_path(path: str) -> str:
    """Return a repository file path unchanged; raise ValueError if it is not a plain one."""
    segments = path.split("/")
    if not path or path.startswith("/") or "\\" in path:
        raise ValueError(f"invalid file path {path!r}: give a relative path like docs/a.md")
    if any(segment in {"", ".", ".."} for segment in segments):
        raise ValueError(f"invalid file path {path!r}: no empty, '.' or '..' segments")
    return path


class GitHubClient:
    """GitHub's REST API as one member's token sees it."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        base_url: str = API_URL,
        *,
        timeout: float = TIMEOUT,
    ) -> None:
        """Use ``session`` (not closed here) with ``token``; ``timeout`` per request."""
        self._session = session
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        """Name the server, never the token."""
        return f"GitHubClient({self._base_url!r})"

    async def login(self) -> str:
        """Return the token's user login (a cheap way to check a token)."""
        _, data = await self._request("GET", "/user", permission="a valid token")
        return _string(data, "login")

    async def create_repository(
        self, name: str, description: str, *, licence: str | None, private: bool = False
    ) -> Repository:
        """Create a repository on the token's account, with an initial commit.

        ``name`` is used as given (see :func:`repository_name`); the description is made one
        line of at most 350 characters; ``licence`` is a :data:`LICENSES` key or None.
        """
        body: dict[str, Any] = {
            "name": name,
            "description": one_line(description, MAX_DESCRIPTION),
            "private": private,
            "auto_init": True,
        }
        if licence is not None:
            licence_name(licence)
            body["license_template"] = licence
        _, data = await self._request(
            "POST", "/user/repos", json=body, permission=CREATE_PERMISSION
        )
        return Repository(
            full_name=_string(data, "full_name"),
            html_url=_string(data, "html_url"),
            default_branch=_string(data, "default_branch"),
        )

    async def put_file(self, repository: Repository, path: str, content: str, message: str) -> None:
        """Commit ``content`` (UTF-8) at ``path`` on the default branch, creating or updating."""
        url = f"/repos/{repository.full_name}/contents/{quote(check_path(path), safe='/')}"
        status, existing = await self._request(
            "GET",
            url,
            params={"ref": repository.default_branch},
            permission=CONTENTS_PERMISSION,
            missing_ok=True,
        )
        body: dict[str, Any] = {
            "message": message,
            "content": base64.b64encode(content.encode()).decode("ascii"),
            "branch": repository.default_branch,
        }
        if status != 404:
            if not isinstance(existing, dict) or existing.get("type") != "file":
                raise GitHubError(
                    f"{path} in {repository.full_name} is not a file: choose another path"
                )
            body["sha"] = _string(existing, "sha")
        await self._request("PUT", url, json=body, permission=CONTENTS_PERMISSION)

    async def create_project_repository(
        self,
        name: str,
        description: str,
        space_use: str,
        steps: Sequence[str],
        licence: str | None,
        *,
        private: bool = False,
    ) -> Repository:
        """Create a project's repository (named by :func:`repository_name`) with its README."""
        readme = starter_readme(name, description, space_use, steps, licence)
        repository = await self.create_repository(
            repository_name(name), description, licence=licence, private=private
        )
        await self.put_file(repository, "README.md", readme, "Add the Makerhub starter README")
        return repository

    async def _request(
        self,
        method: str,
        path: str,
        *,
        permission: str,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        missing_ok: bool = False,
    ) -> tuple[int, Any]:
        """Send one request; return (status, JSON body) or raise the matching GitHubError."""
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        try:
            async with self._session.request(
                method,
                self._base_url + path,
                headers=headers,
                json=json,
                params=params,
                timeout=self._timeout,
            ) as response:
                status = response.status
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = None
                response_headers = response.headers
        except TimeoutError as err:
            _LOGGER.debug("GitHub %s %s: timed out", method, path)
            raise GitHubConnectionError(
                f"GitHub did not answer within {self._timeout.total:g} s: try again later"
            ) from err
        except aiohttp.ClientError as err:
            cause = self._redact(f"{type(err).__name__}: {err}")
            _LOGGER.debug("GitHub %s %s: %s", method, path, cause)
            raise GitHubConnectionError(f"Could not reach GitHub ({cause})") from err
        _LOGGER.debug("GitHub %s %s: %s", method, path, status)
        if status < 400 or (status == 404 and missing_ok):
            return status, data
        raise self._error(status, response_headers, data, permission)

    def _error(
        self, status: int, headers: Mapping[str, str], data: Any, permission: str
    ) -> GitHubError:
        """Return the error for a failed response."""
        message = ""
        details: list[str] = []
        if isinstance(data, dict):
            message = str(data.get("message") or "")
            errors = data.get("errors")
            for error in errors if isinstance(errors, list) else []:
                if isinstance(error, dict) and error.get("message"):
                    details.append(str(error["message"]))
                elif isinstance(error, dict) and error.get("field"):
                    details.append(f"{error['field']}: {error.get('code', 'invalid')}")
        said = self._redact("; ".join([message.strip(), *details]).strip("; ") or "no details")
        if status == 401:
            return GitHubAuthError(
                "GitHub rejected the token (bad credentials): it is wrong, revoked or "
                "expired; create a new personal access token",
                status,
            )
        if (limited := _rate_limit(status, headers, said)) is not None:
            return limited
        if status == 403:
            accepted = headers.get("x-accepted-github-permissions") or headers.get(
                "x-accepted-oauth-scopes"
            )
            hint = f" (GitHub asks for: {accepted})" if accepted else ""
            return GitHubPermissionError(
                f"The token may not do this: it needs {permission}{hint}. GitHub said: {said}",
                status,
            )
        if status == 422 and any("already exists" in detail for detail in details):
            return GitHubNameTakenError(
                f"A repository of that name already exists on this account: choose another "
                f"name. GitHub said: {said}",
                status,
            )
        return GitHubError(f"GitHub refused the request ({status}): {said}", status)

    def _redact(self, text: str) -> str:
        """Return ``text`` with the token masked (belt and braces: it should not be there)."""
        return text.replace(self._token, "***") if self._token else text


def _rate_limit(status: int, headers: Mapping[str, str], said: str) -> GitHubRateLimitError | None:
    """Return the rate-limit error a 403/429 stands for, or None if it is not one.

    As GitHub documents: ``retry-after`` seconds first, then ``x-ratelimit-remaining: 0``
    with the ``x-ratelimit-reset`` epoch, else a minute for a secondary limit.
    """
    if status not in (403, 429):
        return None
    now = datetime.now(UTC)
    retry_at: datetime | None
    retry_after = headers.get("retry-after", "")
    if retry_after.isdigit():
        kind, retry_at = "secondary", now + timedelta(seconds=int(retry_after))
    elif headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "")
        kind = "hourly"
        retry_at = datetime.fromtimestamp(int(reset), UTC) if reset.isdigit() else None
    elif status == 429 or "rate limit" in said.lower():
        kind, retry_at = "secondary", now + SECONDARY_WAIT
    else:
        return None
    when = f"after {retry_at:%Y-%m-%d %H:%M:%S} UTC" if retry_at else "later"
    return GitHubRateLimitError(
        f"GitHub's {kind} rate limit was reached: try again {when}. GitHub said: {said}",
        status,
        retry_at,
    )


def _string(data: Any, key: str) -> str:
    """Return ``data[key]`` if it is a string; raise GitHubError for an unexpected answer."""
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise GitHubError(f"GitHub's answer has no {key!r}: is the server really GitHub?")
    return value
