"""Time-lapses built as the day goes: frames, small chunks, one file per day and project.

While a camera's space is active, a frame is taken every ``timelapse_interval`` seconds
(decoded from the newest finished segment: no second connection to the camera) into
``<camera>/timelapse/<day>/<project>/frames/``. Every ``timelapse_chunk_frames`` frames,
and when the project, the day or the activity changes, the frames are encoded into one
small chunk (``chunks/<first frame>.mp4``, all chunks encoded alike) and deleted. The
day's time-lapse of a project is the chunks joined with ``-c copy`` (cheap, whatever the
length), rebuilt only when a chunk was added. Frames taken while no project is active
go to the project ``_none``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import logging
from pathlib import Path
import shutil
import time
from typing import Any, Final

from . import ffmpeg
from .errors import NotFoundError
from .settings import Settings

_LOGGER = logging.getLogger(__name__)

NO_PROJECT: Final = "_none"
OUTPUT: Final = "timelapse.mp4"


def day_of(timestamp: float) -> str:
    """The local day of a wall-clock time, ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.localtime(timestamp))


@dataclass(frozen=True, slots=True)
class TimelapseKey:
    """One time-lapse: a camera's day of a project."""

    camera: str
    day: str
    project: str


class Timelapses:
    """Every camera's time-lapses under ``<recordings>/<camera>/timelapse``."""

    def __init__(self, settings: Settings) -> None:
        """Work in the settings' recordings folder."""
        self.settings = settings
        self._locks: dict[TimelapseKey, asyncio.Lock] = {}
        self.frames_taken = 0
        self.chunks_built = 0

    def folder(self, key: TimelapseKey) -> Path:
        """The folder of one time-lapse."""
        return self.settings.media_dir / key.camera / "timelapse" / key.day / key.project

    def _lock(self, key: TimelapseKey) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    def frame_path(self, key: TimelapseKey, taken: float) -> Path:
        """Where the frame taken at ``taken`` goes."""
        frames = self.folder(key) / "frames"
        frames.mkdir(parents=True, exist_ok=True)
        return frames / f"{int(taken * 1000):013d}.jpg"

    def pending(self, key: TimelapseKey) -> list[Path]:
        """The frames not encoded yet."""
        return sorted((self.folder(key) / "frames").glob("*.jpg"))

    async def add_frame(self, key: TimelapseKey, segment: Path, taken: float) -> bool:
        """Take a frame from ``segment``; encode a chunk when enough are waiting."""
        output = self.frame_path(key, taken)
        temporary = output.with_name(f"tmp-{output.name}")
        code, error = await ffmpeg.run(
            ffmpeg.frame_command(self.settings.ffmpeg, segment, temporary), 30
        )
        if code != 0 or not temporary.exists():
            temporary.unlink(missing_ok=True)
            _LOGGER.warning("time-lapse %s: no frame decoded (%s)", key, error)
            return False
        temporary.rename(output)
        self.frames_taken += 1
        if len(self.pending(key)) >= self.settings.timelapse_chunk_frames:
            await self.flush(key)
        return True

    async def flush(self, key: TimelapseKey) -> None:
        """Encode the waiting frames into one chunk and delete them."""
        async with self._lock(key):
            frames = self.pending(key)
            if not frames:
                return
            chunks = self.folder(key) / "chunks"
            chunks.mkdir(parents=True, exist_ok=True)
            batch = self.folder(key) / f"batch-{frames[0].stem}"
            shutil.rmtree(batch, ignore_errors=True)
            batch.mkdir()
            for frame in frames:
                frame.rename(batch / frame.name)
            output = chunks / f"{frames[0].stem}.mp4"
            temporary = chunks / f".{frames[0].stem}.mp4.tmp"
            settings = self.settings
            code, error = await ffmpeg.run(
                ffmpeg.chunk_command(
                    settings.ffmpeg,
                    batch,
                    temporary,
                    fps=settings.timelapse_fps,
                    width=settings.timelapse_width,
                    height=settings.timelapse_height,
                )
            )
            if code != 0:
                _LOGGER.error("time-lapse %s: chunk not encoded (%s)", key, error)
                temporary.unlink(missing_ok=True)
                for frame in batch.iterdir():
                    frame.rename(self.folder(key) / "frames" / frame.name)
            else:
                temporary.rename(output)
                self.chunks_built += 1
            shutil.rmtree(batch, ignore_errors=True)

    def chunks(self, key: TimelapseKey) -> list[Path]:
        """The finished chunks, oldest first."""
        return sorted((self.folder(key) / "chunks").glob("*.mp4"))

    async def build(self, key: TimelapseKey) -> Path:
        """The day's time-lapse file: waiting frames encoded, chunks joined (``-c copy``)."""
        await self.flush(key)
        async with self._lock(key):
            chunks = self.chunks(key)
            if not chunks:
                raise NotFoundError(f"no time-lapse of {key.camera} on {key.day} ({key.project})")
            output = self.folder(key) / OUTPUT
            newest = max(chunk.stat().st_mtime for chunk in chunks)
            if output.exists() and output.stat().st_mtime >= newest:
                return output
            listing = self.folder(key) / "chunks.txt"
            listing.write_text("".join(f"file '{chunk}'\n" for chunk in chunks))
            temporary = self.folder(key) / f".{OUTPUT}.tmp"
            code, error = await ffmpeg.run(
                ffmpeg.concat_command(self.settings.ffmpeg, listing, temporary)
            )
            if code != 0:
                temporary.unlink(missing_ok=True)
                raise NotFoundError(f"time-lapse {key.day}/{key.project}: not joined ({error})")
            temporary.rename(output)
            return output

    def listing(
        self, camera: str, day: str | None = None, project: str | None = None
    ) -> list[dict[str, Any]]:
        """The time-lapses of a camera (by day and project)."""
        root = self.settings.media_dir / camera / "timelapse"
        answer = []
        for day_dir in sorted(root.glob("*")) if root.is_dir() else []:
            if day is not None and day_dir.name != day:
                continue
            for project_dir in sorted(day_dir.iterdir()):
                if project is not None and project_dir.name != project:
                    continue
                key = TimelapseKey(camera, day_dir.name, project_dir.name)
                chunks = self.chunks(key)
                frames = self.pending(key)
                if not chunks and not frames:
                    continue
                answer.append(
                    {
                        "camera": camera,
                        "day": key.day,
                        "project": None if key.project == NO_PROJECT else key.project,
                        "chunks": len(chunks),
                        "pending_frames": len(frames),
                        "bytes": folder_size(project_dir),
                    }
                )
        return answer


def folder_size(folder: Path) -> int:
    """The bytes of the files under ``folder``."""
    return sum(file.stat().st_size for file in folder.rglob("*") if file.is_file())
