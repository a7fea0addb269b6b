"""Config flows: hub set-up, reconfigure, options, adoption by discovery, unit subentries."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import (
    SOURCE_IGNORE,
    SOURCE_MQTT,
    SOURCE_USER,
    ConfigEntryState,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import (
    CONF_OFFLINE_TIMEOUT,
    CONF_PREFIX,
    CONF_UNIT_BROKER_HOST,
    CONF_UNIT_BROKER_PORT,
    CONF_UNIT_BROKER_TLS,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
    SUBENTRY_UNIT,
)

from .conftest import ANNOUNCE_ID, BENCH_SCHEMA, HUB_DATA, UID, announcement

BROKER_INPUT = {
    CONF_UNIT_BROKER_HOST: " 192.168.1.2 ",
    CONF_UNIT_BROKER_PORT: 1884.0,
    CONF_UNIT_BROKER_TLS: True,
}


def discovery(
    payload: str | bytes = "", topic: str = f"makerhub/announce/{ANNOUNCE_ID}"
) -> MqttServiceInfo:
    """Return what the MQTT integration hands a discovery flow."""
    return MqttServiceInfo(
        topic=topic,
        payload=payload,
        qos=1,
        retain=True,
        subscribed_topic="makerhub/announce/#",
        timestamp=0,
    )


async def start_discovery(hass: HomeAssistant, info: MqttServiceInfo) -> Any:
    """Start a discovery flow as the MQTT integration does."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=info
    )


# -- the hub -------------------------------------------------------------------------


async def test_user_flow_creates_hub(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> None:
    """The hub is set up with broker settings for units and the topic prefix."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    # The broker units get defaults to Home Assistant's own MQTT broker.
    defaults = {key.schema: key.description for key in result["data_schema"].schema}
    assert defaults[CONF_UNIT_BROKER_HOST]["suggested_value"] == "mock-broker"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**BROKER_INPUT, CONF_PREFIX: " space/one "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Makerhub"
    assert result["data"] == {
        CONF_UNIT_BROKER_HOST: "192.168.1.2",
        CONF_UNIT_BROKER_PORT: 1884,
        CONF_UNIT_BROKER_TLS: True,
    }
    assert result["options"] == {
        CONF_PREFIX: "space/one",
        CONF_OFFLINE_TIMEOUT: 90,
        CONF_UPDATE_INTERVAL: 5.0,
    }
    entry = result["result"]
    assert entry.unique_id == DOMAIN
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


async def test_user_flow_invalid_prefix(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> None:
    """A prefix with wildcards or empty levels is refused on the form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    for prefix in ("make/#", "/makerhub", "a//b", "", "x" * 65):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**BROKER_INPUT, CONF_PREFIX: prefix}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_PREFIX: "invalid_prefix"}


async def test_user_flow_mqtt_not_configured(hass: HomeAssistant) -> None:
    """Without the MQTT integration the flow explains what to set up first."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


async def test_user_flow_mqtt_not_connected(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """MQTT set up but disconnected: the form says so and lets the user retry."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch("custom_components.makerhub.config_flow.mqtt.is_connected", return_value=False):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**BROKER_INPUT, CONF_PREFIX: "makerhub"}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "mqtt_not_connected"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**BROKER_INPUT, CONF_PREFIX: "makerhub"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_single_instance(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """A second hub is refused."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_reconfigure(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """The broker address for units can be changed; the hub reloads."""
    result = await hub.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**BROKER_INPUT, CONF_UNIT_BROKER_HOST: "  "}
    )
    assert result["errors"] == {CONF_UNIT_BROKER_HOST: "invalid_host"}
    with patch("custom_components.makerhub.config_flow.mqtt.is_connected", return_value=False):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], BROKER_INPUT)
    assert result["errors"] == {"base": "mqtt_not_connected"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], BROKER_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert hub.data[CONF_UNIT_BROKER_HOST] == "192.168.1.2"
    assert hub.data[CONF_UNIT_BROKER_PORT] == 1884
    assert hub.state is ConfigEntryState.LOADED


async def test_reconfigure_reloads_once(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """A loaded hub reloads once for new settings (its listener), not a second time by HA;
    an unloaded one is loaded with them."""
    reloads = patch.object(
        hass.config_entries, "async_reload", wraps=hass.config_entries.async_reload
    )
    with reloads as reload:
        result = await hub.start_reconfigure_flow(hass)
        await hass.config_entries.flow.async_configure(result["flow_id"], BROKER_INPUT)
        await hass.async_block_till_done()
    assert reload.call_count == 1
    assert hub.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(hub.entry_id)
    result = await hub.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**BROKER_INPUT, CONF_UNIT_BROKER_PORT: 1885}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert hub.data[CONF_UNIT_BROKER_PORT] == 1885
    assert hub.state is ConfigEntryState.LOADED


async def test_options_flow(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Options: prefix validated, timeouts stored, the hub reloads with them."""
    result = await hass.config_entries.options.async_init(hub.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    assert result["step_id"] == "settings"
    new = {CONF_PREFIX: "bad/+", CONF_OFFLINE_TIMEOUT: 120, CONF_UPDATE_INTERVAL: 0.5}
    result = await hass.config_entries.options.async_configure(result["flow_id"], new)
    assert result["errors"] == {CONF_PREFIX: "invalid_prefix"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**new, CONF_PREFIX: "makerhub"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hub.state is ConfigEntryState.LOADED
    assert hub.runtime_data.hub.options.offline_timeout == 120
    assert hub.runtime_data.hub.coalescer.interval == 0.5


# -- discovery and adoption ----------------------------------------------------------


async def test_discovery_creates_hub_with_unit(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """With no hub yet, adopting the first discovered unit sets the hub up with it."""
    result = await start_discovery(hass, discovery(announcement()))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {
        "name": "Bench controller",
        "model": "bench-v1",
        "outputs": "temperature, door, mode, note, count",
        "inputs": "target, relay, preset, label, level",
    }
    flows = hass.config_entries.flow.async_progress()
    assert flows[0]["context"]["title_placeholders"] == {"name": "Bench controller"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_NAME: "Bench"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.unique_id == DOMAIN
    (subentry,) = entry.subentries.values()
    assert subentry.title == "Bench"
    assert subentry.subentry_type == SUBENTRY_UNIT
    uid = subentry.data["uid"]
    assert len(uid) == 12
    assert subentry.data["announce_id"] == ANNOUNCE_ID
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, uid)}) is not None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_discovery_adopts_into_hub(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """With a hub, adopting adds a unit subentry and hands the unit its schema.json."""
    info = discovery(announcement(name="Door"), topic="makerhub/announce/door-7")
    result = await start_discovery(hass, info)
    mqtt_mock.async_publish.reset_mock()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Front door"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unit_adopted"
    assert result["description_placeholders"] == {"name": "Front door"}
    await hass.async_block_till_done()
    units = [s for s in hub.subentries.values() if s.title == "Front door"]
    assert len(units) == 1
    uid = units[0].data["uid"]
    published = {call.args[0]: call.args[1:] for call in mqtt_mock.async_publish.call_args_list}
    schema_json = json.loads(published[f"makerhub/{uid}/sys/schema"][0])
    assert schema_json["unit"] == uid
    assert schema_json["outputs"]["temperature"] == [f"makerhub/{uid}/out/temperature"]
    assert published[f"makerhub/{uid}/sys/schema"][1:] == (1, True)
    assert json.loads(published["makerhub/announce/door-7/adopted"][0]) == schema_json
    assert hass.states.get("sensor.front_door_temperature") is not None


async def test_discovery_name_checks(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Names must be unique among units and not empty."""
    result = await start_discovery(hass, discovery(announcement(), "makerhub/announce/x"))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: " bench "}
    )
    assert result["errors"] == {CONF_NAME: "name_taken"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_NAME: " "})
    assert result["errors"] == {CONF_NAME: "invalid_name"}


async def test_discovery_without_hub_needs_mqtt_connected(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """Creating the hub from a discovery also checks the MQTT connection."""
    result = await start_discovery(hass, discovery(announcement()))
    with patch("custom_components.makerhub.config_flow.mqtt.is_connected", return_value=False):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_NAME: "Bench"}
        )
    assert result["errors"] == {"base": "mqtt_not_connected"}


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        (discovery(announcement(), "makerhub/announce/x/adopted"), "not_an_announcement"),
        (discovery(announcement(), "other/announce/x"), "not_an_announcement"),
        (discovery(""), "not_an_announcement"),
        (discovery("{not json"), "invalid_announcement"),
        (discovery(json.dumps({"name": "x", "schema": {"outputs": 5}})), "invalid_announcement"),
        (
            discovery(
                announcement(
                    schema={
                        "name": "x",
                        "outputs": {"t": {"type": "float", "device_class": "warmth"}},
                    }
                )
            ),
            "invalid_announcement",
        ),
    ],
)
async def test_discovery_refused(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, info: MqttServiceInfo, reason: str
) -> None:
    """Anything but a valid announcement on the hub's prefix is refused quietly."""
    result = await start_discovery(hass, info)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_discovery_of_adopted_unit(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """A unit already adopted is not offered again."""
    result = await start_discovery(hass, discovery(announcement(unit=UID)))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_discovery_of_ignored_unit(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> None:
    """A unit the user ignored stays ignored."""
    MockConfigEntry(
        domain=DOMAIN, source=SOURCE_IGNORE, unique_id=f"announce:{ANNOUNCE_ID}"
    ).add_to_hass(hass)
    result = await start_discovery(hass, discovery(announcement()))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_discovery_on_custom_prefix(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> None:
    """With a custom prefix, the hub itself starts discovery flows for announcements."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data=HUB_DATA,
        options={CONF_PREFIX: "space", CONF_OFFLINE_TIMEOUT: 90, CONF_UPDATE_INTERVAL: 0},
        unique_id=DOMAIN,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    async_fire_mqtt_message(hass, "space/announce/lamp-1", announcement(name="Lamp"), retain=True)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["title_placeholders"] for flow in flows] == [{"name": "Lamp"}]
    # The same message seen on the default prefix (the manifest's topic) is not ours.
    result = await start_discovery(hass, discovery(announcement(), "makerhub/announce/lamp-1"))
    assert result["reason"] == "not_an_announcement"
    await hass.config_entries.async_unload(entry.entry_id)


# -- unit subentries -----------------------------------------------------------------


async def test_subentry_adopt(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Units waiting for adoption can be adopted from the hub's page."""
    for announce_id, name in (("lamp-1", "Lamp"), ("fan-1", "Fan")):
        async_fire_mqtt_message(
            hass, f"makerhub/announce/{announce_id}", announcement(name=name), retain=True
        )
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (hub.entry_id, SUBENTRY_UNIT), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    options = result["data_schema"].schema["unit"].config["options"]
    assert options == [
        {"value": "fan-1", "label": "Fan (fan-1)"},
        {"value": "lamp-1", "label": "Lamp (lamp-1)"},
    ]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit": "lamp-1", CONF_NAME: "Bench"}
    )
    assert result["errors"] == {CONF_NAME: "name_taken"}
    # The fan withdraws its announcement while the form is open.
    async_fire_mqtt_message(hass, "makerhub/announce/fan-1", "")
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit": "fan-1"}
    )
    assert result["errors"] == {"unit": "unit_gone"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit": "lamp-1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert "Lamp" in {subentry.title for subentry in hub.subentries.values()}
    assert hass.states.get("sensor.lamp_temperature") is not None
    assert "lamp-1" not in hub.runtime_data.hub.announced


async def test_subentry_adopt_nothing_announced(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """With nothing to adopt, the flow explains how units announce themselves."""
    result = await hass.config_entries.subentries.async_init(
        (hub.entry_id, SUBENTRY_UNIT), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_announced_units"


async def test_subentry_adopt_hub_not_loaded(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """The hub must run to know which units announced themselves."""
    await hass.config_entries.async_unload(hub.entry_id)
    result = await hass.config_entries.subentries.async_init(
        (hub.entry_id, SUBENTRY_UNIT), context={"source": SOURCE_USER}
    )
    assert result["reason"] == "hub_not_loaded"


async def test_subentry_rename(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Renaming a unit renames its device, without a reload."""
    (subentry,) = hub.subentries.values()
    result = await hub.start_subentry_reconfigure_flow(hass, SUBENTRY_UNIT, subentry.subentry_id)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: ""}
    )
    assert result["errors"] == {CONF_NAME: "invalid_name"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Lathe bench"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert device.name == "Lathe bench"
    assert hub.runtime_data.hub.units[UID].identity.name == "Lathe bench"
    assert BENCH_SCHEMA["name"] == "Bench controller"
