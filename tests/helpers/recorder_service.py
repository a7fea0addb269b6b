"""The real recorder service and a real RTSP camera as processes, for the integration's tests.

:func:`recorder_service` starts ``python -m makerhub_recorder`` (``dev/processes``) with a
data folder of its own and no free-space floor, and stops it and removes the folder at the
end. :func:`rtsp_camera` runs GStreamer's RTSP server with a clock on the picture
(``dev/processes/rtsp_camera.py``); several clients may watch it at once, and
``camera.kill()`` / ``camera.start()`` make it go away and come back at the same address.
:func:`ffprobe` and :func:`decodes` check a recorded file with the real tools;
:func:`small_tmpfs` is a small disk to fill.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import json
from pathlib import Path
import shutil
import subprocess
import tempfile
from typing import Any

from dev.processes.recorder_process import RecorderServiceProcess
from dev.processes.rtsp_camera import RtspCamera

TOKEN = "recorder-token-0123456789abcdef"


@contextlib.contextmanager
def recorder_service(token: str = TOKEN, *extra_args: str) -> Iterator[RecorderServiceProcess]:
    """Run the service until the block ends (2 s segments, 4 s pre-roll, no floor)."""
    root = Path(tempfile.mkdtemp(prefix="mhr-ha-"))
    service = RecorderServiceProcess(
        root / "data",
        token,
        extra_args=("--segment-seconds", "2", "--pre-roll", "4", "--free-floor-gib", "0",
                    *extra_args),
    )  # fmt: skip
    try:
        service.start()
        yield service
    finally:
        service.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def small_tmpfs(mount: Path, size: str = "6m") -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``mount`` (created; the tests run as root) until the
    block ends: a small real file system for the free-space floor."""
    mount.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@contextlib.contextmanager
def rtsp_camera(
    width: int = 640, height: int = 360, fps: int = 15, login: tuple[str, str] | None = None
) -> Iterator[RtspCamera]:
    """Serve a test camera until the block ends (a keyframe a second; ``login``: the user
    and password it requires)."""
    camera = RtspCamera(width=width, height=height, fps=fps, keyframe=fps, login=login)
    camera.start()
    try:
        yield camera
    finally:
        camera.kill()


def ffprobe(path: Path) -> dict[str, Any]:
    """The file's format and first video stream, with packets counted; fails if unreadable."""
    result = subprocess.run(
        [
            "ffprobe", "-v", "error", "-count_packets", "-show_entries",
            "format=duration,format_name:stream=codec_name,width,height,nb_read_packets",
            "-select_streams", "v:0", "-of", "json", str(path),
        ],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, f"{path}: {result.stderr}"
    data = json.loads(result.stdout)
    assert data.get("streams"), f"{path}: no video stream"
    return {**data["format"], **data["streams"][0]}


def decodes(path: Path) -> bool:
    """Whether ffmpeg decodes every frame of the file without an error."""
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    return result.returncode == 0 and not result.stderr.strip()
