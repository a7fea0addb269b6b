"""Recordings and time-lapses in Home Assistant's media browser.

The tree: the root holds *Cameras* and *Projects*; a camera holds its days; a day holds
the camera's recordings (each a folder of its segments, every one playable on its own)
and time-lapses; a project holds its time-lapses of every camera and day. Files play
through :class:`RecorderFileView`, an authenticated view of Home Assistant's that proxies
the service's file (``Range`` passed through): the service's token never leaves the hub.
A recording's folder begins with the whole recording as one file (the service joins its
segments without re-encoding when it is asked for), if it is not longer than the
service joins (:data:`MAX_WHOLE_SECONDS`).

Identifiers: ``camera/<id>``, ``camera/<id>/<day>``, ``recording/<id>/<day>/<recording>``,
``whole/<id>/<recording>``, ``segment/<id>/<name>``,
``timelapse/<id>/<day>/<project or _none>``, ``projects``, ``project/<project or _none>``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from aiohttp import web
from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from ..const import DOMAIN
from ..core.projects import ProjectNotFoundError
from ..core.recorder_client import (
    NO_PROJECT,
    RecorderClient,
    RecorderError,
    Recording,
    Timelapse,
    recording_file_path,
    segment_path,
    timelapse_path,
    valid_id,
)
from ..data import makerhub_data
from ..runtime import running_runtime

VIEW_BASE: Final = "/api/makerhub/recorder"
MP4: Final = "video/mp4"
MAX_WHOLE_SECONDS: Final = 2 * 3600
"""The longest recording the service joins into one file."""
NOT_FOUND: Final = "recorder_media_not_found"
"""The error of an identifier naming nothing of the recorder's."""
PROXIED_HEADERS: Final = (
    "Content-Type",
    "Content-Length",
    "Content-Range",
    "Accept-Ranges",
    "Last-Modified",
    "ETag",
)


def timelapse_identifier(timelapse: Timelapse) -> str:
    """Return a time-lapse's media source identifier (``media-source://makerhub/…``)."""
    project = timelapse.project or NO_PROJECT
    return f"media-source://{DOMAIN}/timelapse/{timelapse.camera}/{timelapse.day}/{project}"


def _unresolvable(key: str, **placeholders: str) -> Unresolvable:
    """Return the media browser's error ``key`` (translated: the browser shows it)."""
    return Unresolvable(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _client(hass: HomeAssistant) -> RecorderClient:
    runtime = running_runtime(hass)
    if runtime is None or runtime.cameras.client is None:
        raise _unresolvable("recorder_not_configured")
    return runtime.cameras.client


def _folder(
    identifier: str, title: str, media_class: MediaClass = MediaClass.DIRECTORY
) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=media_class,
        media_content_type=MediaType.VIDEO,
        title=title,
        can_play=False,
        can_expand=True,
    )


def _video(identifier: str, title: str) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.VIDEO,
        media_content_type=MP4,
        title=title,
        can_play=True,
        can_expand=False,
    )


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%H:%M:%S UTC")


class RecorderMediaSource(MediaSource):
    """The recorder's recordings and time-lapses."""

    name = "Makerhub cameras"

    def __init__(self, hass: HomeAssistant) -> None:
        """Serve the loaded hub's recorder."""
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Return the proxy view's URL of a segment or a time-lapse."""
        parts = item.identifier.split("/")
        try:
            if parts[0] == "segment" and len(parts) == 3:
                segment_path(parts[1], parts[2])
                return PlayMedia(f"{VIEW_BASE}/{parts[1]}/segments/{parts[2]}", MP4)
            if parts[0] == "whole" and len(parts) == 3:
                recording_file_path(parts[1], parts[2])
                return PlayMedia(f"{VIEW_BASE}/{parts[1]}/recordings/{parts[2]}", MP4)
            if parts[0] == "timelapse" and len(parts) == 4:
                project = None if parts[3] == NO_PROJECT else parts[3]
                timelapse_path(parts[1], parts[2], project)
                return PlayMedia(f"{VIEW_BASE}/{parts[1]}/timelapses/{parts[2]}/{parts[3]}", MP4)
        except RecorderError as err:
            raise _unresolvable("recorder_failed", error=str(err)) from err
        raise _unresolvable(NOT_FOUND, identifier=item.identifier)

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Return a folder of the tree."""
        client = _client(self.hass)
        parts = item.identifier.split("/") if item.identifier else []
        try:
            return await self._browse(client, parts)
        except RecorderError as err:
            raise _unresolvable("recorder_failed", error=str(err)) from err

    async def _browse(self, client: RecorderClient, parts: list[str]) -> BrowseMediaSource:
        runtime = running_runtime(self.hass)
        assert runtime is not None
        if not parts:
            root = _folder("", self.name, MediaClass.APP)
            root.children = [
                _folder(f"camera/{camera.id}", camera.name)
                for camera in await client.list_cameras()
            ] + [_folder("projects", "Time-lapses by project")]
            return root
        kind, args = parts[0], parts[1:]
        if kind == "camera" and len(args) == 1:
            return await self._camera(client, args[0])
        if kind == "camera" and len(args) == 2:
            return await self._day(client, args[0], args[1])
        if kind == "recording" and len(args) == 3:
            return await self._recording(client, *args)
        if kind == "projects" and not args:
            return await self._projects(client)
        if kind == "project" and len(args) == 1:
            return await self._project(client, args[0])
        raise _unresolvable(NOT_FOUND, identifier="/".join(parts))

    async def _camera(self, client: RecorderClient, camera: str) -> BrowseMediaSource:
        recordings = await client.recordings(camera=camera)
        timelapses = await client.timelapses(camera=camera)
        days = sorted({r.day for r in recordings} | {t.day for t in timelapses}, reverse=True)
        folder = _folder(f"camera/{camera}", self._camera_name(camera))
        folder.children = [_folder(f"camera/{camera}/{day}", day) for day in days]
        return folder

    async def _day(self, client: RecorderClient, camera: str, day: str) -> BrowseMediaSource:
        recordings = await client.recordings(camera=camera, day=day)
        timelapses = await client.timelapses(camera=camera, day=day)
        folder = _folder(f"camera/{camera}/{day}", f"{self._camera_name(camera)}, {day}")
        folder.children = [
            _folder(f"recording/{camera}/{day}/{recording.id}", _recording_title(recording))
            for recording in sorted(recordings, key=lambda r: r.start)
        ] + [_video(_timelapse_id(t), f"Time-lapse: {self._project_name(t.project)}")
             for t in timelapses]  # fmt: skip
        return folder

    async def _recording(
        self, client: RecorderClient, camera: str, day: str, recording_id: str
    ) -> BrowseMediaSource:
        for recording in await client.recordings(camera=camera, day=day):
            if recording.id == recording_id:
                folder = _folder(
                    f"recording/{camera}/{day}/{recording_id}", _recording_title(recording)
                )
                seconds = sum(segment.end - segment.start for segment in recording.segments)
                whole = (
                    [_video(f"whole/{camera}/{recording_id}", "Whole recording")]
                    if recording.segments and seconds <= MAX_WHOLE_SECONDS
                    else []
                )
                folder.children = whole + [
                    _video(f"segment/{camera}/{segment.name}", _clock(segment.start))
                    for segment in recording.segments
                ]
                return folder
        raise _unresolvable(NOT_FOUND, identifier=f"recording/{camera}/{day}/{recording_id}")

    async def _projects(self, client: RecorderClient) -> BrowseMediaSource:
        projects = {t.project or NO_PROJECT for t in await client.timelapses()}
        folder = _folder("projects", "Time-lapses by project")
        folder.children = [
            _folder(f"project/{project}", self._project_name(project))
            for project in sorted(projects)
        ]
        return folder

    async def _project(self, client: RecorderClient, project: str) -> BrowseMediaSource:
        if project != NO_PROJECT and not valid_id(project):
            raise _unresolvable(NOT_FOUND, identifier=f"project/{project}")
        timelapses = await client.timelapses(project=project)
        folder = _folder(f"project/{project}", self._project_name(project))
        folder.children = [
            _video(_timelapse_id(t), f"{t.day}, {self._camera_name(t.camera)}")
            for t in sorted(timelapses, key=lambda t: (t.day, t.camera), reverse=True)
        ]
        return folder

    def _camera_name(self, camera_id: str) -> str:
        runtime = running_runtime(self.hass)
        camera = None if runtime is None else runtime.cameras.camera(camera_id)
        return camera_id if camera is None else camera.name

    def _project_name(self, project: str | None) -> str:
        if project is None or project == NO_PROJECT:
            return "No project"
        try:
            return makerhub_data(self.hass).projects.registry.get(project).name
        except ProjectNotFoundError:
            return project


def _timelapse_id(timelapse: Timelapse) -> str:
    return timelapse_identifier(timelapse).removeprefix(f"media-source://{DOMAIN}/")


def _recording_title(recording: Recording) -> str:
    end = "recording" if recording.end is None else _clock(recording.end)
    return f"{recording.kind.capitalize()} {_clock(recording.start)} to {end}"


class RecorderFileView(HomeAssistantView):
    """``GET /api/makerhub/recorder/<camera>/segments/<name>``,
    ``…/<camera>/recordings/<recording>`` (the whole recording) and
    ``…/<camera>/timelapses/<day>/<project>``: the service's file, proxied (Range too)."""

    url = VIEW_BASE + "/{camera}/{kind}/{rest:.+}"
    name = "api:makerhub:recorder_file"
    requires_auth = True

    async def get(
        self, request: web.Request, camera: str, kind: str, rest: str
    ) -> web.StreamResponse:
        """Stream the file from the service."""
        hass: HomeAssistant = request.app["hass"]
        runtime = running_runtime(hass)
        if runtime is None or runtime.cameras.client is None:
            return web.json_response({"error": "no recorder service is set up"}, status=503)
        client = runtime.cameras.client
        parts = rest.split("/")
        try:
            if kind == "segments" and len(parts) == 1:
                path = segment_path(camera, parts[0])
            elif kind == "recordings" and len(parts) == 1:
                path = recording_file_path(camera, parts[0])
            elif kind == "timelapses" and len(parts) == 2:
                project = None if parts[1] == NO_PROJECT else parts[1]
                path = timelapse_path(camera, parts[0], project)
            else:
                return web.json_response({"error": "not_found"}, status=404)
            headers = {"Range": request.headers["Range"]} if "Range" in request.headers else {}
            upstream = await client.open_file(path, headers)
        except RecorderError as err:
            status = err.status if err.status is not None and err.status < 500 else 502
            return web.json_response({"error": err.code, "message": str(err)}, status=status)
        async with upstream:
            response = web.StreamResponse(status=upstream.status)
            for header in PROXIED_HEADERS:
                if header in upstream.headers:
                    response.headers[header] = upstream.headers[header]
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(64 * 1024):
                await response.write(chunk)
            await response.write_eof()
        return response
