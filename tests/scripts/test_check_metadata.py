"""scripts/lib/check_metadata.py: the repository passes, and each broken file fails."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import shutil
import sys
from types import ModuleType
from typing import Any

from homeassistant.helpers import selector
import pytest
import voluptuous as vol
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "lib"))

import check_metadata  # noqa: E402

INTEGRATION = ROOT / "custom_components" / "makerhub"
ADDON = ROOT / "addons" / "makerhub_firmware"

Tree = dict[str, Any]


def test_the_repository_passes() -> None:
    """What scripts/test checks: the integration and every add-on, with no problem."""
    assert check_metadata.check_integration(INTEGRATION) == []
    assert check_metadata.check_addons(ROOT / "addons") == []
    assert check_metadata.main([]) == 0


@pytest.fixture
def integration(tmp_path: Path) -> Path:
    """A copy of the integration to break."""
    copy = tmp_path / "makerhub"
    shutil.copytree(INTEGRATION, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def edit_json(path: Path, change: Callable[[Tree], object]) -> None:
    tree = json.loads(path.read_text())
    change(tree)
    path.write_text(json.dumps(tree, indent=2, ensure_ascii=False) + "\n")


def break_strings(integration: Path, change: Callable[[Tree], object]) -> list[str]:
    """Change strings.json, regenerate translations/en.json from it as scripts/translations
    does, and return the problems."""
    edit_json(integration / "strings.json", change)
    common = json.loads((Path(check_metadata.cv.__file__).parents[1] / "strings.json").read_text())
    strings = json.loads((integration / "strings.json").read_text())
    english = check_metadata.resolve(
        strings, {"component": {"makerhub": strings}, "common": common["common"]}
    )
    (integration / "translations" / "en.json").write_text(json.dumps(english, indent=2) + "\n")
    return check_metadata.check_integration(integration)


def user_step(strings: Tree) -> Tree:
    step: Tree = strings["config"]["step"]["user"]
    return step


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (
            lambda s: user_step(s)["data_description"].update(prefix="Topics are `<p>/x`."),
            "config.step.user.data_description.prefix",
            "the string should not contain HTML",
        ),
        (
            lambda s: s["selector"]["project_licence"]["options"].update({"apache-2.0": "A"}),
            "selector.project_licence.options",
            "Invalid translation key 'apache-2.0'",
        ),
        (
            lambda s: user_step(s).update(title=" Set up"),
            "config.step.user.title",
            "leading or trailing spaces",
        ),
        (
            lambda s: user_step(s).update(description="See https://example.com/docs."),
            "config.step.user.description",
            "should not contain URLs",
        ),
        (
            lambda s: user_step(s).update(description="Called '{name}'."),
            "config.step.user.description",
            "placeholders inside single quotes",
        ),
        (
            lambda s: user_step(s).update(description="Unit {0} is here."),
            "config.step.user.description",
            "placeholders must be valid identifiers",
        ),
        (
            lambda s: s["entity"]["sensor"]["rollout"]["state"].update(idle="Idle {since}"),
            "entity.sensor.rollout.state.idle",
            "placeholders are not supported",
        ),
        (
            lambda s: user_step(s)["data_description"].update(port="Port."),
            "config.step.user.data_description.port",
            "data_description key port is not in data",
        ),
        (
            lambda s: s["config_subentries"]["unit"].pop("entry_type"),
            "config_subentries.unit.entry_type",
            "required key not provided",
        ),
        (
            lambda s: s["config"]["step"]["user"].update(sections={"x": {"icon": "mdi:x"}}),
            "config.step.user.sections.x.icon",
            "extra keys not allowed",
        ),
        (
            lambda s: s["issues"]["corrupt_unit"].pop("title"),
            "issues.corrupt_unit.title",
            "required key not provided",
        ),
        (
            lambda s: s["services"]["link"]["fields"]["scale"].pop("description"),
            "services.link.fields.scale.description",
            "required key not provided",
        ),
    ],
)
def test_hassfest_translation_rules(
    integration: Path, change: Callable[[Tree], object], where: str, message: str
) -> None:
    """Each hassfest rule refuses the text, in strings.json and in translations/en.json."""
    problems = break_strings(integration, change)
    for file in ("makerhub/strings.json", "makerhub/translations/en.json"):
        assert any(p.startswith(f"{file}: {where}") and message in p for p in problems), problems


def test_reference_combined_with_text(integration: Path) -> None:
    """A reference must be the whole text (en.json has it resolved, so only strings.json)."""
    problems = break_strings(
        integration,
        lambda s: user_step(s).update(
            description="Read [%key:common::config_flow::data::name%] first."
        ),
    )
    assert problems == [
        (
            "makerhub/strings.json: config.step.user.description: "
            "the string should not contain combined translations"
        )
    ]


def test_every_flow_field_needs_a_description(integration: Path) -> None:
    """A field without a data_description fails, in a step and in a section."""

    def change(strings: Tree) -> None:
        del user_step(strings)["data_description"]["prefix"]
        strings["options"]["step"]["settings"]["sections"] = {
            "advanced": {"name": "Advanced", "data": {"x": "X"}}
        }

    problems = break_strings(integration, change)
    assert (
        "makerhub/strings.json: config.step.user.data.prefix: has no data_description" in problems
    )
    assert (
        "makerhub/strings.json: options.step.settings.sections.advanced.data.x: "
        "has no data_description" in problems
    )


def test_references(integration: Path) -> None:
    """A reference to nothing, or to another reference, fails."""

    def change(strings: Tree) -> None:
        strings["config"]["error"]["invalid_host"] = "[%key:component::makerhub::nothing::here%]"
        strings["config"]["error"]["invalid_name"] = (
            "[%key:component::makerhub::config::error::firmware_auth%]"
        )

    problems = break_strings(integration, change)
    assert (
        "makerhub/strings.json: config.error.invalid_host: "
        "invalid reference component::makerhub::nothing::here" in problems
    )
    assert (
        "makerhub/strings.json: config.error.invalid_name: component::makerhub::config::error::"
        "firmware_auth is itself a reference: point to the text directly" in problems
    )


def test_other_languages(integration: Path) -> None:
    """Another language may lack texts, but its texts follow the same rules."""
    (integration / "translations" / "de.json").write_text(
        json.dumps({"config": {"step": {"user": {"title": "Einrichten <b>jetzt</b>"}}}})
    )
    assert check_metadata.check_integration(integration) == [
        (
            "makerhub/translations/de.json: config.step.user.title: "
            "the string should not contain HTML"
        )
    ]


def test_english_out_of_sync(integration: Path) -> None:
    """translations/en.json that is not strings.json resolved fails, so does a reference
    left in it."""
    edit_json(
        integration / "translations" / "en.json",
        lambda t: t["config"]["error"].update(
            invalid_host="Other", invalid_name="[%key:common::config_flow::data::name%]"
        ),
    )
    problems = check_metadata.check_integration(integration)
    assert (
        "makerhub/translations/en.json: not strings.json with its references resolved "
        "(run scripts/translations)" in problems
    )
    assert (
        "makerhub/translations/en.json: config.error.invalid_name: "
        "unresolved reference (run scripts/translations)" in problems
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s["exceptions"].pop("hub_not_loaded"),
            "makerhub/strings.json: exceptions.hub_not_loaded: missing (makerhub/runtime.py:",
        ),
        (
            lambda s: s["issues"].pop("telemetry_dsn_lost"),
            (
                "makerhub/strings.json: issues.telemetry_dsn_lost: missing "
                "(makerhub/telemetry/manager.py:"
            ),
        ),
        (
            lambda s: s["entity"]["sensor"].pop("rollout"),
            "makerhub/strings.json: entity.sensor.rollout: missing (makerhub/firmware/sensor.py:",
        ),
        (
            lambda s: s["entity"]["button"].pop("todoist_sync"),
            (
                "makerhub/strings.json: entity.button.todoist_sync: missing "
                "(makerhub/projects/button.py:"
            ),
        ),
        (
            lambda s: s["selector"].pop("broker_access"),
            (
                "makerhub/strings.json: selector.broker_access: missing "
                "(makerhub/broker_access/options.py:"
            ),
        ),
        (
            lambda s: s["config"]["abort"].pop("hub_first"),
            "makerhub/strings.json: config.abort.hub_first: missing (makerhub/config_flow.py:",
        ),
        (
            lambda s: s["config"]["abort"].pop("already_configured"),
            "makerhub/strings.json: config.abort.already_configured: missing",
        ),
        (
            lambda s: s["options"]["error"].pop("invalid_prefix"),
            "makerhub/strings.json: options.error.invalid_prefix: missing",
        ),
        (
            lambda s: s["options"]["step"].pop("presence"),
            (
                "makerhub/strings.json: options.step.presence: missing "
                "(makerhub/presence/options.py:"
            ),
        ),
        (
            lambda s: s["options"]["step"]["init"]["menu_options"].pop("firmware"),
            "makerhub/strings.json: options.step.init.menu_options.firmware: missing",
        ),
        (
            lambda s: s["config_subentries"]["link"]["error"].pop("invalid_link"),
            (
                "makerhub/strings.json: config_subentries.link.error.invalid_link: missing "
                "(makerhub/links/flow.py:"
            ),
        ),
        (
            lambda s: s["config_subentries"]["firmware_unit"]["step"].pop("env"),
            (
                "makerhub/strings.json: config_subentries.firmware_unit.step.env: missing "
                "(makerhub/firmware/flow.py:"
            ),
        ),
    ],
)
def test_keys_the_code_uses(
    integration: Path, change: Callable[[Tree], object], expected: str
) -> None:
    """A key the code uses with no text fails, naming the line that uses it."""
    problems = break_strings(integration, change)
    assert any(p.startswith(expected) for p in problems), problems


def test_actions(integration: Path) -> None:
    """An action needs its texts and icon; services.yaml follows hassfest's schema."""

    def change_services(services: Tree) -> None:
        services["link"]["fields"]["scale"]["selector"] = {"nonsense": None}
        services["get_history"]["fields"]["aggregation"]["selector"]["select"][
            "translation_key"
        ] = "nowhere"
        services["new_action"] = {"fields": {"x": {"selector": {"text": None}}}}

    path = integration / "services.yaml"
    services = yaml.safe_load(path.read_text())
    change_services(services)
    path.write_text(yaml.safe_dump(services))
    problems = check_metadata.check_integration(integration)
    assert any(
        p.startswith("makerhub/services.yaml: link.fields.scale.selector: Unknown selector type")
        for p in problems
    ), problems

    del services["link"]["fields"]["scale"]["selector"]
    path.write_text(yaml.safe_dump(services))
    edit_json(integration / "icons.json", lambda t: t["services"].pop("unlink"))
    problems = check_metadata.check_integration(integration)
    assert "makerhub/icons.json: services.unlink: the action has no icon" in problems
    assert "makerhub/icons.json: services.new_action: the action has no icon" in problems
    assert "makerhub/strings.json: services.new_action.name: missing" in problems
    assert "makerhub/strings.json: services.new_action.fields.x.description: missing" in problems
    assert (
        "makerhub/strings.json: selector.nowhere: missing: action get_history field "
        "aggregation uses this selector translation key" in problems
    )

    del services["update_units"]
    path.write_text(yaml.safe_dump(services))
    problems = check_metadata.check_integration(integration)
    assert (
        "makerhub/services.yaml: update_units: "
        "the code registers this action but services.yaml lacks it" in problems
    )
    assert "makerhub/strings.json: services.update_units: not an action in services.yaml" in (
        problems
    )


def test_select_options(integration: Path) -> None:
    """Each option of a translated select selector has a text: in services.yaml, and in
    the flows' schemas (their options are computed, so read from the imported module)."""
    path = integration / "services.yaml"
    services = yaml.safe_load(path.read_text())
    services["get_history"]["fields"]["aggregation"]["selector"]["select"]["options"].append("mode")
    path.write_text(yaml.safe_dump(services))
    flows = ModuleType("flows")
    flows.LICENCE_SCHEMA = vol.Schema(  # type: ignore[attr-defined]
        {
            vol.Required("project_licence"): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=["mit", "wtfpl"], translation_key="project_licence"
                )
            ),
            vol.Required("size"): selector.SelectSelector(
                selector.SelectSelectorConfig(options=["s"], translation_key="size")
            ),
        }
    )
    problems = check_metadata.check_integration(integration, modules=[flows])
    assert problems == [
        (
            "makerhub/strings.json: selector.history_aggregation.options.mode: "
            "missing: action get_history field aggregation offers it"
        ),
        (
            "makerhub/strings.json: selector.project_licence.options.wtfpl: "
            "missing: flows.LICENCE_SCHEMA field project_licence offers it"
        ),
        (
            "makerhub/strings.json: selector.size: "
            "missing: flows.LICENCE_SCHEMA field size uses this selector translation key"
        ),
    ]


def test_the_flows_selectors_are_checked() -> None:
    """For this repository, the flow modules are imported and their selectors checked."""
    modules = check_metadata.flow_modules(INTEGRATION)
    assert {module.__name__.removeprefix("custom_components.makerhub.") for module in modules} >= {
        "config_flow",
        "flows",
        "projects.flow",
        "projects.options",
    }
    assert check_metadata.flow_modules(INTEGRATION.parent / "elsewhere") == []


def test_icons(integration: Path) -> None:
    """Icons are ``mdi:`` icons, for keys that exist."""
    edit_json(
        integration / "icons.json",
        lambda t: (
            t["entity"]["sensor"]["rollout"].update(default="chip"),
            t["entity"]["sensor"].update(gone={"default": "mdi:chip"}),
        ),
    )
    problems = check_metadata.check_integration(integration)
    assert any(
        p.startswith("makerhub/icons.json: entity.sensor.rollout.default: The icon needs")
        for p in problems
    ), problems
    assert "makerhub/icons.json: entity.sensor.gone: no text for this key" in problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda m: m.update(zzz_first=True) or m.update(domain=m.pop("domain")),
            (
                "makerhub/manifest.json: Manifest keys are not sorted correctly: "
                "domain, name, then alphabetical order"
            ),
        ),
        (lambda m: m.pop("version"), "makerhub/manifest.json: version: No 'version' key"),
        (lambda m: m.update(version="one"), "makerhub/manifest.json: version: 'one' is not"),
        (lambda m: m.update(iot_class="sometimes"), "makerhub/manifest.json: iot_class: value"),
        (lambda m: m.pop("codeowners"), "makerhub/manifest.json: codeowners: required key"),
        (
            lambda m: m.update(documentation="http://example.com"),
            "makerhub/manifest.json: documentation: Documentation url is not prefixed",
        ),
        (lambda m: m.update(domain="maker"), "makerhub/manifest.json: domain: Domain does not"),
    ],
)
def test_manifest(integration: Path, change: Callable[[Tree], object], expected: str) -> None:
    """hassfest's manifest rules for a custom integration."""
    edit_json(integration / "manifest.json", change)
    problems = check_metadata.check_integration(integration)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.fixture
def addon(tmp_path: Path) -> Path:
    """A copy of the firmware add-on to break."""
    copy = tmp_path / "addons" / ADDON.name
    shutil.copytree(ADDON, copy, ignore=shutil.ignore_patterns("__pycache__", "makerhub_firmware"))
    return copy


def edit_yaml(path: Path, change: Callable[[Tree], object]) -> None:
    tree = yaml.safe_load(path.read_text())
    change(tree)
    path.write_text(yaml.safe_dump(tree, sort_keys=False))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c.update(watchdog="tcp://[HOST]:[PORT:8099]"),
            "'watchdog', is obsolete. Use the native Docker HEALTHCHECK directive instead.",
        ),
        (lambda c: c.update(boot="auto"), "'boot' should be removed, it uses a default value"),
        (lambda c: c.update(arch=["mips"]), "arch.0: value must be one of"),
        (lambda c: c.pop("slug"), "slug: required key not provided"),
        (lambda c: c.update(image="makerhub"), "image: 'makerhub' is not a valid image"),
        (lambda c: c.update(snapshot="hot"), "'snapshot' is deprecated, use 'backup' instead."),
        (lambda c: c.update(auto_uart=True), "'auto_uart' is deprecated, use 'uart' instead."),
        (lambda c: c.update(tmpfs="size=10m"), "'tmpfs' use a deprecated format"),
        (lambda c: c.update(devices=["/dev/a:/dev/a:rwm"]), "'devices' uses a deprecated format"),
        (lambda c: c.update(webui="http://[HOST]:[PORT:8099]/"), "'webui' should be removed"),
        (lambda c: c.update(ingress_port=0), "'ingress_port' this does not run on the host"),
        (lambda c: c.pop("ports_description"), "'ports' is defined without 'ports_description'."),
        (lambda c: c.update(unknown_key=1), "unknown_key: extra keys not allowed"),
        (lambda c: c.update(map=[{"type": "everything"}]), "map.0.type: value must be one of"),
        (lambda c: c["schema"].update(level="text"), "schema.level: 'text' is not an option type"),
        (lambda c: c["options"].update(colour="red"), "options.colour: not in the schema"),
        (lambda c: c.update(slug="firmware"), "'slug' is 'firmware': the folder is"),
    ],
)
def test_addon_config(addon: Path, change: Callable[[Tree], object], expected: str) -> None:
    """The add-on linter's config.yaml rules."""
    edit_yaml(addon / "config.yaml", change)
    problems = check_metadata.check_addons(addon.parent)
    assert any(
        p.startswith("makerhub_firmware/config.yaml: ") and expected in p for p in problems
    ), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda b: b["build_from"].update(amd64="python:3.13-slim"),
            "build_from.amd64: 'python:3.13-slim' is not a valid image",
        ),
        (lambda b: b["build_from"].pop("amd64"), "Architectures in config and build do not match"),
        (lambda b: b.update(squash=False), "'squash' should be removed, it uses a default value"),
        (lambda b: b.update(labels={"a": "b"}), "labels: extra keys not allowed"),
    ],
)
def test_addon_build(addon: Path, change: Callable[[Tree], object], expected: str) -> None:
    """The add-on linter's build.yaml rules."""
    edit_yaml(addon / "build.yaml", change)
    problems = check_metadata.check_addons(addon.parent)
    assert any(
        p.startswith("makerhub_firmware/build.yaml: ") and expected in p for p in problems
    ), problems


def test_addon_files(addon: Path) -> None:
    """Option texts match the options, ports are described, docs and images exist."""
    edit_yaml(
        addon / "translations" / "en.yaml",
        lambda t: (
            t["configuration"].pop("url_ttl"),
            t["configuration"].update(old={"name": "Old", "description": "Gone"}),
            t["network"].clear(),
        ),
    )
    (addon / "CHANGELOG.md").write_text("# Changelog\n")
    (addon / "icon.png").write_text("not a picture")
    (addon / "logo.png").unlink()
    (addon / "DOCS.md").unlink()
    problems = check_metadata.check_addons(addon.parent)
    for expected in (
        (
            "makerhub_firmware/translations/en.yaml: configuration.url_ttl: "
            "needs a name and a description"
        ),
        "makerhub_firmware/translations/en.yaml: configuration.old: not an option of the add-on",
        (
            "makerhub_firmware/translations/en.yaml: network: "
            "does not describe exactly the add-on's ports"
        ),
        "makerhub_firmware/CHANGELOG.md: has no entry for version 0.1.0",
        "makerhub_firmware/icon.png: not a PNG",
        "makerhub_firmware/logo.png: missing",
        "makerhub_firmware: has neither DOCS.md nor README.md",
    ):
        assert expected in problems, problems


@pytest.mark.parametrize(
    ("changelog", "covered"),
    [
        ("# Changelog\n\n## [Unreleased]\n\n### Added\n\n- First release.\n", True),
        ("# Changelog\n\n## [Unreleased]\n\n## [0.0.9] - 2026-01-01\n", False),
        ("# Changelog\n\n## [0.1.0] - 2026-12-01\n", True),
        ("# Changelog\n", False),
    ],
)
def test_addon_changelog_covers_its_version(addon: Path, changelog: str, covered: bool) -> None:
    """The add-on's version has an entry, or the add-on, never released, has only its
    Unreleased section (the next release names it)."""
    (addon / "CHANGELOG.md").write_text(changelog)
    problem = "makerhub_firmware/CHANGELOG.md: has no entry for version 0.1.0"
    assert (problem not in check_metadata.check_addons(addon.parent)) is covered


def test_every_addon_folder_is_checked(addon: Path) -> None:
    """A new folder under addons/ is an add-on: without config.yaml it fails."""
    (addon.parent / "new_addon").mkdir()
    assert check_metadata.check_addons(addon.parent) == [
        "new_addon: Add-on configuration file (config.yaml) not found"
    ]


def test_main_prints_problems_and_fails(
    integration: Path, addon: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command prints one line per problem and exits 1."""
    edit_yaml(addon / "config.yaml", lambda c: c.update(watchdog="tcp://[HOST]:[PORT:8099]"))
    code = check_metadata.main(["--integration", str(integration), "--addons", str(addon.parent)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out == [
        (
            "makerhub_firmware/config.yaml: "
            "'watchdog', is obsolete. Use the native Docker HEALTHCHECK directive instead."
        ),
        (
            "check_metadata: 1 problem(s) in makerhub, the add-ons in addons/ and the blueprints"
            " in blueprints/"
        ),
    ]


# -- blueprints --------------------------------------------------------------------------


@pytest.fixture
def blueprints(tmp_path: Path) -> Path:
    """A copy of the blueprints to break, beside a copy of hacs.json."""
    shutil.copy(ROOT / "hacs.json", tmp_path / "hacs.json")
    shutil.copytree(ROOT / "blueprints", tmp_path / "blueprints")
    return tmp_path / "blueprints"


PROBLEM_ALERT = Path("automation", "makerhub", "makerhub_problem_alert.yaml")


def test_the_blueprints_pass() -> None:
    assert check_metadata.check_blueprints(ROOT / "blueprints") == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "source_url: https://github.com/makerhub/makerhub/blob/main/",
            "source_url: https://github.com/someone/else/blob/main/",
            (
                "blueprint.source_url: should be https://github.com/makerhub/makerhub/blob/main/"
                "blueprints/automation/makerhub/makerhub_problem_alert.yaml"
            ),
        ),
        (
            "min_version: 2025.4.0",
            "min_version: 2024.1.0",
            "blueprint.homeassistant.min_version: 2024.1.0 is not hacs.json's 2025.4.0",
        ),
        ("min_version: 2025.4.0", "min_version: soon", "Version needs to be formatted"),
        ("  domain: automation", "  domain: script", "blueprint.domain: script in the automation"),
        ("**How to set it up**", "**Setting up**", "no *How to set it up* steps"),
        (
            "      name: Reminder interval\n",
            "",
            "blueprint.input.reminder_minutes: no name",
        ),
        (
            "      selector:\n        boolean: {}\n",
            "",
            "blueprint.input.announce_recovery: no selector",
        ),
        ("        boolean: {}", "        no_such_selector: {}", "Unknown selector type"),
        ("mode: parallel", "mode: [parallel", "invalid YAML"),
    ],
)
def test_broken_blueprints(blueprints: Path, old: str, new: str, expected: str) -> None:
    path = blueprints / PROBLEM_ALERT
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    problems = check_metadata.check_blueprints(blueprints)
    assert len(problems) == 1, problems
    assert problems[0].startswith("blueprints/automation/makerhub/makerhub_problem_alert.yaml: ")
    assert expected in problems[0]


def test_every_blueprint_file_is_checked(blueprints: Path) -> None:
    (blueprints / "automation" / "makerhub" / "notes.txt").write_text("not a blueprint")
    assert check_metadata.check_blueprints(blueprints) == [
        "blueprints/automation/makerhub/notes.txt: a blueprint is a .yaml file"
    ]
