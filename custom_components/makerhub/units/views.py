"""What units need over HTTP: their files for administrators, and their own API.

For administrators (Home Assistant authentication):
``GET /api/makerhub/units/<uid>/env.json`` and ``…/schema.json`` (the unit's connection
settings and current topics), and, for units made from a repository,
``…/firmware.tar.gz`` / ``…/firmware.zip`` (its archive, ``WIFI_SSID``/``WIFI_PASS``
left to fill).

For the unit itself (``MH_API_URL`` = ``/api/makerhub/unit_api``):
``GET …/units/<uid>/env.json`` and ``…/schema.json`` with ``Authorization: Bearer
<MH_TOKEN>`` (what ``env_update``/``schema_update`` make it fetch), and
``GET …/units/<uid>/archive/<archive id>?expires=…&sig=…``, the signed URL of an
``update`` command (it works for 10 minutes and for that unit only).
"""

from __future__ import annotations

import hmac
from http import HTTPStatus
from typing import Any

from aiohttp import web
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from ..const import (
    CONF_UNIT_BROKER_HOST,
    CONF_UNIT_BROKER_PORT,
    CONF_UNIT_BROKER_TLS,
    DEFAULT_UNIT_BROKER_PORT,
    HUB_NOT_RUNNING,
)
from ..core.firmware_client import FirmwareError
from ..core.unit_env import EnvError
from ..firmware.manager import DATA_COMMIT, DATA_VERSION, UNIT_API, HubFirmware, firmware_units
from ..runtime import MakerhubRuntime, running_runtime

FIRMWARE_FORMATS = {"firmware.tar.gz": "tar.gz", "firmware.zip": "zip"}


def unit_env(runtime: MakerhubRuntime, uid: str) -> dict[str, Any]:
    """Return a unit's ``env.json``: the full one for units made from repositories, the
    connection settings for the others."""
    entry = runtime.hub.entry
    if uid in firmware_units(entry):
        return runtime.firmware.env(uid)
    data = entry.data
    env: dict[str, Any] = {
        "MH_UNIT_ID": uid,
        "MH_MQTT_HOST": data.get(CONF_UNIT_BROKER_HOST, ""),
        "MH_MQTT_PORT": data.get(CONF_UNIT_BROKER_PORT, DEFAULT_UNIT_BROKER_PORT),
        "MH_MQTT_TLS": data.get(CONF_UNIT_BROKER_TLS, False),
    }
    env.update(runtime.broker_access.env(uid))
    if (token := runtime.broker_access.credentials.token(uid)) is not None:
        env["MH_TOKEN"] = token
    env["MH_API_URL"] = runtime.firmware.api_url()
    return env


async def _stream_archive(
    request: web.Request, firmware: HubFirmware, archive_id: str, filename: str | None
) -> web.StreamResponse:
    """Stream an archive from the firmware service to the caller."""
    client = firmware.require_client()
    async with client.archive_content(archive_id) as stream:
        response = web.StreamResponse(
            headers={"Content-Type": stream.content_type or "application/octet-stream"}
        )
        if stream.size is not None:
            response.content_length = stream.size
        if filename is not None:
            response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        await response.prepare(request)
        async for chunk in stream:
            await response.write(chunk)
        await response.write_eof()
        return response


class UnitFileView(HomeAssistantView):
    """A unit's ``env.json``, ``schema.json`` or firmware archive, for administrators."""

    url = "/api/makerhub/units/{uid}/{name}"
    name = "api:makerhub:units:file"

    async def get(self, request: web.Request, uid: str, name: str) -> web.StreamResponse:
        """Return the file, or 403/404/409/502/503 saying why not."""
        if not request[KEY_HASS_USER].is_admin:
            return self.json_message(
                "only administrators may read unit files", HTTPStatus.FORBIDDEN
            )
        runtime = running_runtime(request.app[KEY_HASS])
        if runtime is None:
            return self.json_message(HUB_NOT_RUNNING, HTTPStatus.SERVICE_UNAVAILABLE)
        hub = runtime.hub
        unit = hub.units.get(uid)
        if unit is None:
            return self.json_message(f"no unit {uid}", HTTPStatus.NOT_FOUND)
        try:
            if name == "env.json":
                return self.json(unit_env(runtime, uid))
            if name == "schema.json":
                return self.json(hub.schema_json(unit))
            if name in FIRMWARE_FORMATS:
                return await self._firmware(request, runtime.firmware, uid, FIRMWARE_FORMATS[name])
        except EnvError as err:
            return self.json_message(f"env.json: {err}", HTTPStatus.CONFLICT)
        except (FirmwareError, HomeAssistantError) as err:
            return self.json_message(str(err), HTTPStatus.BAD_GATEWAY)
        return self.json_message(
            "env.json, schema.json, firmware.tar.gz or firmware.zip", HTTPStatus.NOT_FOUND
        )

    async def _firmware(
        self, request: web.Request, firmware: HubFirmware, uid: str, fmt: str
    ) -> web.StreamResponse:
        subentry = firmware_units(firmware.entry).get(uid)
        if subentry is None:
            return self.json_message(
                f"{uid} is not made from a repository: it has no firmware archive",
                HTTPStatus.NOT_FOUND,
            )
        archive = await firmware.async_build_archive(
            uid, subentry.data[DATA_COMMIT], subentry.data[DATA_VERSION], fmt
        )
        filename = f"{subentry.title}-{subentry.data[DATA_VERSION]}.{fmt}".replace(" ", "_")
        return await _stream_archive(request, firmware, archive.id, filename)


class UnitApiView(HomeAssistantView):
    """A unit's own API: its ``env.json`` and ``schema.json``, with its token."""

    url = f"{UNIT_API}/units/{{uid}}/{{name}}"
    name = "api:makerhub:unit_api:file"
    requires_auth = False

    async def get(self, request: web.Request, uid: str, name: str) -> web.Response:
        """Return the file to the unit holding its token."""
        runtime = running_runtime(request.app[KEY_HASS])
        if runtime is None:
            return self.json_message(HUB_NOT_RUNNING, HTTPStatus.SERVICE_UNAVAILABLE)
        hub = runtime.hub
        token = runtime.broker_access.credentials.token(uid)
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token is None or not hmac.compare_digest(given.encode(), token.encode()):
            return self.json_message("a unit token is required", HTTPStatus.UNAUTHORIZED)
        unit = hub.units.get(uid)
        if unit is None:
            return self.json_message(f"no unit {uid}", HTTPStatus.NOT_FOUND)
        if name == "env.json":
            try:
                return self.json(unit_env(runtime, uid))
            except EnvError as err:
                return self.json_message(f"env.json: {err}", HTTPStatus.CONFLICT)
        if name == "schema.json":
            return self.json(hub.schema_json(unit))
        return self.json_message("env.json or schema.json", HTTPStatus.NOT_FOUND)


class UnitArchiveView(HomeAssistantView):
    """A unit's firmware archive, through the signed URL of its ``update`` command."""

    url = f"{UNIT_API}/units/{{uid}}/archive/{{archive_id}}"
    name = "api:makerhub:unit_api:archive"
    requires_auth = False

    async def get(self, request: web.Request, uid: str, archive_id: str) -> web.StreamResponse:
        """Stream the archive when the signature holds."""
        runtime = running_runtime(request.app[KEY_HASS])
        if runtime is None:
            return self.json_message(HUB_NOT_RUNNING, HTTPStatus.SERVICE_UNAVAILABLE)
        firmware = runtime.firmware
        if not firmware.check_archive_url(
            uid, archive_id, request.query.get("expires", ""), request.query.get("sig", "")
        ):
            return self.json_message("the link is invalid or expired", HTTPStatus.FORBIDDEN)
        try:
            return await _stream_archive(request, firmware, archive_id, None)
        except (FirmwareError, HomeAssistantError) as err:
            return self.json_message(str(err), HTTPStatus.BAD_GATEWAY)
