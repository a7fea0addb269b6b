"""Cameras end to end (issue 19): a real hass, the recorder service as a process, a real
GStreamer RTSP camera with a clock on its picture, presence from a custom app.

- the *record while active* blueprint records while a person is at the station, from the
  pre-roll before they arrived to the off-delay after they left: the segments on disk
  are valid, join without gaps and begin with the pre-roll; clips from the action and
  from the *clip on event* blueprint begin with theirs;
- the time-lapse takes frames only while the space is active, into the project of the
  person at the camera's station, and plays from the media browser;
- the camera lost and back: the status sensor says reconnecting, then recording, and the
  gap is reported; the service killed (``kill -9``) mid-segment: every segment the hub's
  media proxy serves plays, the one cut short is never served.

- a small real file system (tmpfs) fills: the free-space floor holds, the oldest
  segments go first, and the hub shows the repair issue and the early deletions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import contextlib
from datetime import datetime, timedelta
import itertools
from pathlib import Path
import shutil
import time
from typing import Any

import pytest

from dev.processes.hass_process import HassApiError, HassClient, HassProcess
from dev.processes.recorder_process import RecorderServiceProcess
from dev.processes.rtsp_camera import RtspCamera
from dev.sample_display import STATION, device_named, ensure_camera_at_station
from tests.helpers.recorder_service import decodes, ffprobe, small_tmpfs

from .cameras import (
    CAMERA_ENTITY,
    CAMERA_NAME,
    FAST_RECORDER,
    HASS_CONFIG,
    PRE_ROLL,
    PROJECT_SENSOR,
    SEGMENT_SECONDS,
    STATUS,
    SWITCH,
    TIMELAPSE_INTERVAL,
    TOKEN,
    CameraSpace,
    poll_until,
    write_automations_file,
)

pytestmark = pytest.mark.e2e

KIB = 1024
MIB = 1024 * KIB
FLOOR = 2 * MIB
"""The free-space floor of the small disk."""
GAP_TOLERANCE = 0.6
"""Seconds two consecutive segments may be apart (their times come from file times)."""
OFF_DELAY = 5.0


@pytest.fixture
def hass_process(tmp_path: Path) -> Iterator[HassProcess]:
    """Home Assistant with people, the media browser, repairs, automations and the
    project worked on at the camera's station."""
    write_automations_file(tmp_path / "config")
    process = HassProcess(tmp_path / "config", extra_config=HASS_CONFIG)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def camera() -> Iterator[RtspCamera]:
    """The test camera (640x360, 15 fps, a keyframe a second, a clock on the picture)."""
    with RtspCamera() as rtsp:
        yield rtsp


@pytest.fixture
def recorder(
    socket_enabled: None, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[RecorderServiceProcess]:
    """The recorder service as a process: no free-space floor, or (parametrized with
    ``"small_disk"``) its recordings on a 6 MiB tmpfs, 3.5 MiB taken, a 2 MiB floor."""
    with contextlib.ExitStack() as stack:
        floor: tuple[str, ...] = ("--free-floor-gib", "0")
        if getattr(request, "param", None) == "small_disk":
            disk = stack.enter_context(small_tmpfs(tmp_path / "disk"))
            (disk / "filler").write_bytes(b"\0" * (3 * MIB + 512 * KIB))
            floor = ("--free-floor-gib", str(FLOOR / 2**30), "--recordings", str(disk / "rec"))
        service = RecorderServiceProcess(
            tmp_path / "recorder", TOKEN, extra_args=(*FAST_RECORDER, *floor)
        )
        stack.callback(service.stop)
        service.start()
        yield service


@pytest.fixture
async def space(
    hass_api: HassClient, recorder: RecorderServiceProcess, camera: RtspCamera
) -> AsyncIterator[CameraSpace]:
    """The hub recording the camera, a station, a person with their app."""
    space = CameraSpace(hass_api, recorder, camera)
    await space.set_up()
    yield space
    assert hass_api.hass.makerhub_problems() == []


async def test_record_while_active_and_clips(space: CameraSpace, tmp_path: Path) -> None:
    """Arrive → recording from the pre-roll; leave → it stops after the off-delay; then a
    clip from the action and one from the clip-on-event blueprint."""
    blueprint = await space.import_blueprint("makerhub_record_while_active.yaml")
    await space.create_automation(
        "record_bench",
        blueprint,
        {"recording_switches": [SWITCH], "off_delay": {"seconds": OFF_DELAY}},
    )
    await space.wait_buffered()

    arrived = time.time()
    await space.arrive()
    await space.wait_state(SWITCH, lambda s: s["state"] == "on", "recording to start", 30)
    on_at = time.time()
    await space.wait_state(STATUS, lambda s: s["state"] == "recording", "status recording", 30)
    [recording] = await space.recordings()
    assert recording["kind"] == "continuous"
    # The recording begins with the pre-roll before the space became active.
    assert arrived - PRE_ROLL - 0.5 <= recording["start"] <= on_at - PRE_ROLL

    async def recorded_until() -> float:
        [current] = await space.recordings()
        return max((s["end"] for s in current["segments"]), default=0.0)

    await poll_until(recorded_until, lambda end: end >= arrived + 4, 60, "4 s recorded")
    left = time.time()
    await space.leave()
    # Recording through the off-delay, then stopped.
    await space.wait_state(SWITCH, lambda s: s["state"] == "off", "recording to stop", 60)
    [recording] = await space.recordings()
    assert recording["end"] is not None
    assert recording["end"] >= left + OFF_DELAY - 0.5
    await poll_until(
        recorded_until, lambda end: end >= recording["end"] - SEGMENT_SECONDS, 60, "the end"
    )
    [recording] = await space.recordings()
    _check_segments(space, recording, arrived - PRE_ROLL)

    # makerhub.record_clip with a pre-roll.
    asked = time.time()
    clip = await space.client.service_response(
        "makerhub", "record_clip", {"camera": CAMERA_ENTITY, "duration": 2, "pre_roll": 3}
    )
    assert clip["camera"] == space.camera_id
    assert asked - 3.5 <= clip["start"] <= time.time() - 3
    assert clip["end"] - clip["start"] == pytest.approx(5)

    # The clip-on-event blueprint: an event records a clip with its pre-roll.
    blueprint = await space.import_blueprint("makerhub_clip_on_event.yaml")
    await space.create_automation(
        "clip_on_button",
        blueprint,
        {
            "trigger": [{"trigger": "event", "event_type": "makerhub_test_button"}],
            "camera": CAMERA_ENTITY,
            "duration": 2,
            "pre_roll": 2,
        },
    )
    pressed = time.time()
    await space.client.post("/api/events/makerhub_test_button", {})

    async def clips() -> list[dict[str, Any]]:
        return [r for r in await space.recordings() if r["kind"] == "clip"]

    found = await poll_until(clips, lambda found: len(found) == 2, 30, "the event's clip")
    by_action, by_event = found
    assert by_action["id"] == clip["recording"]
    assert pressed - 2.5 <= by_event["start"] <= time.time() - 2
    for done in (by_action, by_event):
        await poll_until(
            recorded_until_of(space, done["id"]),
            lambda end, done=done: end >= done["end"] - SEGMENT_SECONDS,  # type: ignore[misc]
            60,
            "the clip's segments",
        )
    for done in await clips():
        _check_segments(space, done, done["start"])


def recorded_until_of(space: CameraSpace, recording_id: str) -> Any:
    """A fetch of the end of a recording's last finished segment."""

    async def fetch() -> float:
        for recording in await space.recordings():
            if recording["id"] == recording_id:
                return max((s["end"] for s in recording["segments"]), default=0.0)
        return 0.0

    return fetch


def _check_segments(space: CameraSpace, recording: dict[str, Any], begins: float) -> None:
    """Every segment is valid H.264 of the camera's size, decodes, lasts what the listing
    says; they join without gaps; the first holds ``begins`` (the pre-roll's start)."""
    segments = recording["segments"]
    assert segments, recording
    assert recording["gaps"] == []
    # Segments are cut at keyframes: the first may start up to one segment earlier.
    assert segments[0]["start"] <= begins + GAP_TOLERANCE
    assert segments[0]["end"] > begins
    assert segments[-1]["end"] >= recording["end"] - SEGMENT_SECONDS - GAP_TOLERANCE
    for before, after in itertools.pairwise(segments):
        assert abs(after["start"] - before["end"]) <= GAP_TOLERANCE, (before, after)
    total = 0.0
    for segment in segments:
        path = space.segments_folder / segment["name"]
        probe = ffprobe(path)
        assert probe["codec_name"] == "h264"
        assert (probe["width"], probe["height"]) == (640, 360)
        assert abs(float(probe["duration"]) - (segment["end"] - segment["start"])) < 0.3
        assert int(probe["nb_read_packets"]) > 0
        assert decodes(path), path
        total += float(probe["duration"])
    covered = segments[-1]["end"] - segments[0]["start"]
    assert abs(total - covered) <= GAP_TOLERANCE * len(segments)


async def test_timelapse_per_project_while_active(space: CameraSpace, tmp_path: Path) -> None:
    """Frames only while the space is active, into the project of the person at the
    camera's station; the time-lapse plays from the media browser."""
    blueprint = await space.import_blueprint("makerhub_record_while_active.yaml")
    await space.create_automation(
        "timelapse_bench",
        blueprint,
        {
            "timelapse_cameras": [CAMERA_ENTITY],
            "project_entity": PROJECT_SENSOR,
            "off_delay": {"seconds": 1},
        },
    )
    await space.wait_buffered()
    assert await _build_timelapses(space) == [], "no frames before the space is active"
    frames_dir = space.recorder.data_dir / "recordings" / space.camera_id / "timelapse"
    assert not list(frames_dir.rglob("*.jpg"))

    arrived = time.time()
    await space.arrive(project="robot-arm")
    project = await space.wait_state(
        PROJECT_SENSOR, lambda s: s["state"] == "robot-arm", "the station's project", 30
    )
    assert project["state"] == "robot-arm"
    await space.wait_state(
        STATUS,
        lambda s: s["attributes"]["active"] and s["attributes"]["project"] == "robot-arm",
        "the camera told the space is active, with the project",
        30,
    )

    project_dir = next(frames_dir.glob("*")) / "robot-arm"

    async def taken() -> int:
        # Waiting frames, and 3 in each encoded chunk (--timelapse-chunk-frames 3).
        waiting = len(list(project_dir.glob("frames/*.jpg")))
        return waiting + 3 * len(list(project_dir.glob("chunks/*.mp4")))

    await poll_until(taken, lambda count: count >= 4, 60, "four frames of the project")
    await space.leave()
    await space.wait_state(
        STATUS, lambda s: not s["attributes"]["active"], "the camera told inactive", 30
    )
    inactive_at = time.time()

    async def encoding() -> list[str]:
        # Going inactive encodes the waiting frames (moved to a batch-* folder) in a chunk.
        return [
            p.name
            for p in frames_dir.rglob("*")
            if p.name.startswith("batch-") or p.parent.name == "frames"
        ]

    await poll_until(encoding, lambda waiting: not waiting, 60, "the last chunk encoded")
    built = {t["project"]: t for t in await _build_timelapses(space)}
    assert built["robot-arm"]["camera"] == space.camera_id
    # The station's project follows space active by milliseconds (a template sensor): the
    # frame taken at the very moment the space became active may be in "no project".
    assert set(built) <= {"robot-arm", None}
    frames = await _frames_in_browser(space, "robot-arm", tmp_path / "first.mp4")
    early = await _frames_in_browser(space, "_none", tmp_path / "early.mp4") if None in built else 0
    assert early <= 1
    # At most a frame an interval while active (one of slack at each end).
    assert 4 <= frames + early <= (inactive_at - arrived) / TIMELAPSE_INTERVAL + 2
    # Inactive: no frame is taken (a check that something does not happen needs time to
    # pass: four frame intervals).
    await asyncio.sleep(4 * TIMELAPSE_INTERVAL)
    again = {t["project"]: t["bytes"] for t in await _build_timelapses(space)}
    assert again == {project: t["bytes"] for project, t in built.items()}
    assert await _frames_in_browser(space, "robot-arm", tmp_path / "again.mp4") == frames


async def _build_timelapses(space: CameraSpace) -> list[dict[str, Any]]:
    """``makerhub.build_timelapse`` of the camera, from yesterday to tomorrow."""
    today = datetime.now().astimezone().date()  # the service's days are local
    answer = await space.client.service_response(
        "makerhub",
        "build_timelapse",
        {
            "camera": CAMERA_ENTITY,
            "start": (today - timedelta(days=1)).isoformat(),
            "end": (today + timedelta(days=1)).isoformat(),
        },
    )
    found: list[dict[str, Any]] = answer["timelapses"]
    return found


async def _frames_in_browser(space: CameraSpace, project: str, target: Path) -> int:
    """Find a project's time-lapse in the media browser (Time-lapses by project), play it
    through the hub and count its frames."""
    root = await space.browse("media-source://makerhub")
    [projects] = [c for c in root["children"] if c["media_content_id"].endswith("/projects")]
    by_project = await space.browse(projects["media_content_id"])
    [folder] = [
        c for c in by_project["children"] if c["media_content_id"].endswith(f"/project/{project}")
    ]
    [video] = (await space.browse(folder["media_content_id"]))["children"]
    assert video["can_play"]
    assert video["media_content_id"].endswith(f"/{project}")
    assert await space.download(video["media_content_id"], target) == 200
    probe = ffprobe(target)
    assert probe["codec_name"] == "h264"
    assert (probe["width"], probe["height"]) == (320, 180)
    assert decodes(target)
    return int(probe["nb_read_packets"])


async def test_camera_lost_and_back_then_service_killed(space: CameraSpace, tmp_path: Path) -> None:
    """Camera killed mid-recording: reconnecting, then recording, the gap reported. Then
    the service killed mid-segment: every segment the hub serves plays, the one cut short
    is never served."""
    await space.client.call_service("switch", "turn_on", {"entity_id": SWITCH})
    await space.wait_state(STATUS, lambda s: s["state"] == "recording", "recording", 30)

    async def finished() -> list[str]:
        return space.finished_on_disk()

    await poll_until(finished, lambda names: len(names) >= 3, 60, "three segments")
    lost_at = time.time()
    space.camera.kill()
    lost = await space.wait_state(
        STATUS, lambda s: s["state"] == "reconnecting", "status reconnecting", 60
    )
    assert lost["attributes"]["lost_since"] is not None
    assert lost["attributes"]["last_error"]
    space.camera.start()  # back at the same address
    back = await space.wait_state(STATUS, lambda s: s["state"] == "recording", "recording", 60)
    assert back["attributes"]["lost_since"] is None
    assert back["attributes"]["reconnects"] >= 1
    [recording] = await space.recordings()
    [gap] = recording["gaps"]
    assert lost_at - 3 <= gap["start"] < gap["end"] <= time.time()

    # kill -9 while a segment is being written.
    async def being_written() -> set[str]:
        listed = set(space.finished_on_disk())
        return {p.name for p in space.segments_folder.glob("*.mp4")} - listed

    await poll_until(being_written, bool, 60, "a segment being written")
    space.recorder.kill()
    partial = await being_written()
    assert partial, "the segment cut short is on disk"
    space.recorder.start()  # same port, same data folder
    client = space.client

    async def served_recording() -> dict[str, Any] | None:
        try:
            day = await space.browse(f"media-source://makerhub/camera/{space.camera_id}")
            days = day["children"]
            folder = await space.browse(days[0]["media_content_id"])
            [item] = [c for c in folder["children"] if "/recording/" in c["media_content_id"]]
            return await space.browse(item["media_content_id"])
        except (AssertionError, KeyError, IndexError, ValueError, HassApiError):
            return None

    browsed = await poll_until(served_recording, bool, 60, "the recording in the media browser")
    assert browsed is not None
    segments = browsed["children"]
    names = {c["media_content_id"].rsplit("/", 1)[1] for c in segments}
    assert len(names) >= 4
    assert not names & partial, "a segment cut short is never listed"
    for index, child in enumerate(segments):
        target = tmp_path / f"served-{index}.mp4"
        assert await space.download(child["media_content_id"], target) == 200
        assert float(ffprobe(target)["duration"]) > 0
        assert decodes(target), child
    for name in partial:
        async with client.session.get(
            f"{client.url}/api/makerhub/recorder/{space.camera_id}/segments/{name}",
            headers={"Authorization": f"Bearer {client.token}"},
        ) as response:
            assert response.status == 404


@pytest.mark.parametrize("recorder", ["small_disk"], indirect=True)
async def test_small_disk_keeps_its_floor(space: CameraSpace) -> None:
    """Recording fills a 6 MiB tmpfs: the floor holds, oldest first, the hub says so."""
    disk = space.recorder.data_dir.parent / "disk"
    folder = disk / "rec" / space.camera_id / "segments"
    await space.client.call_service("switch", "turn_on", {"entity_id": SWITCH})
    issues = await poll_until(
        space.issues, lambda found: "recorder_floor_reached" in found, 80, "the repair issue"
    )
    issue = issues["recorder_floor_reached"]
    assert issue["severity"] == "warning"
    assert issue["translation_placeholders"]["floor"] == "0.0 GiB"
    # The camera goes away: nothing more is written, what is on the disk holds still.
    space.camera.kill()

    async def camera_status() -> str:
        return str((await space.service("GET", f"/api/cameras/{space.camera_id}"))["status"])

    await poll_until(camera_status, lambda status: status == "reconnecting", 60, "no stream")

    async def free() -> int:
        return shutil.disk_usage(disk).free

    # The housekeeping's next pass keeps the floor (between passes a segment may take
    # the disk just under it).
    await poll_until(free, lambda free: free >= FLOOR, 30, "the floor kept")
    storage = await space.service("GET", "/api/storage")
    assert storage["free_floor_bytes"] == FLOOR
    assert storage["early_deletions"] >= 1
    assert storage["deleted"]["floor"] == storage["early_deletions"]
    assert storage["deleted"]["age"] == 0
    states = await space.client.states()
    [disk_free] = [
        state
        for state in states.values()
        if state["attributes"].get("friendly_name", "").endswith("Recordings disk free")
    ]
    # The sensor's "floor reached" is the service's, true only under the floor (seldom:
    # the service deletes within half a second); its early deletions count up.
    assert disk_free["attributes"]["early_deletions"] >= 1
    # Oldest first: every segment deleted is older than every one left.
    listed = sorted(
        line.split(",", 1)[0]
        for listing in folder.glob("*.csv")
        for line in listing.read_text().splitlines()
        if line
    )
    left = [name for name in listed if (folder / name).exists()]
    deleted = [name for name in listed if not (folder / name).exists()]
    assert deleted
    assert left
    assert max(deleted) < min(left)
    [recording] = await space.recordings()
    served = [segment["name"] for segment in recording["segments"]]
    assert served
    assert set(served) <= set(left), "a deleted segment is still listed"
    for segment in recording["segments"]:
        assert decodes(folder / segment["name"]), segment


async def test_develop_puts_the_camera_at_its_station(space: CameraSpace) -> None:
    """scripts/develop places its camera in the station's area (the Space dashboard shows
    a station's cameras from its area), once, however often it runs."""
    area_id = await ensure_camera_at_station(space.client, CAMERA_NAME)
    areas = await space.client.ws({"type": "config/area_registry/list"})
    assert [area["name"] for area in areas if area["area_id"] == area_id] == [STATION]
    camera = await device_named(space.client, CAMERA_NAME)
    assert camera is not None
    assert camera["area_id"] == area_id
    assert await ensure_camera_at_station(space.client, CAMERA_NAME) == area_id
    assert len(await space.client.ws({"type": "config/area_registry/list"})) == len(areas)
