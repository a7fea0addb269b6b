"""The platform tables (sensor.py, …): each names every feature's module of its platform."""

from __future__ import annotations

import importlib
from pathlib import Path
from unittest.mock import AsyncMock, sentinel

from homeassistant.const import Platform
import pytest

INTEGRATION = Path(__file__).resolve().parents[3] / "custom_components/makerhub"
PLATFORMS = sorted(p.value for p in Platform if (INTEGRATION / f"{p.value}.py").is_file())
FEATURES = sorted(
    path.name
    for path in INTEGRATION.iterdir()
    if (path / "__init__.py").is_file() and path.name != "core"
)


def test_the_tables_are_found() -> None:
    """The scan sees the platform tables and the feature packages."""
    assert {"sensor", "binary_sensor", "button", "update", "todo"} <= set(PLATFORMS)
    assert {"units", "firmware", "projects"} <= set(FEATURES)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_table_sets_up_every_feature_of_its_platform(
    platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Setting the platform up sets up each feature that has a module for it, once, with
    the same arguments; the table's docstring names those modules."""
    table = importlib.import_module(f"custom_components.makerhub.{platform}")
    features = [name for name in FEATURES if (INTEGRATION / name / f"{platform}.py").is_file()]
    assert features
    calls = {}
    for name in features:
        module = importlib.import_module(f"custom_components.makerhub.{name}.{platform}")
        calls[name] = AsyncMock()
        monkeypatch.setattr(module, "async_setup_entry", calls[name])
    await table.async_setup_entry(sentinel.hass, sentinel.entry, sentinel.add_entities)
    for name, setup in calls.items():
        setup.assert_awaited_once_with(sentinel.hass, sentinel.entry, sentinel.add_entities)
        assert f"{name}/{platform}.py" in (table.__doc__ or ""), name
