"""ffmpeg command lines: recording, snapshots, time-lapse chunks and their assembly.

The recording pipeline never re-encodes: ``-c copy`` into the segment muxer, fragmented
MP4 (``+frag_keyframe+empty_moov+default_base_moof``) so even a segment cut short by a
``kill -9`` has its headers first. ffmpeg writes a segment's line in the run's CSV list
only once the segment is closed; that list is what "finished" means to the service, and
nothing else is ever served. ``-progress pipe:1`` is the watchdog's heartbeat.

Sources reach ffmpeg only after :func:`validation.parse_source`, always as the argument
of ``-i`` and with the input format or protocol pinned (``-f v4l2``, ``-f mjpeg`` over
``http``; ``-protocol_whitelist`` for RTSP), so a stream address cannot turn into a local
file, a pipe or an option.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
import signal
from typing import Final

from .validation import CameraSource

SEGMENT_FLAGS: Final = "movflags=+frag_keyframe+empty_moov+default_base_moof"
RTSP_PROTOCOLS: Final = "rtsp,rtsps,rtp,udp,tcp,tls,srtp,https,http,crypto"
HTTP_PROTOCOLS: Final = "http,https,tcp,tls"
QUICK_START: Final = ("-analyzeduration", "1000000", "-probesize", "1000000")
"""Probe a second of stream at most: pictures flow (and count) sooner after a connect."""
TIMELAPSE_ENCODE: Final = (
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
    "-profile:v", "high", "-bf", "0", "-video_track_timescale", "90000",
)  # fmt: skip
"""Every chunk of a time-lapse is encoded alike, so chunks join with ``-c copy``."""


def input_args(source: CameraSource, timeout: float) -> list[str]:
    """ffmpeg's input options and ``-i`` for a camera.

    MJPEG over HTTP carries no timestamps: the frames get the time they arrived.
    """
    micros = str(int(timeout * 1_000_000))
    if source.kind == "rtsp":
        return [
            "-protocol_whitelist", RTSP_PROTOCOLS, "-rtsp_transport", "tcp",
            "-timeout", micros, *QUICK_START, "-i", source.url,
        ]  # fmt: skip
    if source.kind == "mjpeg":
        return [
            "-protocol_whitelist", HTTP_PROTOCOLS, "-rw_timeout", micros, *QUICK_START,
            "-use_wallclock_as_timestamps", "1", "-f", "mpjpeg", "-i", source.url,
        ]  # fmt: skip
    return ["-f", "v4l2", "-i", source.url]


def record_command(
    ffmpeg: str, source: CameraSource, folder: Path, run: str, *, segment_seconds: float,
    timeout: float,
) -> list[str]:  # fmt: skip
    """Record ``source`` into ``folder/<run>-NNNNNN.mp4``, listed in ``folder/<run>.csv``."""
    copy = ["-c", "copy"] if source.kind != "v4l2" else ["-c:v", "mjpeg", "-q:v", "5"]
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
        "-stats_period", "0.25", *input_args(source, timeout),
        "-map", "0:v:0", *copy, "-f", "segment",
        "-segment_time", f"{segment_seconds:g}", "-reset_timestamps", "1",
        "-segment_format", "mp4", "-segment_format_options", SEGMENT_FLAGS,
        "-segment_list", str(folder / f"{run}.csv"), "-segment_list_type", "csv",
        "-progress", "pipe:1",
        str(folder / f"{run}-%06d.mp4"),
    ]  # fmt: skip


def live_command(ffmpeg: str, source: CameraSource, timeout: float) -> list[str]:
    """Restream an RTSP camera's video as MPEG-TS on stdout, without re-encoding."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
        *input_args(source, timeout), "-map", "0:v:0", "-c", "copy",
        "-f", "mpegts", "pipe:1",
    ]  # fmt: skip


def reencode_command(ffmpeg: str, source: CameraSource, output: Path, timeout: float) -> list[str]:
    """The naive baseline: re-encode the stream with libx264 (benchmarks only)."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
        *input_args(source, timeout), "-map", "0:v:0",
        "-c:v", "libx264", "-preset", "veryfast", "-f", "mp4", "-y", str(output),
    ]  # fmt: skip


def frame_command(ffmpeg: str, segment: Path, output: Path) -> list[str]:
    """Write the last picture of a finished segment as a JPEG."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-sseof", "-0.5",
        "-i", str(segment), "-frames:v", "1", "-q:v", "3", "-update", "1", "-y", str(output),
    ]  # fmt: skip


def chunk_command(
    ffmpeg: str, frames: Path, output: Path, *, fps: int, width: int, height: int
) -> list[str]:
    """Encode the JPEG frames of ``frames`` (in name order) into one time-lapse chunk."""
    fit = (
        f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1"
    )
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-framerate", str(fps), "-pattern_type", "glob", "-i", str(frames / "*.jpg"),
        "-vf", fit, "-r", str(fps), "-g", str(fps), *TIMELAPSE_ENCODE,
        "-f", "mp4", "-y", str(output),
    ]  # fmt: skip


SPACED_TIMESTAMPS: Final = r"setts=ts=if(gt(PREV_OUTPTS\,-1)\,max(PTS\,PREV_OUTPTS+DURATION)\,PTS)"
"""Each packet at least its duration after the one before: the first two packets of a
recording run can be one tick apart, which a decoder takes as the same frame twice once
the segments are joined (ffmpeg: *non monotonically increasing dts*). Sets a packet's
decode and presentation time alike, as for the cameras' streams without B-frames."""


def concat_command(ffmpeg: str, listing: Path, output: Path, *, spaced: bool = False) -> list[str]:
    """Join the chunks named in ``listing`` (concat demuxer) without re-encoding
    (``spaced``: with :data:`SPACED_TIMESTAMPS`, for recorded segments)."""
    spacing = ["-bsf:v", SPACED_TIMESTAMPS] if spaced else []
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", *spacing,
        "-movflags", "+faststart", "-f", "mp4", "-y", str(output),
    ]  # fmt: skip


async def run(command: list[str], limit: float = 120.0) -> tuple[int, str]:
    """Run a short ffmpeg job; return its exit code and the end of its error output."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), limit)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        await process.wait()
        return -1, "timed out"
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        await process.wait()
        raise
    return process.returncode or 0, err.decode(errors="replace")[-500:]
