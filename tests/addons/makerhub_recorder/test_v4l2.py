"""V4L2 cameras without a V4L2 device: the kernel here has no ``v4l2loopback`` (and no
module folder to load it from), so no device can give pictures. What can be checked is:
a real character device node (major 81, video4linux) is taken as a V4L2 camera, the
ffmpeg command reads it with ``-f v4l2`` and re-encodes to MJPEG (raw frames cannot be
copied into MP4), and the service runs the real ffmpeg on it, which fails to open the
driverless node: the camera is reported reconnecting with ffmpeg's error, nothing is
recorded, and it keeps trying. Recording real V4L2 pictures is untested (docs/cameras.md).
"""

from __future__ import annotations

import os
from pathlib import Path
import stat

from makerhub_recorder.ffmpeg import input_args, record_command
from makerhub_recorder.validation import parse_source
import pytest

from .conftest import ServiceFactory, wait_until

VIDEO4LINUX_MAJOR = 81


@pytest.fixture
def device_root(tmp_path: Path) -> Path:
    """A device folder with ``video0``: a character device node like a webcam's."""
    root = tmp_path / "dev"
    root.mkdir()
    os.mknod(root / "video0", stat.S_IFCHR | 0o660, os.makedev(VIDEO4LINUX_MAJOR, 0))
    return root


def test_a_device_node_is_read_with_v4l2_and_encoded_to_mjpeg(
    device_root: Path, tmp_path: Path
) -> None:
    node = device_root / "video0"
    assert stat.S_ISCHR(node.stat().st_mode)
    source = parse_source(str(node), [device_root])
    assert (source.kind, source.url, source.identity) == ("v4l2", str(node), str(node))
    assert input_args(source, 5.0) == ["-f", "v4l2", "-i", str(node)]
    command = record_command("ffmpeg", source, tmp_path, "run", segment_seconds=2.0, timeout=5.0)
    i = command.index("-i")
    assert command[i - 2 : i + 2] == ["-f", "v4l2", "-i", str(node)]
    assert command[command.index("-c:v") + 1] == "mjpeg"
    assert "copy" not in command
    assert "-protocol_whitelist" not in command
    assert command[-1] == str(tmp_path / "run-%06d.mp4")


async def test_a_driverless_device_is_reported_not_recorded(
    make_service: ServiceFactory, device_root: Path
) -> None:
    service = await make_service(device_roots=(device_root,))
    camera_id = await service.add_camera(str(device_root / "video0"), name="Webcam")
    camera = await service.camera(camera_id)
    assert camera["source"] == str(device_root / "video0")

    async def failed() -> dict[str, object] | None:
        answer = await service.camera(camera_id)
        return answer if answer["last_error"] and answer["reconnects"] >= 1 else None

    answer = await wait_until(failed, what="ffmpeg to fail on the node and retry")
    assert answer["status"] == "reconnecting"
    assert "No such device" in str(answer["last_error"])
    assert answer["gaps"][0]["end"] is None
    assert not list(service.service.get(camera_id).folder.glob("*.mp4"))
