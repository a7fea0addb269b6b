"""The real recorder service and a real RTSP camera as processes, for the integration's tests.

:func:`recorder_service` starts ``python -m makerhub_recorder`` (``dev/processes``) with a
data folder of its own and no free-space floor, and stops it and removes the folder at the
end. :func:`rtsp_camera` runs GStreamer's RTSP server with a clock on the picture
(``dev/processes/rtsp_camera.py``); several clients may watch it at once, and
``camera.kill()`` / ``camera.start()`` make it go away and come back at the same address.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from pathlib import Path
import shutil
import tempfile

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
