"""What the hub publishes to its units: their retained ``schema.json`` (links included),
commands on ``sys/cmd``, and the retained topics it clears.

The links feeding each unit's inputs are part of its ``schema.json``; the publisher keeps
the links as last reconciled, and which of them each published ``schema.json`` holds.
"""

from __future__ import annotations

import json
from typing import Any, Final

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from ..core.links import LinkRegistry
from ..core.protocol import UnitTopics, adopted_topic, build_schema_json, command
from ..core.schema import UnitSchema
from ..core.unit import UnitRuntime
from ..links.subentries import stored_links

QOS: Final = 1

type UnitLinks = tuple[dict[str, list[str]], dict[str, dict[str, dict[str, float]]]]
"""The links feeding a unit's inputs and their transforms, by topic."""


class UnitPublisher:
    """Publishes to the units of one hub entry (in the background unless awaited)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, prefix: str) -> None:
        """Publish under ``prefix``, with the links stored in ``entry``."""
        self.hass = hass
        self.entry = entry
        self.prefix = prefix
        self.links: LinkRegistry = stored_links(entry)
        """The links stored in the hub's subentries, as last reconciled."""
        self.published_links: dict[str, UnitLinks] = {}
        """Per unit, the links and transforms its published ``schema.json`` holds."""

    def follow_links(self) -> None:
        """Read the links stored in the entry's subentries again."""
        self.links = stored_links(self.entry)

    @callback
    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        """Publish in the background (the entry's unload cancels it)."""
        self.entry.async_create_background_task(
            self.hass,
            mqtt.async_publish(self.hass, topic, payload, QOS, retain),
            f"makerhub publish {topic}",
        )

    async def async_publish_retained(self, topic: str, payload: str) -> None:
        """Publish a retained message and wait for it to be sent."""
        await mqtt.async_publish(self.hass, topic, payload, QOS, True)

    async def async_send_command(self, unit: UnitRuntime, cmd: str, **fields: Any) -> None:
        """Publish a command on the unit's ``sys/cmd`` topic."""
        await mqtt.async_publish(
            self.hass, unit.topics.sys("cmd"), command(cmd, **fields), QOS, False
        )

    @callback
    def publish_command(self, unit: UnitRuntime, cmd: str) -> None:
        """Publish a command on the unit's ``sys/cmd`` topic in the background."""
        self.publish(unit.topics.sys("cmd"), command(cmd))

    @callback
    def publish_schema(self, unit: UnitRuntime) -> None:
        """Publish a unit's ``schema.json`` (retained)."""
        self.publish(unit.topics.sys("schema"), self.schema_payload(unit), retain=True)

    @callback
    def hand_over(self, unit: UnitRuntime) -> None:
        """Give an announced unit its ``schema.json`` on its adoption topic."""
        if (announce_id := unit.identity.announce_id) is None:
            return
        self.publish(
            adopted_topic(self.prefix, announce_id), self.schema_payload(unit), retain=True
        )

    def unit_links(self, uid: str, prefix: str) -> UnitLinks:
        """Return the links feeding a unit's inputs and their transforms (by topic)."""
        return self.links.schema_links(uid, prefix), self.links.transforms(uid, prefix)

    def links_changed(self, uid: str) -> bool:
        """Return whether a unit's links differ from those its ``schema.json`` holds."""
        return self.published_links.get(uid) != self.unit_links(uid, self.prefix)

    def schema_json(
        self,
        unit: UnitRuntime,
        topics: UnitTopics | None = None,
        schema: UnitSchema | None = None,
    ) -> dict[str, Any]:
        """Return a unit's ``schema.json``, its links included (for ``schema``: another
        version's ``makerhub.json``, such as an update's target)."""
        topics = topics or unit.topics
        links, transforms = self.unit_links(unit.uid, topics.prefix)
        return build_schema_json(topics, schema or unit.identity.schema, links, transforms)

    def schema_payload(self, unit: UnitRuntime, topics: UnitTopics | None = None) -> str:
        """Return ``schema.json`` as published, remembering which links it holds."""
        topics = topics or unit.topics
        self.published_links[unit.uid] = self.unit_links(unit.uid, topics.prefix)
        return json.dumps(self.schema_json(unit, topics))
