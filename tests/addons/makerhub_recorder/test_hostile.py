"""Hostile input refused with precise errors, counted, nothing touched."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from makerhub_recorder.errors import InvalidRequestError, RefusedError
from makerhub_recorder.validation import camera_id_for, parse_source
import pytest

from .conftest import TOKEN, Service, wait_until

DEAD = "rtsp://127.0.0.1:9/nothing"  # the discard port: nothing answers


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("file:///etc/passwd", "the file: protocol is refused"),
        ("/etc/passwd", "outside the allowed device roots"),
        ("/dev/../etc/passwd", "outside the allowed device roots"),
        ("/dev", "outside the allowed device roots"),
        ("concat:/etc/passwd|/etc/shadow", "the concat: protocol is refused"),
        ("subfile:,,start,0,end,0,,:/etc/passwd", "the subfile: protocol is refused"),
        ("pipe:0", "the pipe: protocol is refused"),
        ("data:text/plain;base64,AAAA", "the data: protocol is refused"),
        ("tee:rtsp://a/b|file:/tmp/x", "the tee: protocol is refused"),
        ("async:rtsp://h/x", "the async: protocol is refused"),
        ("tcp://127.0.0.1:22", "the tcp: protocol is refused"),
        ("ftp://host/video", "the ftp: protocol is refused"),
        ("-f lavfi", "must not start with '-'"),
        ("-i", "must not start with '-'"),
        ("rtsp://host/a b", "whitespace or control characters"),
        ("rtsp://host/a\nb", "whitespace or control characters"),
        ("rtsp:host/x", "needs '//host'"),
        ("rtsp://", "host missing or invalid"),
        ("http:///x", "host missing or invalid"),
        ("rtsp://ho_st/x", "host missing or invalid"),
        ("rtsp://host:99999/x", "port is not a number"),
        ("rtsp://host:0/x", "port is not a number"),
        ("rtsp://host/x#frag", "fragment"),
        ("video.mp4", "neither a URL"),
        ("rtsp://h/" + "a" * 2100, "longer than 2048"),
    ],
)
def test_sources_refused(source: str, message: str) -> None:
    with pytest.raises(RefusedError) as caught:
        parse_source(source)
    assert message in caught.value.message


def test_source_missing_or_not_text() -> None:
    for value in (None, "", 5, ["rtsp://h/x"]):
        with pytest.raises(InvalidRequestError):
            parse_source(value)


def test_sources_accepted_and_identity_without_credentials(tmp_path: Path) -> None:
    source = parse_source("RTSP://User:p%40ss@Cam.Local:554/stream1?channel=2")
    assert (source.kind, source.identity) == ("rtsp", "rtsp://cam.local:554/stream1?channel=2")
    assert source.url == "rtsp://User:p%40ss@cam.local:554/stream1?channel=2"
    assert source.has_credentials
    same = parse_source("rtsp://other:secret@cam.local:554/stream1?channel=2")
    assert camera_id_for(source, None) == camera_id_for(same, None)
    assert camera_id_for(source, "SN-123.A") == "sn-sn-123-a"
    assert parse_source("https://10.0.0.5/mjpg/video.mjpg").kind == "mjpeg"
    assert parse_source("rtsp://[fe80::1]:8554/x").identity == "rtsp://[fe80::1]:8554/x"
    # A device root: its devices pass, a link out of it does not.
    root = tmp_path / "dev"
    root.mkdir()
    (root / "video0").touch()
    (root / "escape").symlink_to("/etc/passwd")
    assert parse_source(str(root / "video0"), [root]).kind == "v4l2"
    with pytest.raises(RefusedError, match="outside the allowed device roots"):
        parse_source(str(root / "escape"), [root])


async def test_api_refuses_hostile_input(service: Service, tmp_path: Path) -> None:
    for source in ("file:///etc/passwd", "concat:/a|/b", "/etc/passwd", "-f lavfi"):
        status, answer = await service.call("POST", "/api/cameras", json={"source": source})
        assert (status, answer["error"]) == (422, "refused"), source
    status, answer = await service.call("POST", "/api/cameras", json={})
    assert (status, answer["error"]) == (400, "invalid_request")
    status, answer = await service.call("POST", "/api/cameras", json={"source": DEAD, "owner": "x"})
    assert (status, answer["message"]) == (400, "unknown field(s): owner")
    status, answer = await service.call(
        "POST", "/api/cameras", json={"source": DEAD, "serial": "../x"}
    )
    assert (status, answer["error"]) == (422, "refused")
    status, answer = await service.call(
        "POST", "/api/cameras", json={"source": DEAD, "name": "a\x00b"}
    )
    assert (status, answer["message"]) == (422, "name: contains control characters")
    status, answer = await service.call(
        "POST", "/api/cameras", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (status, answer["error"]) == (400, "invalid_request")
    status, answer = await service.call("POST", "/api/cameras", json=["rtsp://h/x"])
    assert (status, answer["message"]) == (400, "body: a JSON object")
    status, answer = await service.call(
        "POST", "/api/cameras", json={"source": DEAD, "pre_roll": 9999}
    )
    assert (status, answer["message"]) == (400, "pre_roll: a number from 0 to 300")
    assert service.service.cameras == {}

    camera_id = await service.add_camera(DEAD)
    status, answer = await service.call("POST", "/api/cameras", json={"source": DEAD})
    assert (status, answer["error"]) == (409, "conflict")
    for path in (
        "/api/cameras/..%2F..%2Fetc",
        "/api/cameras/CAM",
        f"/api/cameras/{camera_id}/segments/..%2Fcameras.json",
        f"/api/cameras/{camera_id}/segments/x.mp4%00",
        f"/api/cameras/{camera_id}/recordings?day=..%2F..",
        f"/api/timelapses/{camera_id}/2026-01-01/..%2F..",
        f"/api/timelapses/{camera_id}/..%2F..%2F/x",
        "/api/timelapses?project=../x",
        "/api/recordings?camera=../x",
    ):
        status, answer = await service.call("GET", path)
        assert (status, answer["error"]) == (422, "refused"), path
    status, answer = await service.call("GET", f"/api/cameras/{camera_id}/segments/none.mp4")
    assert (status, answer["error"]) == (404, "not_found")
    status, answer = await service.call("GET", "/api/cameras/cam-000000000000")
    assert (status, answer["error"]) == (404, "unknown_camera")
    status, answer = await service.call(
        "PUT", f"/api/cameras/{camera_id}/activity", json={"active": True, "project": "../x"}
    )
    assert (status, answer["error"]) == (422, "refused")
    status, answer = await service.call(
        "PUT", f"/api/cameras/{camera_id}/activity", json={"active": "yes"}
    )
    assert (status, answer["message"]) == (400, "active: true or false")
    for body in ({"duration": 0}, {"duration": -1}, {"duration": True}, {"duration": 1e9},
                 {"duration": 5, "pre_roll": -1}, {}):  # fmt: skip
        status, answer = await service.call("POST", f"/api/cameras/{camera_id}/clips", json=body)
        assert (status, answer["error"]) == (400, "invalid_request"), body
    status, answer = await service.call(
        "PATCH", f"/api/cameras/{camera_id}", json={"source": "rtsp://127.0.0.1:9/other"}
    )
    assert (status, answer["error"]) == (409, "conflict")
    status, answer = await service.call("DELETE", f"/api/cameras/{camera_id}?delete_files=maybe")
    assert (status, answer["error"]) == (400, "invalid_request")
    health = await service.ok("GET", "/api/health")
    assert health["refused"]["refused"] >= 15
    assert health["refused"]["invalid_request"] >= 10


async def test_auth(service: Service) -> None:
    status, answer = await service.call("GET", "/api/cameras", token=None)
    assert (status, answer["error"]) == (401, "unauthorized")
    status, answer = await service.call("GET", "/api/cameras", token="wrong-token-123456789")
    assert (status, answer["message"]) == (401, "invalid token")
    status, answer = await service.call(
        "GET", "/api/cameras", token=None, headers={"Authorization": f"Basic {TOKEN}"}
    )
    assert status == 401
    # Ingress is trusted only from the Supervisor's address (not configured here).
    status, _ = await service.call(
        "GET", "/api/storage", token=None, headers={"X-Ingress-Path": "/x"}
    )
    assert status == 401
    status, page = await service.call("GET", "/", token=None)
    assert status == 200
    assert b"Makerhub recorder" in page


async def test_credentials_sealed_redacted_and_never_answered(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "s3cr3t-Passw0rd"
    camera_id = await service.add_camera(f"rtsp://admin:{secret}@127.0.0.1:9/stream")
    answer = await service.camera(camera_id)
    assert answer["source"] == "rtsp://127.0.0.1:9/stream"
    assert answer["has_credentials"] is True
    stored = (service.service.settings.data_dir / "cameras.json").read_text()
    assert secret not in stored
    assert json.loads(stored)[0]["sealed_url"].startswith("v1:")

    async def failed() -> bool:
        return bool((await service.camera(camera_id))["last_error"])

    await wait_until(failed, what="the connection to fail")
    for path in ("/api/cameras", f"/api/cameras/{camera_id}", "/api/storage", "/api/health"):
        _, body = await service.call("GET", path)
        assert secret not in json.dumps(body)
    assert secret not in caplog.text
    # It survives a restart of the service (the key stays in the data dir).
    cameras = service.service.store.load_cameras()
    assert cameras[0].source.url == f"rtsp://admin:{secret}@127.0.0.1:9/stream"
    await service.ok("DELETE", f"/api/cameras/{camera_id}?delete_files=true")
    assert await service.ok("GET", "/api/cameras") == []
    assert not (service.service.settings.media_dir / camera_id).exists()
