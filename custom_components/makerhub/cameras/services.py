"""Camera actions: ``makerhub.record_clip``, ``makerhub.build_timelapse`` and
``makerhub.set_camera_activity``.

A camera is named by its camera entity, its recorder id or its name. ``build_timelapse``
has the service encode the frames still waiting in each chosen day's time-lapse (fetching
a time-lapse does that) and answers their media browser ids and sizes.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, entity_registry as er
import voluptuous as vol

from ..const import DOMAIN
from ..core.recorder_client import Camera, RecorderError, Timelapse, timelapse_path
from ..runtime import loaded_runtime
from .manager import HubCameras, recorder_failed
from .media_source import timelapse_identifier

RECORD_CLIP_SCHEMA: Final = vol.Schema(
    {
        vol.Required("camera"): cv.string,
        vol.Required("duration"): vol.All(vol.Coerce(float), vol.Range(min=1, max=3600)),
        vol.Optional("pre_roll"): vol.All(vol.Coerce(float), vol.Range(min=0, max=300)),
    }
)
BUILD_TIMELAPSE_SCHEMA: Final[vol.All] = vol.All(
    vol.Schema(
        {
            vol.Optional("camera"): cv.string,
            vol.Optional("project"): cv.string,
            vol.Required("start"): cv.date,
            vol.Optional("end"): cv.date,
        }
    ),
    cv.has_at_least_one_key("camera", "project"),
)
ACTIVITY_SCHEMA: Final = vol.Schema(
    {
        vol.Required("camera"): cv.string,
        vol.Required("active"): cv.boolean,
        vol.Optional("project"): vol.Any(None, cv.string),
    }
)


def _cameras(call: ServiceCall) -> HubCameras:
    cameras = loaded_runtime(call.hass).cameras
    if not cameras.configured:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="recorder_not_configured"
        )
    return cameras


def camera_of(hass: HomeAssistant, cameras: HubCameras, reference: str) -> Camera:
    """Return the camera a camera entity, recorder id or name stands for."""
    if reference.startswith(f"{Platform.CAMERA}."):
        entry = er.async_get(hass).async_get(reference)
        if entry is not None and entry.platform == DOMAIN and entry.unique_id.startswith("camera-"):
            reference = entry.unique_id.removeprefix("camera-").removesuffix("-camera")
    return cameras.lookup(reference)


async def _async_record_clip(call: ServiceCall) -> ServiceResponse:
    cameras = _cameras(call)
    camera = camera_of(call.hass, cameras, call.data["camera"])
    answer = await cameras.async_record_clip(
        camera.id, call.data["duration"], call.data.get("pre_roll")
    )
    return {
        "camera": camera.id,
        "recording": answer.get("recording"),
        "start": answer.get("start"),
        "end": answer.get("end"),
    }


async def _async_set_activity(call: ServiceCall) -> ServiceResponse:
    cameras = _cameras(call)
    camera = camera_of(call.hass, cameras, call.data["camera"])
    changed = await cameras.async_set_activity(
        camera.id, call.data["active"], call.data.get("project")
    )
    return {"camera": changed.id, "active": changed.active, "project": changed.project}


def _in_period(timelapse: Timelapse, start: date, end: date) -> bool:
    try:
        day = date.fromisoformat(timelapse.day)
    except ValueError:
        return False
    return start <= day <= end


async def _async_build_timelapse(call: ServiceCall) -> ServiceResponse:
    cameras = _cameras(call)
    client = cameras.require_client()
    camera = None
    if "camera" in call.data:
        camera = camera_of(call.hass, cameras, call.data["camera"]).id
    start: date = call.data["start"]
    end: date = call.data.get("end", start)
    if end < start:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="invalid_period")
    built: list[Any] = []
    try:
        found = await client.timelapses(camera=camera, project=call.data.get("project"))
        for timelapse in sorted(found, key=lambda t: (t.day, t.camera, t.project or "")):
            if not _in_period(timelapse, start, end):
                continue
            path = timelapse_path(timelapse.camera, timelapse.day, timelapse.project)
            # Fetching the file encodes its waiting frames; one byte is enough.
            async with await client.open_file(path, {"Range": "bytes=0-0"}) as response:
                await response.read()
                size = response.headers.get("Content-Range", "").rpartition("/")[2]
            built.append(
                {
                    "camera": timelapse.camera,
                    "day": timelapse.day,
                    "project": timelapse.project,
                    "bytes": int(size) if size.isdigit() else timelapse.bytes,
                    "media_content_id": timelapse_identifier(timelapse),
                }
            )
    except RecorderError as err:
        raise recorder_failed(err) from err
    return {"timelapses": built}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the camera actions."""
    hass.services.async_register(
        DOMAIN,
        "record_clip",
        _async_record_clip,
        schema=RECORD_CLIP_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        "build_timelapse",
        _async_build_timelapse,
        schema=BUILD_TIMELAPSE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        "set_camera_activity",
        _async_set_activity,
        schema=ACTIVITY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
