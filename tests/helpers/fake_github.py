"""A fake GitHub REST API on 127.0.0.1 for tests: the few endpoints Makerhub uses.

Follows GitHub's published behaviour for ``GET /user``, ``POST /user/repos`` and
``GET``/``PUT /repos/{owner}/{repo}/contents/{path}``: the same status codes, error bodies
and rate-limit headers, ``auto_init`` making an initial ``README.md`` (so updating it needs
its blob ``sha``), ``license_template`` adding a ``LICENSE``. Tests read what was committed
from :attr:`FakeGitHub.repos` and every request from :attr:`FakeGitHub.requests`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass, field
import hashlib
import re
import time
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

DOCS = "https://docs.github.com/rest"
API_VERSIONS = {"2022-11-28"}
RATE_LIMIT = 5000
LICENSE_NAMES = {
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
    "epl-2.0": "Eclipse Public License 2.0",
}
NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,100}")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def blob_sha(content: bytes) -> str:
    """Return git's blob SHA-1 of ``content`` (what GitHub reports as a file's ``sha``)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class FakeRepository:
    """One repository: its metadata, files (path → bytes) and commit messages."""

    owner: str
    name: str
    description: str = ""
    private: bool = False
    default_branch: str = "main"
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        """Return ``owner/name``."""
        return f"{self.owner}/{self.name}"

    def text(self, path: str) -> str:
        """Return a committed file, decoded."""
        return self.files[path].decode()

    def to_json(self, base_url: str) -> dict[str, Any]:
        """Return the repository object GitHub answers with."""
        return {
            "id": abs(hash(self.full_name)) % 10**9,
            "name": self.name,
            "full_name": self.full_name,
            "owner": {"login": self.owner, "type": "User"},
            "private": self.private,
            "html_url": f"https://github.com/{self.full_name}",
            "description": self.description or None,
            "url": f"{base_url}/repos/{self.full_name}",
            "default_branch": self.default_branch,
            "visibility": "private" if self.private else "public",
        }


@dataclass
class LoggedRequest:
    """One request the fake received (the JSON body parsed, or None)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    """The fake server; configure it through its attributes, also while it runs.

    ``tokens`` maps each known token to its user's login; ``readonly_tokens`` may read but
    not create repositories or commit (GitHub's 403 "Resource not accessible by personal
    access token"). ``rate_limited`` makes every authenticated request fail with a primary
    (403, ``x-ratelimit-remaining: 0``) or secondary (``secondary_status`` with
    ``retry-after`` unless ``retry_after`` is None) rate limit. ``fail_next`` queues raw
    ``(status, body, headers)`` answers served before anything else; ``delay`` slows every answer.
    """

    tokens: dict[str, str] = field(default_factory=dict)
    readonly_tokens: set[str] = field(default_factory=set)
    repos: dict[str, FakeRepository] = field(default_factory=dict)
    rate_limited: Literal[None, "primary", "secondary"] = None
    secondary_status: int = 403
    retry_after: int | None = 60
    rate_limit_reset: int = field(default_factory=lambda: int(time.time()) + 3600)
    fail_next: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    requests: list[LoggedRequest] = field(default_factory=list)
    base_url: str = field(default="", init=False)
    _used: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _runner: web.AppRunner | None = field(default=None, init=False, repr=False)

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; return the base URL (``http://127.0.0.1:N``)."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/user", self._user)
        app.router.add_post("/user/repos", self._create_repo)
        app.router.add_get("/repos/{owner}/{repo}/contents/{path:.+}", self._get_contents)
        app.router.add_put("/repos/{owner}/{repo}/contents/{path:.+}", self._put_contents)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    def add_repo(
        self, owner: str, name: str, files: dict[str, str] | None = None
    ) -> FakeRepository:
        """Add an existing repository (with text files) and return it."""
        repo = FakeRepository(owner, name)
        repo.files = {path: text.encode() for path, text in (files or {}).items()}
        self.repos[repo.full_name] = repo
        return repo

    # --- plumbing -------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Log, delay, authenticate, rate-limit, then run the handler; add rate headers."""
        try:
            body = await request.json() if request.can_read_body else None
        except ValueError:
            body = None
        self.requests.append(
            LoggedRequest(
                request.method, request.path, dict(request.query), dict(request.headers), body
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next:
            status, text, headers = self.fail_next.pop(0)
            kind = "application/json" if text.startswith(("{", "[")) else "text/html"
            return web.Response(status=status, text=text, content_type=kind, headers=headers)
        version = request.headers.get("X-GitHub-Api-Version")
        if version is not None and version not in API_VERSIONS:
            return error(400, f"API version {version} is not supported.")
        token = self._token(request)
        if token is None:
            return error(401, "Requires authentication")
        if token not in self.tokens:
            return error(401, "Bad credentials")
        self._used[token] = self._used.get(token, 0) + 1
        if self.rate_limited == "primary":
            response = error(
                403,
                f"API rate limit exceeded for user ID {self._user_id(token)}. If you reach out "
                "to GitHub Support for help, please include the request ID FAKE:0001.",
            )
            self._rate_headers(response, token, remaining=0)
            return response
        if self.rate_limited == "secondary":
            response = error(
                self.secondary_status,
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again. If you reach out to GitHub Support for help, please include "
                "the request ID FAKE:0002.",
            )
            if self.retry_after is not None:
                response.headers["retry-after"] = str(self.retry_after)
            return response
        request["login"] = self.tokens[token]
        request["token"] = token
        response = await handler(request)
        self._rate_headers(response, token)
        return response

    @staticmethod
    def _token(request: web.Request) -> str | None:
        """Return the token of ``Authorization: Bearer|token <token>``."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() in {"bearer", "token"} and token else None

    def _user_id(self, token: str) -> int:
        """Return a stable numeric id for a token's user."""
        return sorted(self.tokens.values()).index(self.tokens[token]) + 1

    def _rate_headers(
        self, response: web.StreamResponse, token: str, remaining: int | None = None
    ) -> None:
        """Add GitHub's ``x-ratelimit-*`` headers."""
        used = self._used[token]
        left = max(RATE_LIMIT - used, 0) if remaining is None else remaining
        response.headers["x-ratelimit-limit"] = str(RATE_LIMIT)
        response.headers["x-ratelimit-remaining"] = str(left)
        response.headers["x-ratelimit-used"] = str(used)
        response.headers["x-ratelimit-reset"] = str(self.rate_limit_reset)
        response.headers["x-ratelimit-resource"] = "core"

    def _readonly(self, request: web.Request, permission: str, doc: str) -> web.Response | None:
        """Return GitHub's 403 for a token without write access, else None."""
        if request["token"] not in self.readonly_tokens:
            return None
        response = error(403, "Resource not accessible by personal access token", doc)
        response.headers["x-accepted-github-permissions"] = permission
        return response

    def _repo(self, request: web.Request) -> FakeRepository | None:
        """Return the repository of the URL if this token may see it."""
        full_name = f"{request.match_info['owner']}/{request.match_info['repo']}".lower()
        for repo in self.repos.values():
            if repo.full_name.lower() == full_name:
                if repo.private and repo.owner != request["login"]:
                    return None
                return repo
        return None

    def _content(self, repo: FakeRepository, path: str) -> dict[str, Any]:
        """Return the content object of one file (as in GitHub's answers)."""
        data = repo.files[path]
        url = f"{self.base_url}/repos/{repo.full_name}/contents/{path}"
        return {
            "type": "file",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": blob_sha(data),
            "size": len(data),
            "url": f"{url}?ref={repo.default_branch}",
            "html_url": f"https://github.com/{repo.full_name}/blob/{repo.default_branch}/{path}",
            "download_url": (
                f"https://raw.githubusercontent.com/{repo.full_name}/{repo.default_branch}/{path}"
            ),
        }

    def _commit(self, repo: FakeRepository, path: str, data: bytes, message: str) -> str:
        """Write a file as one commit; return the commit sha."""
        repo.files[path] = data
        repo.commits.append(message)
        return hashlib.sha1(f"{repo.full_name}:{len(repo.commits)}".encode()).hexdigest()

    # --- endpoints ------------------------------------------------------------------

    async def _user(self, request: web.Request) -> web.Response:
        """GET /user."""
        login = request["login"]
        return web.json_response(
            {"login": login, "id": self._user_id(request["token"]), "type": "User"}
        )

    async def _create_repo(self, request: web.Request) -> web.Response:
        """POST /user/repos."""
        doc = f"{DOCS}/repos/repos#create-a-repository-for-the-authenticated-user"
        if (denied := self._readonly(request, "administration=write", doc)) is not None:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return error(400, "Problems parsing JSON", doc)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return error(422, 'Invalid request.\n\n"name" wasn\'t supplied.', doc)
        login = request["login"]
        name = body["name"]
        description = body.get("description") or ""
        licence = body.get("license_template")
        problems = []
        if not NAME_RE.fullmatch(name) or name in {".", ".."}:
            problems.append(("name", "name is invalid"))
        elif any(r.owner == login and r.name.lower() == name.lower() for r in self.repos.values()):
            problems.append(("name", "name already exists on this account"))
        if not isinstance(description, str) or CONTROL_RE.search(description):
            problems.append(("description", "description control characters are not allowed"))
        elif len(description) > 350:
            problems.append(("description", "description is too long (maximum is 350 characters)"))
        if licence is not None and licence not in LICENSE_NAMES:
            problems.append(("license_template", "license_template is an unknown license"))
        if problems:
            return web.json_response(
                {
                    "message": "Repository creation failed.",
                    "errors": [
                        {"resource": "Repository", "code": "custom", "field": f, "message": m}
                        for f, m in problems
                    ],
                    "documentation_url": doc,
                    "status": "422",
                },
                status=422,
            )
        repo = FakeRepository(login, name, description, bool(body.get("private", False)))
        if body.get("auto_init"):
            self._commit(repo, "README.md", f"# {name}\n{description}\n".encode(), "Initial commit")
            if licence is not None:
                year = time.gmtime().tm_year
                text = f"{LICENSE_NAMES[licence]}\n\nCopyright (c) {year} {login}\n"
                repo.files["LICENSE"] = text.encode()
        self.repos[repo.full_name] = repo
        return web.json_response(repo.to_json(self.base_url), status=201)

    async def _get_contents(self, request: web.Request) -> web.Response:
        """GET /repos/{owner}/{repo}/contents/{path}."""
        doc = f"{DOCS}/repos/contents#get-repository-content"
        repo = self._repo(request)
        if repo is None:
            return error(404, "Not Found", doc)
        if not repo.files:
            return error(404, "This repository is empty.", doc)
        ref = request.query.get("ref", repo.default_branch)
        if ref != repo.default_branch:
            return error(404, f"No commit found for the ref {ref}", doc)
        path = request.match_info["path"].strip("/")
        if path in repo.files:
            content = self._content(repo, path)
            encoded = base64.b64encode(repo.files[path]).decode()
            wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
            return web.json_response({**content, "encoding": "base64", "content": wrapped + "\n"})
        inside = sorted(p for p in repo.files if p.startswith(path + "/"))
        if not inside:
            return error(404, "Not Found", doc)
        entries = {p[len(path) + 1 :].split("/", 1)[0] for p in inside}
        return web.json_response(
            [
                self._content(repo, f"{path}/{e}")
                if f"{path}/{e}" in repo.files
                else {"type": "dir", "name": e, "path": f"{path}/{e}"}
                for e in sorted(entries)
            ]
        )

    async def _put_contents(self, request: web.Request) -> web.Response:
        """PUT /repos/{owner}/{repo}/contents/{path}."""
        doc = f"{DOCS}/repos/contents#create-or-update-file-contents"
        repo = self._repo(request)
        if repo is None:
            return error(404, "Not Found", doc)
        if (denied := self._readonly(request, "contents=write", doc)) is not None:
            return denied
        if repo.owner != request["login"]:
            return error(404, "Not Found", doc)
        try:
            body = await request.json()
        except ValueError:
            return error(400, "Problems parsing JSON", doc)
        for key in ("message", "content"):
            if not isinstance(body.get(key), str):
                return error(422, f'Invalid request.\n\n"{key}" wasn\'t supplied.', doc)
        try:
            data = base64.b64decode(body["content"], validate=True)
        except binascii.Error:
            return error(422, "content is not valid Base64", doc)
        branch = body.get("branch", repo.default_branch)
        if branch != repo.default_branch:
            return error(422, f"Branch {branch} not found", doc)
        path = request.match_info["path"].strip("/")
        status = 201
        if path in repo.files:
            sha = body.get("sha")
            if sha is None:
                return error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', doc)
            if sha != blob_sha(repo.files[path]):
                return error(409, f"{path} does not match {sha}", doc)
            status = 200
        commit = self._commit(repo, path, data, body["message"])
        return web.json_response(
            {
                "content": self._content(repo, path),
                "commit": {"sha": commit, "message": body["message"]},
            },
            status=status,
        )


def error(status: int, message: str, doc: str = DOCS) -> web.Response:
    """Return GitHub's JSON error body."""
    return web.json_response(
        {"message": message, "documentation_url": doc, "status": str(status)}, status=status
    )
