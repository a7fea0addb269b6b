"""Release assets of compiled firmware, through the GitHub / Gitea releases API.

``GET {api}/repos/{owner}/{repo}/releases/tags/{tag}`` returns the release with its
``assets``; GitHub's asset ``url`` downloads the binary with
``Accept: application/octet-stream`` (answering with a redirect to storage), Gitea's
``browser_download_url`` downloads it directly. The token goes only to the API's own
origin, never to a redirect target elsewhere. Downloads are streamed to disk with a size
limit and hashed on the way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
import re
import secrets
from typing import Any, Final
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from .errors import NotFoundError, RefusedError, TooLargeError, UpstreamError

MAX_REDIRECTS: Final = 5
MAX_API_RESPONSE: Final = 1024 * 1024
CHUNK: Final = 256 * 1024
TIMEOUT: Final = aiohttp.ClientTimeout(total=300, sock_connect=20)
_OWNER_REPO_RE: Final = re.compile(r"(?:.*[/:])?([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?")


@dataclass(frozen=True, slots=True)
class ReleaseAsset:
    """A downloadable asset of one release."""

    tag: str
    name: str
    asset_id: str
    size: int
    download_url: str
    api_style: bool
    """GitHub's API URL (needs ``Accept: application/octet-stream``)."""


@dataclass(frozen=True, slots=True)
class DownloadedAsset:
    """An asset on disk, with its hash."""

    path: Path
    name: str
    size: int
    sha256: str


def default_api_url(clone_url: str) -> str:
    """Return the releases API root a clone URL's host most likely has.

    ``github.com`` → ``https://api.github.com``; any other host is taken for a Gitea
    (``https://HOST/api/v1``). Set ``api_url`` on the repository for anything else.
    """
    if "://" in clone_url:
        host = urlsplit(clone_url).hostname or ""
    else:
        host = clone_url.split("@", 1)[-1].split(":", 1)[0]
    if host.lower() == "github.com":
        return "https://api.github.com"
    return f"https://{host}/api/v1"


def owner_and_repo(clone_url: str) -> tuple[str, str]:
    """Return the ``owner/repo`` part of a clone URL."""
    path = urlsplit(clone_url).path if "://" in clone_url else clone_url.split(":", 1)[-1]
    match = _OWNER_REPO_RE.fullmatch(path)
    if match is None:
        raise RefusedError(
            f"cannot tell owner/repository from {clone_url!r}; "
            "set api_url and a URL ending in owner/repo"
        )
    return match.group(1), match.group(2)


class ReleasesClient:
    """Looks up and downloads release assets."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        """Use ``session`` for every request."""
        self._session = session

    def _headers(self, token: str | None, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": "makerhub-firmware"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def find_asset(
        self, api_url: str, clone_url: str, tags: list[str], asset_name: str, token: str | None
    ) -> ReleaseAsset:
        """Return the asset named ``asset_name`` of the first release among ``tags``."""
        if not tags:
            raise NotFoundError(
                f"no tag points at this commit, so it has no release with {asset_name}"
            )
        owner, repo = owner_and_repo(clone_url)
        for tag in tags:
            base = f"{api_url.rstrip('/')}/repos/{quote(owner)}/{quote(repo)}"
            url = f"{base}/releases/tags/{quote(tag, safe='')}"
            release = await self._get_json(url, token)
            if release is None:
                continue
            for asset in release.get("assets") or []:
                if isinstance(asset, dict) and asset.get("name") == asset_name:
                    return _asset(tag, asset)
            raise NotFoundError(f"release {tag} has no asset named {asset_name}")
        raise NotFoundError(f"no release for tag {', '.join(tags)}; {asset_name} is not available")

    async def _get_json(self, url: str, token: str | None) -> dict[str, Any] | None:
        try:
            async with self._session.get(
                url,
                headers=self._headers(token, "application/vnd.github+json"),
                timeout=TIMEOUT,
                allow_redirects=False,
            ) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise UpstreamError(f"releases API answered {response.status} for {url}")
                body = await response.content.read(MAX_API_RESPONSE + 1)
        except aiohttp.ClientError as err:
            raise UpstreamError(f"releases API unreachable: {err}") from None
        if len(body) > MAX_API_RESPONSE:
            raise UpstreamError("releases API answer is too large")
        try:
            data = json.loads(body)
        except ValueError:
            raise UpstreamError("releases API answered invalid JSON") from None
        if not isinstance(data, dict):
            raise UpstreamError("releases API answered something that is not a release")
        return data

    async def download(
        self, asset: ReleaseAsset, directory: Path, max_size: int, token: str | None
    ) -> DownloadedAsset:
        """Stream ``asset`` into ``directory`` (refusing it over ``max_size`` bytes)."""
        if asset.size > max_size:
            raise TooLargeError(
                f"release asset {asset.name} is {asset.size} bytes, over {max_size}"
            )
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        partial = directory / f".{secrets.token_hex(8)}.part"
        digest = hashlib.sha256()
        size = 0
        url = asset.download_url
        origin = _origin(url)
        accept = "application/octet-stream"
        try:
            for _ in range(MAX_REDIRECTS + 1):
                send_token = token if _origin(url) == origin else None
                async with self._session.get(
                    url,
                    headers=self._headers(send_token, accept),
                    timeout=TIMEOUT,
                    allow_redirects=False,
                ) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        url = str(response.url.join(URL(response.headers["Location"])))
                        continue
                    if response.status != 200:
                        raise UpstreamError(f"asset download answered {response.status}")
                    with partial.open("wb") as file:
                        async for chunk in response.content.iter_chunked(CHUNK):
                            size += len(chunk)
                            if size > max_size:
                                raise TooLargeError(
                                    f"release asset {asset.name} is over {max_size} bytes"
                                )
                            digest.update(chunk)
                            file.write(chunk)
                    break
            else:
                raise UpstreamError("asset download: too many redirects")
        except aiohttp.ClientError as err:
            partial.unlink(missing_ok=True)
            raise UpstreamError(f"asset download failed: {err}") from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        sha256 = digest.hexdigest()
        final = directory / f"{sha256}.bin"
        partial.replace(final)
        return DownloadedAsset(final, asset.name, size, sha256)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or ""), parts.port


def _asset(tag: str, data: dict[str, Any]) -> ReleaseAsset:
    size = data.get("size")
    if not isinstance(size, int) or size < 0:
        raise UpstreamError("releases API: asset without a valid size")
    if isinstance(data.get("url"), str) and "/releases/assets/" in data["url"]:
        return ReleaseAsset(tag, data["name"], str(data.get("id")), size, data["url"], True)
    download = data.get("browser_download_url")
    if not isinstance(download, str) or not download.startswith(("https://", "http://")):
        raise UpstreamError("releases API: asset without a download URL")
    return ReleaseAsset(tag, data["name"], str(data.get("id")), size, download, False)
