"""Connect URLs through the add-on's ingress, when the desktops service is the add-on.

Home Assistant's ``hassio`` integration proxies ``/api/hassio_ingress/<token>/<path>`` to
the add-on (``HassIOIngress``); the Supervisor gives each add-on with ``ingress: true``
its entry, ``/api/hassio_ingress/<token>``, in the add-on's info (``ingress_entry``). A
browser then reaches the desktop through Home Assistant's own address (the add-on's
``http://<hostname>:8100`` is only reachable from Home Assistant), once the frontend has
an ingress session cookie (the panel asks for one with ``supervisor/api``
``/ingress/session``, as Home Assistant's add-on panels do).

The hub knows the add-on by the slug its discovery stored (:data:`CONF_DESKTOPS_ADDON`);
it uses ingress while the Supervisor is there and the configured URL still points at the
add-on's host name, and the service's own address otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from aiohasupervisor import SupervisorError
from homeassistant.core import HomeAssistant

from .manager import CONF_DESKTOPS_URL

CONF_DESKTOPS_ADDON: Final = "desktops_addon"
"""The slug of the desktops add-on whose discovery set the service up."""
INGRESS_PREFIX: Final = "/api/hassio_ingress/"


class IngressError(Exception):
    """The Supervisor gave no ingress entry for the add-on."""


def addon_hostname(slug: str) -> str:
    """Return the host name the Supervisor gives an add-on (``local_x`` → ``local-x``),
    as ``homeassistant.components.hassio.hostname_from_addon_slug`` does."""
    return slug.replace("_", "-")


def ingress_addon(options: Mapping[str, Any], supervised: bool) -> str | None:
    """Return the slug of the add-on to reach through ingress, or None to use the
    service's own address (no Supervisor, not discovered, or the URL was changed since)."""
    slug = options.get(CONF_DESKTOPS_ADDON)
    url = options.get(CONF_DESKTOPS_URL)
    if not supervised or not isinstance(slug, str) or not slug or not isinstance(url, str):
        return None
    return slug if urlsplit(url).hostname == addon_hostname(slug) else None


def ingress_url(ingress_entry: str, path: str) -> str:
    """Return ``path`` (relative to the service's root) under an add-on's ingress entry.

    >>> ingress_url("/api/hassio_ingress/abc", "desktop?token=t")
    '/api/hassio_ingress/abc/desktop?token=t'
    """
    if not ingress_entry.startswith(INGRESS_PREFIX) or "?" in ingress_entry:
        raise IngressError(f"{ingress_entry!r} is not an ingress entry")
    return f"{ingress_entry.rstrip('/')}/{path.lstrip('/')}"


def is_supervised(hass: HomeAssistant) -> bool:
    """Return whether Home Assistant runs under the Supervisor (its ``hassio`` is loaded)."""
    return "hassio" in hass.config.components


async def async_ingress_entry(hass: HomeAssistant, slug: str) -> str:
    """Ask the Supervisor for an add-on's ingress entry (``/api/hassio_ingress/<token>``)."""
    from homeassistant.components.hassio.handler import get_supervisor_client

    try:
        info = await get_supervisor_client(hass).addons.addon_info(slug)
    except (SupervisorError, TimeoutError) as err:
        raise IngressError(f"no ingress for the add-on {slug}: {err}") from err
    if not info.ingress_entry:
        raise IngressError(f"the add-on {slug} has no ingress")
    return str(info.ingress_entry)
