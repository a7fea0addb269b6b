"""One camera's recorder: ffmpeg always running, segments indexed, the stream watched.

The camera is recorded all the time into short segments (``segment_seconds``); what is
not part of a recording is deleted once it is older than the pre-roll, so a recording
(started by a person or an event) begins ``pre_roll`` seconds before it was asked for.
A recording is a :class:`~.store.Span` of time; its files are the finished segments that
overlap it.

The watchdog reads ffmpeg's progress: when the output time has not advanced for
``stall_timeout`` seconds (or ffmpeg exits) the run is ended, the gap opened, and a new
run started after a back-off that doubles up to ``reconnect_max``; the first progress of
a new run closes the gap. Segment times are wall-clock: a finished segment ends when its
file was last written and lasts what ffmpeg's list says.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable, Iterator
import contextlib
import ctypes
from dataclasses import dataclass
import logging
from pathlib import Path
import secrets
import signal
from typing import Any, Final

from . import ffmpeg
from .errors import NotFoundError, UnavailableError
from .settings import Settings
from .store import Camera, CameraState, Gap, Span, Store

_LOGGER = logging.getLogger(__name__)

STATUSES: Final = ("recording", "idle", "reconnecting", "error")
STOP_GRACE: Final = 5.0
_PR_SET_PDEATHSIG: Final = 1


def die_with_parent() -> None:
    """In the child: be killed when the service dies, even by ``kill -9``."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class Segment:
    """A finished segment file."""

    name: str
    start: float
    end: float
    size: int

    def to_api(self) -> dict[str, Any]:
        """As answered."""
        return {"name": self.name, "start": self.start, "end": self.end, "size": self.size}


def overlaps(span: Span, start: float, end: float, now: float) -> bool:
    """Whether ``[start, end)`` meets the span."""
    span_end = now if span.end is None else span.end
    return span.start < end and start < span_end


class CameraRecorder:
    """Records one camera (see the module's docstring)."""

    def __init__(
        self,
        camera: Camera,
        settings: Settings,
        store: Store,
        now: Callable[[], float],
    ) -> None:
        """Load the camera's state and its finished segments from disk."""
        self.camera = camera
        self.settings = settings
        self.store = store
        self.now = now
        self.state: CameraState = store.load_state(camera.id)
        self.folder = settings.media_dir / camera.id / "segments"
        self.segments: list[Segment] = []
        """Finished segments, by start."""
        self.used_bytes = 0
        self._by_name: dict[str, Segment] = {}
        self._pruned_before = float("-inf")
        self.connected = False
        self.last_error: str | None = None
        self.reconnects = 0
        self.deleted_partial = 0
        self._list_offsets: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._run: str | None = None
        self._errors_task: asyncio.Task[None] | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._load_segments()

    # --- what it reports ---------------------------------------------------------------

    @property
    def pre_roll(self) -> float:
        """Seconds kept before a recording starts."""
        return self.settings.pre_roll if self.camera.pre_roll is None else self.camera.pre_roll

    @property
    def recording(self) -> bool:
        """Whether a recording is running now."""
        now = self.now()
        return any(span.end is None or span.end > now for span in self.state.spans)

    @property
    def open_gap(self) -> Gap | None:
        """The gap going on, if the camera is lost."""
        if self.state.gaps and self.state.gaps[-1].end is None:
            return self.state.gaps[-1]
        return None

    @property
    def status(self) -> str:
        """``recording``, ``idle``, ``reconnecting`` or ``error``."""
        if self.connected:
            return "recording" if self.recording else "idle"
        gap = self.open_gap
        if gap is not None and self.now() - gap.start >= self.settings.lost_after:
            return "error"
        return "reconnecting"

    def to_api(self) -> dict[str, Any]:
        """The camera with its status."""
        return {
            **self.camera.to_api(),
            "status": self.status,
            "recording": self.recording,
            "active": self.state.active,
            "project": self.state.project,
            "last_error": self.last_error,
            "reconnects": self.reconnects,
            "gaps": [{"start": g.start, "end": g.end} for g in self.state.gaps[-20:]],
            "used_bytes": self.used_bytes,
            "oldest_recording": self.oldest_recording(),
        }

    # --- recordings --------------------------------------------------------------------

    def oldest_recording(self) -> float | None:
        """When the oldest segment that belongs to a recording starts."""
        kept = self.kept_test()
        for segment in self.segments:
            if kept(segment):
                return segment.start
        return None

    def kept_test(self) -> Callable[[Segment], bool]:
        """:meth:`is_kept` for many segments at once: the recordings merged, then bisection."""
        merged: list[list[float]] = []
        for span in sorted(self.state.spans, key=lambda span: span.start):
            end = float("inf") if span.end is None else span.end
            if merged and span.start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([span.start, end])
        starts = [interval[0] for interval in merged]

        def kept(segment: Segment) -> bool:
            index = bisect.bisect_left(starts, segment.end) - 1
            return index >= 0 and merged[index][1] > segment.start

        return kept

    def segments_between(self, start: float, end: float) -> Iterator[Segment]:
        """The finished segments that overlap ``[start, end)``."""
        longest = max(60.0, 4 * self.settings.segment_seconds)
        segments = self.segments
        index = bisect.bisect_left(segments, start - longest, key=lambda s: s.start)
        for position in range(index, len(segments)):
            segment = segments[position]
            if segment.start >= end:
                break
            if segment.end > start:
                yield segment

    def is_kept(self, segment: Segment) -> bool:
        """Whether the segment belongs to a recording (else it is pre-roll buffer)."""
        now = self.now()
        return any(overlaps(span, segment.start, segment.end, now) for span in self.state.spans)

    def start_recording(self) -> Span:
        """Start recording until stopped (a running recording is returned as it is)."""
        for span in self.state.spans:
            if span.kind == "continuous" and span.end is None:
                return span
        return self._add_span(self.now() - self.pre_roll, None, "continuous")

    def stop_recording(self) -> Span | None:
        """End the running recording (clips go on to their end)."""
        stopped = None
        for span in self.state.spans:
            if span.kind == "continuous" and span.end is None:
                span.end = self.now()
                stopped = span
        self.save_state()
        return stopped

    def record_clip(self, duration: float, pre_roll: float | None) -> Span:
        """Record ``pre_roll`` seconds before now (at most the buffer) and ``duration`` after."""
        before = self.pre_roll if pre_roll is None else min(pre_roll, self.pre_roll)
        now = self.now()
        return self._add_span(now - before, now + duration, "clip")

    def _add_span(self, start: float, end: float | None, kind: str) -> Span:
        span = Span(f"{int(start * 1000):013d}-{secrets.token_hex(2)}", start, end, kind)
        self.state.spans.append(span)
        self.save_state()
        return span

    def recordings(self, day: str | None = None) -> list[dict[str, Any]]:
        """Every recording with its finished segments and the gaps inside it."""
        from .timelapse import day_of

        now = self.now()
        answer = []
        for span in self.state.spans:
            if day is not None and day_of(span.start) != day:
                continue
            end = now if span.end is None else span.end
            segments = list(self.segments_between(span.start, end))
            gaps = [
                {"start": g.start, "end": g.end}
                for g in self.state.gaps
                if g.start < end and (g.end is None or g.end > span.start)
            ]
            answer.append(
                {
                    "id": span.id,
                    "camera": self.camera.id,
                    "kind": span.kind,
                    "start": span.start,
                    "end": span.end,
                    "day": day_of(span.start),
                    "segments": [s.to_api() for s in segments],
                    "gaps": gaps,
                }
            )
        return answer

    def segment_path(self, name: str) -> Path:
        """The file of a finished segment (an unfinished or unknown one is not found)."""
        if name not in self._by_name:
            raise NotFoundError(f"no finished segment {name!r} of camera {self.camera.id}")
        return self.folder / name

    def delete_segments(self, names: set[str]) -> None:
        """Delete finished segments' files (one pass over the index, however many)."""
        for name in names:
            (self.folder / name).unlink(missing_ok=True)
            segment = self._by_name.pop(name, None)
            if segment is not None:
                self.used_bytes -= segment.size
        self.segments = [s for s in self.segments if s.name not in names]

    def drop_empty_spans(self) -> None:
        """Forget closed recordings none of whose segments is left."""
        now = self.now()
        before = len(self.state.spans)
        self.state.spans = [
            span
            for span in self.state.spans
            if span.end is None
            or span.end > now - self.pre_roll - 2 * self.settings.segment_seconds
            or any(self.segments_between(span.start, now if span.end is None else span.end))
        ]
        if len(self.state.spans) != before:
            self.save_state()

    def save_state(self) -> None:
        """Store the camera's state."""
        self.store.save_state(self.camera.id, self.state)

    def latest_segment(self) -> Segment:
        """The newest finished segment, if the camera is giving pictures now."""
        fresh = 2 * self.settings.segment_seconds + self.settings.stall_timeout
        if not self.segments or self.segments[-1].end < self.now() - fresh:
            raise UnavailableError(f"camera {self.camera.id} gives no picture now ({self.status})")
        return self.segments[-1]

    async def snapshot(self, output: Path) -> None:
        """Write the latest picture as a JPEG (decoded from the newest finished segment)."""
        segment = self.latest_segment()
        code, error = await ffmpeg.run(
            ffmpeg.frame_command(self.settings.ffmpeg, self.folder / segment.name, output), 30
        )
        if code != 0 or not await asyncio.to_thread(output.exists):
            raise UnavailableError(f"camera {self.camera.id}: no picture decoded ({error})")

    # --- the segments on disk ----------------------------------------------------------

    def _load_segments(self) -> None:
        """Index the finished segments; delete what a killed run left unfinished."""
        self.folder.mkdir(parents=True, exist_ok=True)
        listed: set[str] = set()
        for listing in sorted(self.folder.glob("*.csv")):
            self._read_list(listing)
            listed.update(self._names_in(listing))
        for file in self.folder.glob("*.mp4"):
            if file.name not in listed:
                _LOGGER.info("camera %s: deleting unfinished %s", self.camera.id, file.name)
                file.unlink(missing_ok=True)
                self.deleted_partial += 1
        self.segments.sort(key=lambda s: s.start)

    @staticmethod
    def _names_in(listing: Path) -> set[str]:
        return {line.split(",", 1)[0] for line in listing.read_text().splitlines() if line}

    def _read_list(self, listing: Path) -> list[Segment]:
        """Read the lines ffmpeg added to a run's list since last time."""
        offset = self._list_offsets.get(listing.name, 0)
        try:
            with listing.open("rb") as file:
                file.seek(offset)
                data = file.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self._list_offsets[listing.name] = offset + len(complete)
        added = []
        for line in complete.decode(errors="replace").splitlines():
            name, _, times = line.partition(",")
            first, _, last = times.partition(",")
            try:
                duration = max(0.0, float(last) - float(first))
                stat = (self.folder / name).stat()
            except (ValueError, OSError):
                continue
            segment = Segment(name, stat.st_mtime - duration, stat.st_mtime, stat.st_size)
            if self.add_segment(segment):
                added.append(segment)
        return added

    def add_segment(self, segment: Segment) -> bool:
        """Index a finished segment (kept in order by the caller); False if known."""
        if segment.name in self._by_name:
            return False
        self._by_name[segment.name] = segment
        self.used_bytes += segment.size
        self.segments.append(segment)
        return True

    def poll(self, run: str | None) -> None:
        """Index the segments the current run finished; drop old pre-roll buffer."""
        if run is not None and self._read_list(self.folder / f"{run}.csv"):
            self.segments.sort(key=lambda s: s.start)
        self.prune_buffer()

    def prune_buffer(self) -> None:
        """Delete segments older than the pre-roll that no recording needs."""
        horizon = self.now() - self.pre_roll - 2 * self.settings.segment_seconds
        # Only what passed the horizon since the last time: older ones were decided then.
        since = self._pruned_before - 2 * self.settings.segment_seconds
        kept = self.kept_test()
        candidates = []
        for segment in reversed(self.segments):
            if segment.end < since:
                break
            if segment.end < horizon and not kept(segment):
                candidates.append(segment)
        if candidates:
            self.delete_segments({segment.name for segment in candidates})
        self._pruned_before = horizon

    # --- the ffmpeg runs ---------------------------------------------------------------

    def start(self) -> None:
        """Start recording in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run_forever(), name=f"camera {self.camera.id}")

    async def stop(self) -> None:
        """Stop ffmpeg (it closes its segment) and the watchdog."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._errors_task is not None and not self._errors_task.done():
            self._errors_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._errors_task
        self.connected = False
        self.poll(self._run)

    async def _run_forever(self) -> None:
        delay = self.settings.reconnect_min
        while True:
            run = f"{int(self.now() * 1000):013d}"
            progressed = await self._record_once(run)
            self.poll(run)
            if progressed:
                delay = self.settings.reconnect_min
            self.connected = False
            self.reconnects += 1
            _LOGGER.warning(
                "camera %s: stream lost (%s); reconnecting in %.0f s",
                self.camera.id, self.last_error, delay,
            )  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.reconnect_max)

    async def _record_once(self, run: str) -> bool:
        """One ffmpeg run, until it ends or stalls; return whether it gave any picture."""
        settings = self.settings
        self._run = run
        command = ffmpeg.record_command(
            settings.ffmpeg, self.camera.source, self.folder, run,
            segment_seconds=settings.segment_seconds, timeout=settings.connect_timeout,
        )  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=die_with_parent,
        )
        self._process = process
        errors = asyncio.create_task(self._read_errors(process))
        self._errors_task = errors
        loop = asyncio.get_running_loop()
        last_progress = loop.time()
        last_wall = self.now()
        out_time = -1
        progressed = False
        try:
            assert process.stdout is not None
            while True:
                try:
                    line = await asyncio.wait_for(process.stdout.readline(), 0.5)
                except TimeoutError:
                    line = None
                if line == b"":
                    break
                if line is not None and line.startswith(b"out_time_us="):
                    with contextlib.suppress(ValueError):
                        value = int(line.split(b"=", 1)[1])
                        if value > out_time:
                            out_time = value
                            last_progress = loop.time()
                            last_wall = self.now()
                            if not progressed:
                                progressed = True
                                self._on_connected()
                self.poll(run)
                limit = settings.stall_timeout
                if not progressed:
                    limit += settings.connect_timeout
                if loop.time() - last_progress > limit:
                    self.last_error = f"no picture for {limit:.0f} s"
                    break
        finally:
            try:
                await self.end_process(process)
            finally:
                errors.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await errors
            if self.last_error is None:
                self.last_error = f"ffmpeg ended (exit code {process.returncode})"
            self._process = None
            if self.open_gap is None:
                self.state.gaps.append(Gap(start=last_wall if progressed else self.now()))
                with contextlib.suppress(OSError):
                    self.save_state()
        return progressed

    def _on_connected(self) -> None:
        self.connected = True
        self.last_error = None
        gap = self.open_gap
        if gap is not None:
            gap.end = self.now()
            self.save_state()
        _LOGGER.info("camera %s: receiving pictures", self.camera.id)

    async def _read_errors(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            text = raw.decode(errors="replace").strip()
            if text:
                self.last_error = text.replace(self.camera.source.url, self.camera.source.redacted)

    @staticmethod
    async def end_process(process: asyncio.subprocess.Process) -> None:
        """SIGTERM (ffmpeg closes its segment and lists it), SIGKILL after a grace time."""
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
