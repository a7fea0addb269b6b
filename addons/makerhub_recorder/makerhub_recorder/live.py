"""The live stream of an RTSP camera, restreamed by the service (``-c copy``, MPEG-TS).

Home Assistant's stream component plays it: the camera's credentials stay in the service,
and Home Assistant is given a live address signed with the API token instead of the
token itself (:func:`live_signature`): it opens one camera's live stream until it expires
(at most :data:`MAX_LIVE_URL_SECONDS` ahead), so the address cannot be used for anything
else, nor for ever. A viewer is one ffmpeg reading the camera (the recording's own ffmpeg
is never disturbed); at most :data:`MAX_LIVE_VIEWERS` per camera.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
import hashlib
import hmac
from typing import Final

from aiohttp import web

from . import ffmpeg
from .camera import CameraRecorder, die_with_parent
from .errors import RefusedError, UnauthorizedError, UnavailableError

MAX_LIVE_VIEWERS: Final = 4
MAX_LIVE_URL_SECONDS: Final = 3 * 86400
"""A signed live address must expire within this: none is valid for ever."""
CHUNK: Final = 64 * 1024
FIRST_DATA_GRACE: Final = 10.0
"""Seconds on top of the connect timeout until the camera's first bytes."""


def live_signature(token: str, camera: str, expires: int) -> str:
    """The ``auth`` of a camera's live address valid until ``expires`` (Unix time)."""
    message = f"live\n{camera}\n{expires}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def check_live_signature(token: str, camera: str, expires_text: str, auth: str, now: float) -> None:
    """Accept a signed live address or raise :class:`UnauthorizedError` saying why."""
    try:
        expires = int(expires_text)
    except ValueError:
        raise UnauthorizedError("expires: Unix time, an integer") from None
    if expires < now:
        raise UnauthorizedError("the live address has expired")
    if expires > now + MAX_LIVE_URL_SECONDS:
        raise UnauthorizedError(f"expires: at most {MAX_LIVE_URL_SECONDS} s ahead")
    if not hmac.compare_digest(auth.encode(), live_signature(token, camera, expires).encode()):
        raise UnauthorizedError("invalid live address signature")


class LiveViewers:
    """How many viewers each camera has now."""

    def __init__(self) -> None:
        """No viewers."""
        self._viewers: dict[str, int] = {}

    def count(self, camera: str) -> int:
        """The camera's viewers now."""
        return self._viewers.get(camera, 0)

    @contextlib.contextmanager
    def viewer(self, camera: str) -> Iterator[None]:
        """Count a viewer while the block runs (refused beyond :data:`MAX_LIVE_VIEWERS`)."""
        if self._viewers.get(camera, 0) >= MAX_LIVE_VIEWERS:
            raise UnavailableError(f"camera {camera}: {MAX_LIVE_VIEWERS} live viewers already")
        self._viewers[camera] = self._viewers.get(camera, 0) + 1
        try:
            yield
        finally:
            self._viewers[camera] -= 1


async def serve_live(
    request: web.Request, recorder: CameraRecorder, viewers: LiveViewers
) -> web.StreamResponse:
    """Stream the camera as MPEG-TS until the viewer or the camera goes away."""
    source = recorder.camera.source
    if source.kind != "rtsp":
        raise RefusedError(f"camera {recorder.camera.id}: a live stream of RTSP cameras only")
    settings = recorder.settings
    with viewers.viewer(recorder.camera.id):
        process = await asyncio.create_subprocess_exec(
            *ffmpeg.live_command(settings.ffmpeg, source, settings.connect_timeout),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=die_with_parent,
        )
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            try:
                first = await asyncio.wait_for(
                    process.stdout.read(CHUNK), settings.connect_timeout + FIRST_DATA_GRACE
                )
            except TimeoutError:
                first = b""
            if not first:
                await CameraRecorder.end_process(process)
                error = (await process.stderr.read()).decode(errors="replace").strip()
                error = error.replace(source.url, source.redacted)[-300:]
                raise UnavailableError(f"camera {recorder.camera.id}: no live stream ({error})")
            response = web.StreamResponse(
                headers={"Content-Type": "video/mp2t", "Cache-Control": "no-store"}
            )
            await response.prepare(request)
            chunk = first
            with contextlib.suppress(ConnectionError):
                while chunk:
                    await response.write(chunk)
                    chunk = await process.stdout.read(CHUNK)
            return response
        finally:
            await CameraRecorder.end_process(process)
