"""The service as a process (as DOCS.md runs it): kill -9 mid-segment loses nothing served."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import time

import pytest

from dev.processes.recorder_process import RecorderServiceProcess
from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.recorder_service import decodes, ffprobe, recorder_service, rtsp_camera

from .conftest import TOKEN


def poll(check: object, timeout: float = 60.0, what: str = "condition") -> object:
    """Poll a function until it answers something true."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()  # type: ignore[operator]
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.25)


@pytest.fixture
def recorder_process(socket_enabled: None, tmp_path: Path) -> Iterator[RecorderServiceProcess]:
    process = RecorderServiceProcess(
        tmp_path / "data",
        TOKEN,
        extra_args=("--segment-seconds", "2", "--pre-roll", "2", "--free-floor-gib", "0"),
    )
    process.start()
    yield process
    process.stop()


def test_kill_9_mid_segment(recorder_process: RecorderServiceProcess, camera: RtspCamera) -> None:
    status, answer = recorder_process.call("POST", "/api/cameras", {"source": camera.url})
    assert status == 201, answer
    camera_id = answer["id"]
    assert recorder_process.call("POST", f"/api/cameras/{camera_id}/recording/start")[0] == 200
    folder = tmp_folder(recorder_process, camera_id)

    def listed() -> list[dict[str, object]]:
        recordings = recorder_process.call("GET", f"/api/cameras/{camera_id}/recordings")[1]
        return list(recordings[0]["segments"]) if recordings else []

    poll(lambda: len(listed()) >= 3, what="three finished segments")
    # Mid-segment: a segment file exists that is not listed (being written).
    poll(
        lambda: {p.name for p in folder.glob("*.mp4")} - {s["name"] for s in listed()},
        what="a segment being written",
    )
    recorder_process.kill()
    names = {str(s["name"]) for s in listed_from_disk(folder)}
    partial = {p.name for p in folder.glob("*.mp4")} - names
    assert partial, "the segment being written when killed is on disk"
    for name in names:
        assert decodes(folder / name), name

    recorder_process.start()
    status, recordings = recorder_process.call("GET", f"/api/cameras/{camera_id}/recordings")
    served = {s["name"] for s in recordings[0]["segments"]}
    assert served >= names - {n for n in names if not (folder / n).exists()}
    assert not served & partial
    for name in partial:
        status, _ = recorder_process.fetch(f"/api/cameras/{camera_id}/segments/{name}")
        assert status == 404
        assert not (folder / name).exists()
    for name in served:
        status, body = recorder_process.fetch(f"/api/cameras/{camera_id}/segments/{name}")
        assert status == 200
        assert body == (folder / name).read_bytes()
        assert float(ffprobe(folder / name)["duration"]) > 0
    # The recording was still on: it records again by itself.
    poll(
        lambda: (
            recorder_process.call("GET", f"/api/cameras/{camera_id}")[1]["status"] == "recording"
        ),
        what="recording again",
    )
    poll(lambda: len(listed()) > len(served), what="new segments after the restart")


def tmp_folder(process: RecorderServiceProcess, camera_id: str) -> Path:
    return process.data_dir / "recordings" / camera_id / "segments"


def listed_from_disk(folder: Path) -> list[dict[str, str]]:
    return [
        {"name": line.split(",", 1)[0]}
        for listing in folder.glob("*.csv")
        for line in listing.read_text().splitlines()
        if line
    ]


def test_several_clients_of_one_camera_at_once(socket_enabled: None) -> None:
    """Two recorder services and a snapshot watch the same RTSP camera at the same time."""
    with (
        rtsp_camera(width=320, height=240) as camera,
        recorder_service() as first,
        recorder_service() as second,
    ):
        ids = []
        for service in (first, second):
            status, answer = service.call("POST", "/api/cameras", {"source": camera.url})
            assert status == 201, answer
            ids.append(answer["id"])
        assert ids[0] == ids[1]  # the same stream is the same camera, wherever recorded
        for service in (first, second):
            assert service.call("POST", f"/api/cameras/{ids[0]}/recording/start")[0] == 200
        for service in (first, second):

            def two_segments(service: RecorderServiceProcess = service) -> bool:
                recordings = service.call("GET", f"/api/cameras/{ids[0]}/recordings")[1]
                return bool(recordings) and len(recordings[0]["segments"]) >= 2

            poll(two_segments, what="two segments in each service")
            recordings = service.call("GET", f"/api/cameras/{ids[0]}/recordings")[1]
            name = recordings[0]["segments"][0]["name"]
            status, body = service.fetch(f"/api/cameras/{ids[0]}/segments/{name}")
            assert status == 200
            path = service.data_dir / "recordings" / ids[0] / "segments" / name
            assert body == path.read_bytes()
            probe = ffprobe(path)
            assert (probe["width"], probe["height"]) == (320, 240)
            status, jpeg = service.fetch(f"/api/cameras/{ids[0]}/snapshot")
            assert status == 200
            assert jpeg.startswith(b"\xff\xd8")
