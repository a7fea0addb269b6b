"""Fixtures of the blueprint tests: a config directory holding the repository's blueprints,
automations made from them, and a notify action that records what it was asked to send."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
import shutil
from typing import Any

from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest

REPO = Path(__file__).resolve().parents[2]
BLUEPRINTS = REPO / "blueprints"
AUTOMATION_BLUEPRINTS = sorted((BLUEPRINTS / "automation" / "makerhub").glob("*"))
"""Every file of the folder: a blueprint added there is checked by the loading tests."""

NOTIFY_SERVICE = "makerhub_test"
NOTIFY_ACTION = f"notify.{NOTIFY_SERVICE}"


@dataclass
class Notifications:
    """What the test notify action received: one ``(title, message, data)`` per call."""

    sent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        """Return the messages, in order."""
        return [str(call["message"]) for call in self.sent]


@pytest.fixture
def blueprint_hass(hass: HomeAssistant, tmp_path: Path) -> HomeAssistant:
    """Home Assistant whose config directory holds this repository's blueprints."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints")
    return hass


@pytest.fixture
def notifications(blueprint_hass: HomeAssistant) -> Notifications:
    """Register ``notify.makerhub_test``, which records every message it is asked to send."""
    received = Notifications()

    async def send(call: ServiceCall) -> None:
        received.sent.append(dict(call.data))

    blueprint_hass.services.async_register("notify", NOTIFY_SERVICE, send)
    return received


async def settle(hass: HomeAssistant) -> None:
    """Run the event loop until nothing is ready to run.

    ``hass.async_block_till_done`` would wait for the automation's run, which waits for
    an event or a template (an alert run lives until the problem is over); this returns
    once every run has reached such a wait. Time only moves with ``freezer`` and
    ``async_fire_time_changed``.
    """
    loop = asyncio.get_running_loop()
    for _ in range(10_000):
        await asyncio.sleep(0)
        if not loop._ready:  # type: ignore[attr-defined]
            return
    raise AssertionError("the event loop never settled")


AutomationFactory = Callable[[str, dict[str, Any]], Awaitable[str]]


@pytest.fixture
def automation_from(blueprint_hass: HomeAssistant) -> AutomationFactory:
    """Set up one automation from a blueprint of ours with these inputs; return its id."""

    async def create(blueprint: str, inputs: dict[str, Any]) -> str:
        config = {
            AUTOMATION_DOMAIN: [
                {
                    "id": "from_blueprint",
                    "alias": "From blueprint",
                    "use_blueprint": {"path": f"makerhub/{blueprint}", "input": inputs},
                }
            ]
        }
        assert await async_setup_component(blueprint_hass, AUTOMATION_DOMAIN, config)
        await settle(blueprint_hass)
        entity_id = "automation.from_blueprint"
        state = blueprint_hass.states.get(entity_id)
        assert state is not None, f"the automation from {blueprint} was not created"
        assert state.state == "on", f"the automation from {blueprint} is {state.state}"
        return entity_id

    return create
