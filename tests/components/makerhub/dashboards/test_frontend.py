"""The frontend module: served by the integration and added to every frontend page."""

from __future__ import annotations

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.dashboards.frontend import MODULE_FILE, STATIC_URL


async def test_module_served_and_registered(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """With the frontend loaded, every page loads the module; the URL carries the file's
    fingerprint, and the file is served as built."""
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    urls = [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if url.startswith(STATIC_URL)]
    assert len(urls) == 1
    assert urls[0].startswith(f"{STATIC_URL}?v=")
    assert len(urls[0].split("=", 1)[1]) == 16
    client = await hass_client_no_auth()
    response = await client.get(urls[0])
    assert response.status == 200
    assert await response.read() == MODULE_FILE.read_bytes()
    assert "ll-strategy-dashboard-makerhub" in MODULE_FILE.read_text()


async def test_served_without_the_frontend(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Without the frontend (no pages to load it in) the file is still served."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert "frontend" not in hass.config.components
    client = await hass_client_no_auth()
    response = await client.get(STATIC_URL)
    assert response.status == 200
