"""The repository's blueprints in a harness Home Assistant: copied into its config
directory, automations created from them, a notify action that records what it is asked
to send, and a way to let the automations' runs reach their waits.

``tests/blueprints`` wraps these in fixtures; a feature's tests use them to run a
blueprint against that feature's real events and entities."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
import shutil
from typing import Any

from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component

REPO = Path(__file__).resolve().parents[2]
BLUEPRINTS = REPO / "blueprints"
AUTOMATION_BLUEPRINTS = sorted((BLUEPRINTS / "automation" / "makerhub").glob("*"))
"""Every file of the folder: a blueprint added there is checked by the loading tests."""

NOTIFY_SERVICE = "makerhub_test"
NOTIFY_ACTION = f"notify.{NOTIFY_SERVICE}"


@dataclass
class Notifications:
    """What the test notify action received: each call's data, in order."""

    sent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        """Return the messages, in order."""
        return [str(call["message"]) for call in self.sent]


def use_blueprints(hass: HomeAssistant, config_dir: Path) -> None:
    """Make ``config_dir`` (a fresh folder) Home Assistant's, with this repository's
    blueprints in it."""
    hass.config.config_dir = str(config_dir)
    shutil.copytree(BLUEPRINTS, config_dir / "blueprints")


def record_notifications(hass: HomeAssistant) -> Notifications:
    """Register ``notify.makerhub_test``, which records every message it is asked to send."""
    received = Notifications()

    async def send(call: ServiceCall) -> None:
        received.sent.append(dict(call.data))

    hass.services.async_register("notify", NOTIFY_SERVICE, send)
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


async def async_automation_from(hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]) -> str:
    """Set up one automation from a blueprint of ours with these inputs; return its id."""
    config = {
        AUTOMATION_DOMAIN: [
            {
                "id": "from_blueprint",
                "alias": "From blueprint",
                "use_blueprint": {"path": f"makerhub/{blueprint}", "input": inputs},
            }
        ]
    }
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, config)
    await settle(hass)
    entity_id = "automation.from_blueprint"
    state = hass.states.get(entity_id)
    assert state is not None, f"the automation from {blueprint} was not created"
    assert state.state == "on", f"the automation from {blueprint} is {state.state}"
    return entity_id
