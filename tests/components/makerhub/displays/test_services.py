"""makerhub.show_on_display: displays by device and by station, each kind of page, and
every refusal (precise, counted, nothing sent)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from homeassistant.auth.models import User
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient
import voluptuous as vol

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.core.displays import idle_page_path
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.displays.manager import (
    CONF_INTERACTIVE_DISPLAYS,
    async_page_key,
    display_record,
)
from tests.components.makerhub.conftest import bring_online
from tests.components.makerhub.desktops.conftest import PROJECT_ID

from .conftest import BENCH, LASER, WORKBENCH, device_id, published_inputs, show


def inputs_of(published: list[tuple[str, str]], uid: str) -> list[tuple[str, str]]:
    """Return (input, value) published to a unit, in order."""
    prefix = f"makerhub/{uid}/in/"
    return [(t.removeprefix(prefix), p) for t, p in published if t.startswith(prefix)]


async def test_idle_by_device_sends_the_signed_idle_page_then_show(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    await bring_online(hass, WORKBENCH)
    mqtt_mock.async_publish.reset_mock()
    shown = await show(hass, display=device_id(hass, WORKBENCH), what="idle")
    assert shown == [{"unit": WORKBENCH, "name": "Workbench display", "show": "idle"}]
    key = await async_page_key(hass)
    assert inputs_of(published_inputs(mqtt_mock), WORKBENCH) == [
        ("target", idle_page_path(key, WORKBENCH)),
        ("show", "idle"),
    ]
    assert inputs_of(published_inputs(mqtt_mock), LASER) == []
    # Stored as the entities' values are (a restarting display gets them again).
    runtime = hub.runtime_data
    assert runtime.hub.units[WORKBENCH].inputs["show"] == "idle"
    assert hass.states.get("select.workbench_display_show").state == "idle"


async def test_stations_are_the_displays_in_their_area_each_once(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient, areas: dict[str, str]
) -> None:
    mqtt_mock.async_publish.reset_mock()
    shown = await show(
        hass,
        station=[areas["Workbench"], areas["Laser"]],
        display=[device_id(hass, WORKBENCH)],
        what="dashboard",
        target="/dashboard-space/bench?kiosk",
    )
    assert [d["unit"] for d in shown] == [WORKBENCH, LASER]
    published = published_inputs(mqtt_mock)
    for uid in (WORKBENCH, LASER):
        assert inputs_of(published, uid) == [
            ("target", "dashboard-space/bench?kiosk"),
            ("show", "dashboard"),
        ]
    mqtt_mock.async_publish.reset_mock()
    await show(hass, station=areas["Laser"], what="url", target=" https://example.org/x ")
    assert inputs_of(published_inputs(mqtt_mock), LASER) == [
        ("target", "https://example.org/x"),
        ("show", "url"),
    ]
    assert inputs_of(published_inputs(mqtt_mock), WORKBENCH) == []


REFUSALS: list[tuple[dict[str, Any], str, dict[str, str]]] = [
    (
        {"what": "url", "target": "javascript:alert(1)"},
        "display_target_refused",
        {"reason": "scheme javascript: is not allowed: only http and https are"},
    ),
    (
        {"what": "url", "target": "file:///etc/passwd"},
        "display_target_refused",
        {"reason": "scheme file: is not allowed: only http and https are"},
    ),
    ({"what": "url", "target": "https://"}, "display_target_refused", {}),
    ({"what": "url", "target": "http://[::1"}, "display_target_refused", {}),
    (
        {"what": "url", "target": "https://example.org/" + "x" * 300},
        "display_target_refused",
        {"reason": "exceeds max_length 255"},
    ),
    ({"what": "url"}, "display_target_required", {"what": "url"}),
    ({"what": "dashboard", "target": "  "}, "display_target_required", {"what": "dashboard"}),
    ({"what": "dashboard", "target": "https://evil.example/x"}, "display_target_refused", {}),
    ({"what": "dashboard", "target": "lovelace/../auth"}, "display_target_refused", {}),
    ({"what": "desktop"}, "desktop_needs_project", {}),
    ({"what": "desktop", "target": "nope"}, "unknown_project", {"project": "nope"}),
    ({"what": "desktop", "target": "clock"}, "project_without_desktop", {"project": "Clock"}),
    (
        {"what": "desktop", "person": "person.alice"},
        "person_without_project",
        {"person": "person.alice"},
    ),
]


@pytest.mark.parametrize(("data", "key", "placeholders"), REFUSALS)
async def test_refused_calls_say_why_are_counted_and_send_nothing(
    hass: HomeAssistant,
    stored_clock: None,
    alice: str,
    hub: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    mqtt_mock.async_publish.reset_mock()
    with pytest.raises(ServiceValidationError) as refused:
        await show(hass, display=device_id(hass, WORKBENCH), **data)
    assert refused.value.translation_key == key
    found = refused.value.translation_placeholders or {}
    for name, text in placeholders.items():
        assert text in found[name]
    assert published_inputs(mqtt_mock) == []
    assert display_record(hass).refused_calls == {key: 1}
    assert hub.runtime_data.hub.units[WORKBENCH].inputs == {}


async def test_unknown_displays_and_stations_without_one_are_refused(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient, areas: dict[str, str]
) -> None:
    mqtt_mock.async_publish.reset_mock()
    hub_device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "hub")})
    assert hub_device is not None
    hub_device = hub_device.id
    cases = [
        ({"display": device_id(hass, BENCH)}, "unknown_display", {"display": "Bench"}),
        ({"display": "no-such-device"}, "unknown_display", {"display": "no-such-device"}),
        ({"display": hub_device}, "unknown_display", {"display": "Makerhub"}),
        ({"station": areas["Lobby"]}, "station_without_display", {"station": "Lobby"}),
        ({"station": "no_such_area"}, "station_without_display", {"station": "no_such_area"}),
        # One bad name refuses the whole call: the good display gets nothing either.
        (
            {"display": [device_id(hass, WORKBENCH)], "station": [areas["Lobby"]]},
            "station_without_display",
            {"station": "Lobby"},
        ),
    ]
    for data, key, placeholders in cases:
        with pytest.raises(ServiceValidationError) as refused:
            await show(hass, what="idle", **data)
        assert refused.value.translation_key == key
        assert refused.value.translation_placeholders == placeholders
    assert published_inputs(mqtt_mock) == []
    assert display_record(hass).refused_calls == {
        "unknown_display": 3,
        "station_without_display": 3,
    }
    with pytest.raises(vol.Invalid, match="at least one of"):
        await show(hass, what="idle")
    with pytest.raises(vol.Invalid):
        await show(hass, display=device_id(hass, WORKBENCH), what="movie")


async def test_a_stopped_hub_refuses(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    display = device_id(hass, WORKBENCH)
    await hass.config_entries.async_unload(hub.entry_id)
    with pytest.raises(ServiceValidationError) as refused:
        await show(hass, display=display, what="idle")
    assert refused.value.translation_key == "hub_not_loaded"


def desktop_query(published: list[tuple[str, str]], uid: str) -> dict[str, str]:
    """Return the query of the desktop page path sent to a display."""
    sent = dict(inputs_of(published, uid))
    assert sent["show"] == "desktop"
    parts = urlsplit(sent["target"])
    assert parts.path == "/api/makerhub/display/desktop"
    return {name: values[0] for name, values in parse_qs(parts.query).items()}


async def test_desktops_are_viewed_unless_interactive_and_the_caller_may_control(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    hass_admin_user: User,
    hass_read_only_user: User,
    alice: str,
    areas: dict[str, str],
) -> None:
    hass.config_entries.async_update_entry(
        desktops_hub, options={**desktops_hub.options, CONF_INTERACTIVE_DISPLAYS: [WORKBENCH]}
    )
    await hass.async_block_till_done()
    both = {"station": [areas["Workbench"], areas["Laser"]], "what": "desktop"}

    for user, workbench_role in (
        (None, "controller"),
        (hass_admin_user, "controller"),
        (hass_read_only_user, "viewer"),
    ):
        mqtt_mock.async_publish.reset_mock()
        shown = await show(hass, user, target="clock", **both)
        assert [(d["unit"], d["role"]) for d in shown] == [
            (WORKBENCH, workbench_role),
            (LASER, "viewer"),
        ]
        published = published_inputs(mqtt_mock)
        assert desktop_query(published, WORKBENCH)["role"] == workbench_role
        laser = desktop_query(published, LASER)
        assert laser["project"] == PROJECT_ID
        assert laser["role"] == "viewer"
        assert laser["display"] == LASER

    # A person's active project.
    makerhub_data(hass).projects.set_active(alice, PROJECT_ID)
    mqtt_mock.async_publish.reset_mock()
    await show(hass, person=alice, **both)
    assert desktop_query(published_inputs(mqtt_mock), LASER)["project"] == PROJECT_ID

    # An archived project has no desktop.
    makerhub_data(hass).projects.registry.archive(PROJECT_ID)
    with pytest.raises(ServiceValidationError) as refused:
        await show(hass, target="clock", **both)
    assert refused.value.translation_key == "project_without_desktop"
