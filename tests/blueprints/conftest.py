"""Fixtures of the blueprint tests (over ``tests/helpers/blueprints.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from tests.helpers.blueprints import (
    AUTOMATION_BLUEPRINTS,
    BLUEPRINTS,
    NOTIFY_ACTION,
    REPO,
    Notifications,
    async_automation_from,
    record_notifications,
    settle,
    use_blueprints,
)

__all__ = [
    "AUTOMATION_BLUEPRINTS",
    "BLUEPRINTS",
    "NOTIFY_ACTION",
    "REPO",
    "AutomationFactory",
    "Notifications",
    "settle",
]

AutomationFactory = Callable[[str, dict[str, Any]], Awaitable[str]]


@pytest.fixture
def blueprint_hass(hass: HomeAssistant, tmp_path: Path) -> HomeAssistant:
    """Home Assistant whose config directory holds this repository's blueprints."""
    use_blueprints(hass, tmp_path)
    return hass


@pytest.fixture
def notifications(blueprint_hass: HomeAssistant) -> Notifications:
    """``notify.makerhub_test``, recording every message it is asked to send."""
    return record_notifications(blueprint_hass)


@pytest.fixture
def automation_from(blueprint_hass: HomeAssistant) -> AutomationFactory:
    """Set up one automation from a blueprint of ours with these inputs; return its id."""

    async def create(blueprint: str, inputs: dict[str, Any]) -> str:
        return await async_automation_from(blueprint_hass, blueprint, inputs)

    return create
