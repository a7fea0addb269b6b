"""Every blueprint in ``blueprints/automation/makerhub/`` loads with Home Assistant's own
blueprint loader and schema, carries the metadata users import it by, and makes a valid
automation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint import Blueprint
from homeassistant.components.blueprint.errors import MissingInput
from homeassistant.const import __version__ as ha_version
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
from homeassistant.setup import async_setup_component
import pytest
import voluptuous as vol

from .conftest import AUTOMATION_BLUEPRINTS, REPO
from .examples import EXAMPLE_INPUTS

SOURCE_URL = "https://github.com/makerhub/makerhub/blob/main/{path}"
MIN_VERSION = "2025.4.0"


def _inputs(blueprint: Blueprint) -> dict[str, Any]:
    """Return every input, those in sections included."""
    found: dict[str, Any] = {}
    for key, value in blueprint.data["blueprint"]["input"].items():
        if value and "input" in value:
            found.update(value["input"])
        else:
            found[key] = value
    return found


def test_the_folder_holds_blueprints() -> None:
    assert len(AUTOMATION_BLUEPRINTS) >= 3
    for path in AUTOMATION_BLUEPRINTS:
        assert path.suffix == ".yaml", f"{path.name}: blueprints are .yaml files"


def test_every_blueprint_has_an_example() -> None:
    assert sorted(EXAMPLE_INPUTS) == [path.name for path in AUTOMATION_BLUEPRINTS]


@pytest.mark.parametrize("path", AUTOMATION_BLUEPRINTS, ids=lambda path: path.name)
async def test_blueprint_loads_with_home_assistant(
    blueprint_hass: HomeAssistant, path: Path
) -> None:
    """The blueprint integration's loader and the automation blueprint schema accept it,
    and its metadata is what users import it by."""
    assert await async_setup_component(blueprint_hass, "blueprint", {})
    blueprint = await async_get_blueprints(blueprint_hass).async_get_blueprint(
        f"makerhub/{path.name}"
    )
    assert blueprint.domain == "automation"
    assert blueprint.validate() is None, f"needs a newer Home Assistant than {ha_version}"
    metadata = blueprint.metadata
    assert metadata["source_url"] == SOURCE_URL.format(path=path.relative_to(REPO).as_posix())
    assert metadata["homeassistant"]["min_version"] == MIN_VERSION
    assert metadata["name"].startswith("Makerhub — ")
    assert "How to set it up" in metadata["description"]
    for key, value in _inputs(blueprint).items():
        assert value, f"input {key} is empty"
        assert value.get("name"), f"input {key} has no name"
        assert value.get("selector"), f"input {key} has no selector"


@pytest.mark.parametrize("path", AUTOMATION_BLUEPRINTS, ids=lambda path: path.name)
async def test_automation_from_blueprint_validates(
    blueprint_hass: HomeAssistant, path: Path
) -> None:
    """An automation made from the blueprint with the example inputs passes the automation
    integration's full validation (inputs against the selectors, the substituted triggers,
    conditions and actions)."""
    assert await async_setup_component(blueprint_hass, "blueprint", {})
    config = {
        "id": "example",
        "alias": "Example",
        "use_blueprint": {"path": f"makerhub/{path.name}", "input": EXAMPLE_INPUTS[path.name]},
    }
    validated = await async_validate_config_item(blueprint_hass, "automation.example", config)
    assert validated is not None
    assert validated.validation_error is None, validated.validation_error
    assert validated.validation_status == "ok"


@pytest.mark.parametrize("path", AUTOMATION_BLUEPRINTS, ids=lambda path: path.name)
async def test_example_inputs_match_the_typed_selectors(
    blueprint_hass: HomeAssistant, path: Path
) -> None:
    """Each input's selector (what the automation editor offers) accepts the example, and
    the blueprint's defaults (an empty default is an optional input left unset, which the
    editor allows and the blueprint's template handles)."""
    assert await async_setup_component(blueprint_hass, "blueprint", {})
    blueprint = await async_get_blueprints(blueprint_hass).async_get_blueprint(
        f"makerhub/{path.name}"
    )
    for key, value in _inputs(blueprint).items():
        validate = selector.selector(value["selector"])
        if key in EXAMPLE_INPUTS[path.name]:
            validate(EXAMPLE_INPUTS[path.name][key])
        if value.get("default") not in (None, "", []):
            validate(value["default"])


def test_a_limit_that_is_no_number_is_refused_by_its_selector() -> None:
    with pytest.raises(vol.Invalid):
        selector.selector({"number": {"min": -1000000, "max": 1000000, "step": "any"}})("warm")


async def test_a_missing_input_is_refused(blueprint_hass: HomeAssistant) -> None:
    assert await async_setup_component(blueprint_hass, "blueprint", {})
    inputs = dict(EXAMPLE_INPUTS["makerhub_threshold_alert.yaml"])
    del inputs["sensor"]
    config = {
        "id": "bad",
        "use_blueprint": {"path": "makerhub/makerhub_threshold_alert.yaml", "input": inputs},
    }
    with pytest.raises(MissingInput, match="sensor"):
        await async_validate_config_item(blueprint_hass, "automation.bad", config)
