"""A fake HTTP MJPEG camera on 127.0.0.1: ``multipart/x-mixed-replace`` JPEG frames.

Stands in for a network camera's MJPEG endpoint (hardware, so a local fake server): the
frames are ffmpeg's test picture with its frame counter, ``fps`` of them a second, to
every client at once. :func:`mjpeg_camera` yields the stream's URL.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import http.server
from pathlib import Path
import subprocess
import tempfile
import threading
import time

BOUNDARY = b"frame"


def _frames(width: int, height: int, count: int) -> list[bytes]:
    with tempfile.TemporaryDirectory(prefix="mjpeg-") as folder:
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
             f"testsrc=size={width}x{height}:rate=10", "-frames:v", str(count),
             f"{folder}/f%03d.jpg"],
            check=True, timeout=60,
        )  # fmt: skip
        return [path.read_bytes() for path in sorted(Path(folder).glob("f*.jpg"))]


@contextlib.contextmanager
def mjpeg_camera(width: int = 320, height: int = 240, fps: int = 10) -> Iterator[str]:
    """Serve the camera until the block ends; yield its URL."""
    frames = _frames(width, height, 20)
    stopping = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace;boundary=frame")
            self.end_headers()
            index = 0
            with contextlib.suppress(OSError):
                while not stopping.is_set():
                    frame = frames[index % len(frames)]
                    index += 1
                    self.wfile.write(
                        b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\n"
                        + f"Content-Length: {len(frame)}\r\n\r\n".encode() + frame + b"\r\n"
                    )  # fmt: skip
                    self.wfile.flush()
                    time.sleep(1 / fps)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Log nothing."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()
