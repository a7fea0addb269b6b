"""Links and per-unit broker credentials end to end (issue 5), with real parts only.

A Mosquitto with the dynamic-security plugin, administered by the hub; a real ``hass``
whose MQTT integration has a broker user of its own; two units adopted through the
discovery flow, then run from the ``env.json`` and ``schema.json`` Home Assistant serves
them, so each connects with its *own* credentials. The test shows that:

- each unit may publish its own outputs and nothing of another unit's, nor read another
  unit's output, and a wrong password is refused;
- a link (with a transform) lets the target read the source's output, and the value goes
  unit to unit through the broker while Home Assistant is stopped;
- after unlinking, the broker stops delivering the source's output to the target at once
  (even on a subscription made while the link existed) and refuses new subscriptions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import contextlib
from functools import partial
import json
from pathlib import Path
import time
from typing import Any

import pytest

from custom_components.makerhub.core.dynsec import (
    ANNOUNCE_ROLE,
    PUBLISH_RECEIVE,
    PUBLISH_SEND,
    SUBSCRIBE_PATTERN,
    Acl,
    DynSecAdmin,
    announce_acls,
    unit_username,
)
from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit import Unit, Value
from tests.helpers.dynsec_broker import NOT_AUTHORIZED, MqttProbe, dynsec_broker, wait_until

pytestmark = pytest.mark.e2e

P = "makerhub"
ADMIN, ADMIN_PASSWORD = "admin", "admin-secret"
HA_USER, HA_PASSWORD = "homeassistant", "ha-secret"
ANNOUNCER, ANNOUNCER_PASSWORD = "makerhub-announce", "announce-secret"
REFUSED = (0x86, NOT_AUTHORIZED)
"""MQTT 5 CONNACK for a wrong password (bad user name or password; Mosquitto 2.0 with the
plugin says not authorised)."""
SOURCE = {
    "name": "Link source",
    "outputs": {"temperature": {"type": "float", "unit": "°C"}},
}
TARGET = {
    "name": "Link target",
    "inputs": {"target": {"type": "float", "min": -1000, "max": 1000}},
}


@pytest.fixture
def dynsec(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A Mosquitto with the dynamic-security plugin (no anonymous access)."""
    broker = dynsec_broker(tmp_path / "dynsec", ADMIN, ADMIN_PASSWORD)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
async def admin(socket_enabled: None, dynsec: MosquittoBroker) -> AsyncIterator[DynSecAdmin]:
    """The broker's admin, who made Home Assistant's user and a shared announce user."""
    async with DynSecAdmin(dynsec.host, dynsec.port, ADMIN, ADMIN_PASSWORD) as connection:
        everything = [Acl(kind, "#") for kind in (PUBLISH_SEND, PUBLISH_RECEIVE, SUBSCRIBE_PATTERN)]
        await connection.ensure_role(HA_USER, everything)  # as docs/broker.md sets it up
        await connection.ensure_client(HA_USER, HA_PASSWORD, [HA_USER])
        await connection.ensure_role(ANNOUNCE_ROLE, announce_acls(P))
        await connection.ensure_client(ANNOUNCER, ANNOUNCER_PASSWORD, [ANNOUNCE_ROLE])
        yield connection


class Parts:
    """Units and MQTT probes a test starts; all stopped at its end."""

    def __init__(self, broker: MosquittoBroker, directory: Path) -> None:
        self.broker = broker
        self.directory = directory
        self.units: list[Unit] = []
        self.probes: list[MqttProbe] = []

    async def start(self, unit: Unit) -> Unit:
        """Start a unit (off the event loop: it blocks until connected)."""
        self.units.append(unit)
        assert await asyncio.to_thread(unit.start, 15), "the unit could not connect"
        return unit

    async def stop(self, unit: Unit) -> None:
        """Stop one unit."""
        await asyncio.to_thread(unit.stop)
        self.units.remove(unit)

    async def probe(self, username: str, password: str, refused: bool = False) -> MqttProbe:
        """Connect an MQTT 5 client as ``username``; check it is accepted (or refused)."""
        probe = MqttProbe(self.broker, username, password)
        self.probes.append(probe)
        connack = await probe.connect()
        assert connack in REFUSED if refused else connack == 0, connack
        return probe

    async def unit_files(self, client: HassClient, uid: str) -> dict[str, Any]:
        """Fetch a unit's env.json and schema.json from Home Assistant into files."""
        env: dict[str, Any] = await client.get(f"/api/makerhub/units/{uid}/env.json")
        schema = await client.get(f"/api/makerhub/units/{uid}/schema.json")
        folder = self.directory / uid
        folder.mkdir(parents=True)
        (folder / "env.json").write_text(json.dumps(env))
        (folder / "schema.json").write_text(json.dumps(schema))
        return env

    def file_unit(self, uid: str, declaration: dict[str, Any]) -> Unit:
        """Build a unit from its files (QoS 1 outputs, typed inputs)."""
        folder = self.directory / uid
        (folder / "makerhub.json").write_text(json.dumps(declaration))
        return Unit.from_files(
            folder / "env.json",
            folder / "schema.json",
            folder / "makerhub.json",
            version="e2e-1",
            default_qos=1,
        )

    def stored_schema(self, uid: str) -> str:
        """Return the schema.json a file unit keeps (it rewrites it on every update)."""
        return (self.directory / uid / "schema.json").read_text()

    async def close(self) -> None:
        for probe in self.probes:
            await probe.close()
        for unit in self.units:
            await asyncio.to_thread(unit.stop)


@pytest.fixture
async def parts(
    socket_enabled: None, dynsec: MosquittoBroker, tmp_path: Path
) -> AsyncIterator[Parts]:
    """Start units and probes; all stopped at the end."""
    started = Parts(dynsec, tmp_path / "units")
    try:
        yield started
    finally:
        await started.close()


async def start_hass(process: HassProcess) -> HassClient:
    """Start Home Assistant and log in."""
    process.start()
    client = HassClient(process)
    await client.login()
    await client.wait_running()
    return client


async def set_up_hub(client: HassClient, broker: MosquittoBroker) -> None:
    """MQTT with Home Assistant's own broker user, the hub, and dynamic security."""
    flow = await client.start_flow("mqtt")
    result = await client.flow_step(
        flow["flow_id"],
        {"broker": broker.host, "port": broker.port, "username": HA_USER, "password": HA_PASSWORD},
    )
    assert result["type"] == "create_entry", result
    flow = await client.start_flow("makerhub")
    result = await client.flow_step(
        flow["flow_id"],
        {
            "prefix": P,
            "unit_broker_host": broker.host,
            "unit_broker_port": broker.port,
            "unit_broker_tls": False,
        },
    )
    assert result["type"] == "create_entry", result
    (entry,) = await client.entries("makerhub")
    result = await client.options_flow(
        entry["entry_id"],
        {"next_step_id": "broker_access"},
        {
            "broker_access": "dynamic_security",
            "broker_admin_host": broker.host,
            "broker_admin_port": broker.port,
            "broker_admin_username": ADMIN,
            "broker_admin_password": ADMIN_PASSWORD,
        },
    )
    assert result["type"] == "create_entry", result


def has_uid(unit: Unit) -> bool:
    """Return whether an announcing unit has been handed its schema.json."""
    return unit.uid is not None


async def adopt_units(client: HassClient, parts: Parts) -> dict[str, dict[str, Any]]:
    """Announce both units with the shared announce user and adopt them; return the
    registry entries of the source's output and the target's input."""
    announcers = [
        Unit.announcing(
            f"links-{index}",
            parts.broker.host,
            parts.broker.port,
            schema=schema,
            state_dir=parts.directory / "announcing",
            username=ANNOUNCER,
            password=ANNOUNCER_PASSWORD,
            version="e2e-1",
        )
        for index, schema in enumerate((SOURCE, TARGET))
    ]
    for unit in announcers:
        await parts.start(unit)
    flows = await client.wait_for(
        client.discovered_units, lambda flows: len(flows) == 2, 30, "two discovered units"
    )
    for flow in flows:
        name = flow["context"]["title_placeholders"]["name"]
        result = await client.adopt(flow["flow_id"], name)
        assert result["reason"] == "unit_adopted", result
    # The shared user may hand the units their schema.json, but not let them go online:
    # from here on they run from the files Home Assistant serves, as themselves.
    for unit in announcers:
        await wait_until(partial(has_uid, unit), 15, "the handover")
        await parts.stop(unit)
    suffixes = ("-out-temperature", "-in-target")

    def found(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {
            suffix: entry
            for entry in entries
            for suffix in suffixes
            if entry["platform"] == "makerhub" and entry["unique_id"].endswith(suffix)
        }

    registry = await client.wait_for(
        lambda: client.ws({"type": "config/entity_registry/list"}),
        lambda entries: len(found(entries)) == len(suffixes),
        30,
        "the units' entities",
    )
    entities = found(registry)
    uids = {entry["unique_id"].split("-")[0] for entry in entities.values()}
    assert uids == {unit.uid for unit in announcers}
    return entities


async def publish_until(
    publish: Callable[[], None], arrived: Callable[[], bool], what: str, timeout: float = 15
) -> None:
    """Publish again every 0.25 s until ``arrived`` (a new subscription may lag)."""
    deadline = time.monotonic() + timeout
    while not arrived():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        publish()
        with contextlib.suppress(AssertionError):
            await wait_until(arrived, 0.25, what)


async def wait_async[T](
    fetch: Callable[[], Awaitable[T]], check: Callable[[T], bool], what: str, timeout: float = 15
) -> T:
    """Poll an async ``fetch`` until ``check`` holds."""
    deadline = time.monotonic() + timeout
    while not check(value := await fetch()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last seen: {value!r}")
        await asyncio.sleep(0.1)
    return value


async def test_units_confined_and_linked_without_home_assistant(
    hass_process: HassProcess, dynsec: MosquittoBroker, admin: DynSecAdmin, parts: Parts
) -> None:
    """Own credentials, confinement, a link routed by the broker alone, and unlinking."""
    client = await start_hass(hass_process)
    try:
        await set_up_hub(client, dynsec)
        entities = await adopt_units(client, parts)
        source_entity = entities["-out-temperature"]["entity_id"]
        target_entity = entities["-in-target"]["entity_id"]
        a_uid = entities["-out-temperature"]["unique_id"].split("-")[0]
        b_uid = entities["-in-target"]["unique_id"].split("-")[0]
        a_out = f"{P}/{a_uid}/out/temperature"
        b_in = f"{P}/{b_uid}/in/target"

        # The hub made each unit a broker user; Home Assistant hands out its credentials.
        for uid in (a_uid, b_uid):
            await wait_async(
                partial(admin.get_client, unit_username(uid)),
                lambda found: found is not None,
                f"the broker user of unit {uid}",
            )
        env_a = await parts.unit_files(client, a_uid)
        env_b = await parts.unit_files(client, b_uid)
        for env, uid in ((env_a, a_uid), (env_b, b_uid)):
            assert env["MH_UNIT_ID"] == uid
            assert env["MH_MQTT_USERNAME"] == unit_username(uid)
            assert env["MH_MQTT_PORT"] == dynsec.port
        assert env_a["MH_MQTT_PASSWORD"] != env_b["MH_MQTT_PASSWORD"]

        unit_a = await parts.start(parts.file_unit(a_uid, SOURCE))
        unit_b = parts.file_unit(b_uid, TARGET)
        received: list[Value] = []
        unit_b.on_input("target", received.append)
        await parts.start(unit_b)

        # Home Assistant sees the unit, which connected as itself. The value is sent again
        # while waiting: Home Assistant may still be subscribing to the new unit's topics.
        async def publish_and_read() -> dict[str, Any] | None:
            unit_a.publish("temperature", 21.5)
            return await client.state(source_entity)

        await client.wait_for(
            publish_and_read,
            lambda state: state is not None and state["state"] == "21.5",
            30,
            "the source's temperature in Home Assistant",
        )

        # Confinement: a wrong password is refused; each unit may use its own topics only.
        await parts.probe(unit_username(a_uid), env_b["MH_MQTT_PASSWORD"], refused=True)
        as_a = await parts.probe(env_a["MH_MQTT_USERNAME"], env_a["MH_MQTT_PASSWORD"])
        as_b = await parts.probe(env_b["MH_MQTT_USERNAME"], env_b["MH_MQTT_PASSWORD"])
        assert await as_a.publish(a_out, "22") == 0
        assert await as_a.publish(b_in, "99") == NOT_AUTHORIZED
        assert await as_a.publish(f"{P}/{b_uid}/out/target", "99") == NOT_AUTHORIZED
        assert await as_a.publish(f"{P}/{b_uid}/sys/status", "offline") == NOT_AUTHORIZED
        assert await as_a.subscribe(f"{P}/#") == NOT_AUTHORIZED
        assert await as_b.subscribe(a_out) == NOT_AUTHORIZED  # not linked yet
        assert await as_b.subscribe(b_in) == 1

        # Link A.temperature → B.target (value * 2 + 1). The hub widens B's role before B gets
        # its new schema.json: B subscribes once, on that schema, and is not refused.
        link = await client.service_response(
            "makerhub",
            "link",
            {"source": source_entity, "target": target_entity, "scale": 2, "offset": 1},
        )
        await wait_until(
            lambda: a_out in parts.stored_schema(b_uid), 15, "B's schema.json with the link"
        )
        assert await as_b.subscribe(a_out) == 1
        await publish_until(
            lambda: unit_a.publish("temperature", 21.5), lambda: 44.0 in received, "44.0 at B"
        )
        target = await client.state(target_entity)
        assert target is not None
        assert len(target["attributes"]["linked_from"]) == 1

        # Home Assistant stops: the broker alone carries A's value to B.
        await client.close()
        assert await asyncio.to_thread(hass_process.stop) == 0
        assert not hass_process.running
        unit_a.publish("temperature", 30.0)
        await wait_until(lambda: 61.0 in received, 5, "61.0 at B with Home Assistant stopped")
        await as_b.expect(a_out, "30.0")
        assert await as_a.publish(b_in, "99") == NOT_AUTHORIZED  # still confined

        # Home Assistant back; unlink: B's account loses A's output at once.
        client = await start_hass(hass_process)
        await client.service_response("makerhub", "unlink", {"link": link["link"]})
        await wait_until(
            lambda: a_out not in parts.stored_schema(b_uid), 30, "B's schema.json without it"
        )
        assert await as_a.publish(a_out, "20") == 0  # routed before the sentinel below
        # Home Assistant drops service calls to unavailable entities: wait until the
        # unit's retained status has come back.
        await client.wait_for(
            lambda: client.state(target_entity),
            lambda state: state is not None and state["state"] != "unavailable",
            30,
            "the target unit to be available again",
        )
        await client.call_service("number", "set_value", {"entity_id": target_entity, "value": 7})
        await wait_until(lambda: 7.0 in received, 10, "the input set from Home Assistant")
        await wait_until(lambda: bool(as_b.received(b_in)), 10, "the sentinel at B's probe")
        assert 41.0 not in received
        assert "20" not in as_b.received(a_out)  # subscribed while linked, no longer delivered
        assert await as_b.subscribe(a_out) == NOT_AUTHORIZED
    finally:
        await client.close()
    assert await asyncio.to_thread(hass_process.stop) == 0
    assert hass_process.makerhub_problems() == []
