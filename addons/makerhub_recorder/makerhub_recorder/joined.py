"""A whole recording as one file: its finished segments joined with ffmpeg's concat
demuxer and ``-c copy`` (nothing re-encoded), built on demand.

The file is a cache beside the segments (``<camera>/joined/``), named after the recording
and the segments it holds, so a recording still running is joined again once it has new
segments; only the newest :data:`KEEP_JOINED` files of a camera are kept. A recording is
joined up to :data:`MAX_JOINED_SECONDS` and :data:`MAX_JOINED_BYTES` (a longer one plays
segment by segment). Paths come from a checked recording id and the service's own
segment index, never from the request.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
import re
from typing import Final

from . import ffmpeg
from .camera import CameraRecorder
from .errors import InvalidRequestError, NotFoundError, RefusedError, UnavailableError

MAX_JOINED_SECONDS: Final = 2 * 3600
MAX_JOINED_BYTES: Final = 4 * 1024**3
KEEP_JOINED: Final = 2
JOIN_LIMIT: Final = 600.0
"""Seconds a join may take (it only copies)."""
RECORDING_ID_RE: Final = re.compile(r"\d{13}-[0-9a-f]{4}")


def check_recording_id(value: str) -> str:
    """Return ``value`` if it is a recording id, else raise :class:`InvalidRequestError`."""
    if RECORDING_ID_RE.fullmatch(value) is None:
        raise InvalidRequestError(f"recording: {value[:40]!r} is not a recording id")
    return value


class JoinedRecordings:
    """Builds whole-recording files, one at a time per camera."""

    def __init__(self) -> None:
        """No join running."""
        self._locks: dict[str, asyncio.Lock] = {}

    async def build(self, recorder: CameraRecorder, recording_id: str) -> Path:
        """Return the recording's segments joined in one MP4 (built if not yet)."""
        camera = recorder.camera.id
        span = next((s for s in recorder.state.spans if s.id == recording_id), None)
        if span is None:
            raise NotFoundError(f"no recording {recording_id} of camera {camera}")
        end = recorder.now() if span.end is None else span.end
        segments = list(recorder.segments_between(span.start, end))
        if not segments:
            raise NotFoundError(f"recording {recording_id} has no finished segment yet")
        seconds = sum(segment.end - segment.start for segment in segments)
        size = sum(segment.size for segment in segments)
        if seconds > MAX_JOINED_SECONDS or size > MAX_JOINED_BYTES:
            raise RefusedError(
                f"recording {recording_id}: {seconds:.0f} s, {size} bytes; one file is made "
                f"of at most {MAX_JOINED_SECONDS} s and {MAX_JOINED_BYTES} bytes "
                "(play its segments)"
            )
        names = "\n".join(segment.name for segment in segments)
        digest = hashlib.sha256(names.encode()).hexdigest()[:12]
        folder = recorder.settings.media_dir / camera / "joined"
        output = folder / f"{recording_id}-{digest}.mp4"
        async with self._locks.setdefault(camera, asyncio.Lock()):
            if output.exists():
                return output
            folder.mkdir(parents=True, exist_ok=True)
            listing = folder / ".segments.txt"
            listing.write_text(
                "".join(f"file '{recorder.folder / segment.name}'\n" for segment in segments)
            )
            temporary = folder / f".{output.name}.tmp"
            code, error = await ffmpeg.run(
                ffmpeg.concat_command(recorder.settings.ffmpeg, listing, temporary, spaced=True),
                JOIN_LIMIT,
            )
            listing.unlink(missing_ok=True)
            if code != 0:
                temporary.unlink(missing_ok=True)
                raise UnavailableError(f"recording {recording_id}: not joined ({error})")
            temporary.rename(output)
            _keep_newest(folder)
        return output


def _keep_newest(folder: Path) -> None:
    """Delete all but the newest :data:`KEEP_JOINED` joined files of the folder."""
    files = sorted(folder.glob("*.mp4"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in files[KEEP_JOINED:]:
        old.unlink(missing_ok=True)
