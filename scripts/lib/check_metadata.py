"""Check the integration's and the add-ons' metadata the way Home Assistant's tools do.

``scripts/test`` runs it before pytest; ``python scripts/lib/check_metadata.py`` runs it
alone. It prints one line per problem and exits 1 when there is any.

For ``custom_components/makerhub`` it reproduces hassfest's rules for a custom integration
(``script/hassfest/translations.py``, ``services.py``, ``icons.py``, ``manifest.py`` in
Home Assistant core) on ``strings.json``, ``translations/*.json``, ``services.yaml``,
``icons.json`` and ``manifest.json``, and adds what hassfest cannot see:

- every ``[%key:...%]`` reference resolves, to a text and not to another reference, and
  ``translations/en.json`` is ``strings.json`` with the references resolved;
- every field of every config, options and subentry flow step has a ``data_description``
  (quality scale rule ``config-flow``);
- every translation key the code uses has its text: entity, exception, issue and selector
  translation keys, flow step ids, errors and abort reasons, menu options (read from the
  code's syntax tree: keys computed at run time are not seen), and every option of a
  translated select selector (in ``services.yaml`` and the flows' module-level schemas);
- every action in ``services.yaml`` has its name, description, field texts and icon.

For every add-on folder under ``addons/`` it reproduces frenck/action-addon-linter
(``config.yaml`` against the add-on JSON schema, keys set to their default, deprecated and
obsolete keys, ``build.yaml``) and checks what the Supervisor and the add-on store show:
``translations/en.yaml`` matching the options schema and ports, and the README or
``DOCS.md``, ``CHANGELOG.md``, ``icon.png`` and ``logo.png``.

For every blueprint under ``blueprints/<domain>/`` it checks what users import it by
(Home Assistant's blueprint schema, its domain matching its folder, ``source_url``
pointing at the file in the repository, ``homeassistant.min_version`` equal to
``hacs.json``'s) and what the editor shows: a description with set-up steps, and a name
and a valid selector for every input. ``tests/blueprints`` then loads and runs them.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
import functools
import importlib
import json
from pathlib import Path
import re
import string
import sys
from types import ModuleType
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
from homeassistant.components.blueprint.schemas import BLUEPRINT_SCHEMA
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, selector
from homeassistant.util.yaml import load_yaml as load_ha_yaml
import voluptuous as vol
import yaml

REPO = Path(__file__).resolve().parents[2]
INTEGRATION = REPO / "custom_components" / "makerhub"
ADDONS = REPO / "addons"
BLUEPRINTS = REPO / "blueprints"
REPOSITORY_URL = "https://github.com/makerhub/makerhub"

# -- hassfest: translations (script/hassfest/translations.py) ----------------------------

RE_REFERENCE = re.compile(r"\[\%key:(.+)\%\]")
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_PLACEHOLDER_IN_SINGLE_QUOTES = re.compile(r"'{\w+}'")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)


def translation_key_validator(value: str) -> str:
    """Refuse a translation key hassfest refuses: ``[a-z0-9-_]+``, no ``-``/``_`` at an
    end, none doubled."""
    if RE_TRANSLATION_KEY.match(value) is None:
        raise vol.Invalid(
            f"Invalid translation key '{value}', need to be [a-z0-9-_]+ and"
            " cannot start or end with a hyphen or underscore."
        )
    return value


def validate_translation_value(value: Any, allow_placeholders: bool = True) -> str:
    """Refuse a text hassfest refuses: HTML-like ``<...>``, ``'{placeholder}'``, a
    placeholder that is no identifier (or any, where none are allowed), a reference
    combined with text, spaces at either end, a URL."""
    text = cv.string_with_no_html(value)
    if RE_PLACEHOLDER_IN_SINGLE_QUOTES.search(text):
        raise vol.Invalid("the string should not contain placeholders inside single quotes")
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name]
    except ValueError as err:
        raise vol.Invalid(f"the string has unbalanced braces: {err}") from err
    for name in fields:
        if not allow_placeholders:
            raise vol.Invalid("placeholders are not supported in this value")
        if not name.isidentifier():
            raise vol.Invalid("placeholders must be valid identifiers ([a-zA-Z_][a-zA-Z0-9_]*)")
    if RE_COMBINED_REFERENCE.search(text):
        raise vol.Invalid("the string should not contain combined translations")
    if text != text.strip():
        raise vol.Invalid("the string should not contain leading or trailing spaces")
    if RE_URL.search(text):
        raise vol.Invalid(
            "the string should not contain URLs, please use description placeholders instead"
        )
    return text


def text_without_placeholders(value: Any) -> str:
    """A translated text that may hold no ``{placeholder}`` (entity states)."""
    return validate_translation_value(value, allow_placeholders=False)


TEXT = validate_translation_value


def slug_keys(value_schema: Any, key: Callable[[Any], Any] = cv.slug) -> Callable[[Any], Any]:
    """A dict whose keys pass ``key`` and whose values pass ``value_schema``."""
    return cv.schema_with_slug_keys(value_schema, slug_validator=key)


def _moved_title(value: Any) -> Any:
    raise vol.Invalid("config.title has moved to the root of strings.json")


def data_entry_schema(*, subentry_flow: bool, mandatory_description: str | None) -> vol.All:
    """The schema of ``config``, ``options`` and each ``config_subentries`` flow."""
    section = {
        vol.Optional("data"): {str: TEXT},
        vol.Optional("data_description"): {str: TEXT},
        vol.Optional("description"): TEXT,
        vol.Optional("name"): TEXT,
    }
    schema: dict[Any, Any] = {
        vol.Optional("flow_title"): TEXT,
        vol.Required("step"): {
            str: {
                vol.Optional("title"): TEXT,
                vol.Optional("description"): TEXT,
                vol.Optional("data"): {str: TEXT},
                vol.Optional("data_description"): {str: TEXT},
                vol.Optional("menu_options"): {str: TEXT},
                vol.Optional("menu_option_descriptions"): {str: TEXT},
                vol.Optional("submit"): TEXT,
                vol.Optional("sections"): {str: section},
            }
        },
        vol.Optional("error"): {str: TEXT},
        vol.Optional("abort"): {str: TEXT},
        vol.Optional("progress"): {str: TEXT},
        vol.Optional("create_entry"): {str: TEXT},
        # hassfest only warns here for a custom integration; the title belongs at the root.
        vol.Optional("title"): _moved_title,
    }
    if subentry_flow:
        schema[vol.Required("entry_type")] = TEXT
        schema[vol.Required("initiate_flow")] = {vol.Required("user"): TEXT, str: TEXT}
    else:
        schema[vol.Optional("initiate_flow")] = {vol.Required("user"): TEXT}

    def data_description_in_data(value: dict[str, Any]) -> dict[str, Any]:
        for step_id, step_info in value["step"].items():
            for key in step_info.get("data_description", {}):
                if key not in step_info.get("data", {}):
                    raise vol.Invalid(
                        f"data_description key {key} is not in data",
                        path=["step", step_id, "data_description", key],
                    )
        return value

    validators: list[Any] = [vol.Schema(schema), data_description_in_data]
    if mandatory_description is not None:

        def description_set(value: dict[str, Any]) -> dict[str, Any]:
            steps = value["step"]
            if mandatory_description not in steps:
                raise vol.Invalid(f"{mandatory_description} needs to be defined")
            if "description" not in steps[mandatory_description]:
                raise vol.Invalid(f"Step {mandatory_description} needs a description")
            return value

        validators.append(description_set)
    return vol.All(*validators)


def fields_schema() -> Callable[[Any], Any]:
    """An action's (or condition's, trigger's) field texts."""
    return slug_keys(
        {
            vol.Required("name"): str,
            vol.Required("description"): TEXT,
            vol.Optional("example"): TEXT,
        },
        translation_key_validator,
    )


@functools.cache
def strings_schema(integration_type: str) -> vol.Schema:
    """hassfest's schema of ``strings.json`` (and ``translations/*.json``)."""
    flow = data_entry_schema(
        subentry_flow=False,
        mandatory_description="user" if integration_type == "helper" else None,
    )
    issue_fix_flow = data_entry_schema(subentry_flow=False, mandatory_description=None)
    state = slug_keys(text_without_placeholders, translation_key_validator)
    return vol.Schema(
        {
            vol.Optional("title"): TEXT,
            vol.Optional("config"): flow,
            vol.Optional("config_subentries"): slug_keys(
                data_entry_schema(subentry_flow=True, mandatory_description=None),
                vol.Any("_", cv.slug),
            ),
            vol.Optional("options"): data_entry_schema(
                subentry_flow=False, mandatory_description=None
            ),
            vol.Optional("selector"): slug_keys(
                {
                    vol.Optional("choices"): slug_keys(TEXT, translation_key_validator),
                    vol.Optional("options"): slug_keys(TEXT, translation_key_validator),
                    vol.Optional("unit_of_measurement"): slug_keys(TEXT, translation_key_validator),
                    vol.Optional("fields"): vol.Any(
                        slug_keys(str),
                        slug_keys(
                            {vol.Required("name"): str, vol.Required("description"): TEXT},
                            translation_key_validator,
                        ),
                    ),
                },
                vol.Any("_", cv.slug),
            ),
            vol.Optional("device_automation"): {
                vol.Optional(name): {str: TEXT}
                for name in (
                    "action_type",
                    "condition_type",
                    "trigger_type",
                    "trigger_subtype",
                    "extra_fields",
                    "extra_fields_descriptions",
                )
            },
            vol.Optional("system_health"): {
                vol.Optional("info"): slug_keys(TEXT, translation_key_validator)
            },
            vol.Optional("application_credentials"): {vol.Optional("description"): TEXT},
            vol.Optional("issues"): {
                str: vol.All(
                    cv.has_at_least_one_key("description", "fix_flow"),
                    vol.Schema(
                        {
                            vol.Required("title"): TEXT,
                            vol.Exclusive("description", "fixable"): TEXT,
                            vol.Exclusive("fix_flow", "fixable"): issue_fix_flow,
                        }
                    ),
                )
            },
            vol.Optional("entity_component"): slug_keys(
                {
                    vol.Optional("name"): str,
                    vol.Optional("state"): state,
                    vol.Optional("state_attributes"): slug_keys(
                        {vol.Optional("name"): str, vol.Optional("state"): state},
                        translation_key_validator,
                    ),
                },
                vol.Any("_", cv.slug),
            ),
            vol.Optional("device"): slug_keys(
                {vol.Optional("name"): TEXT}, translation_key_validator
            ),
            vol.Optional("entity"): slug_keys(
                slug_keys(
                    {
                        vol.Optional("name"): TEXT,
                        vol.Optional("state"): state,
                        vol.Optional("state_attributes"): slug_keys(
                            {
                                vol.Optional("name"): text_without_placeholders,
                                vol.Optional("state"): state,
                            },
                            translation_key_validator,
                        ),
                        vol.Optional("unit_of_measurement"): text_without_placeholders,
                    },
                    translation_key_validator,
                ),
            ),
            vol.Optional("exceptions"): slug_keys({vol.Optional("message"): TEXT}),
            vol.Optional("services"): slug_keys(
                {
                    vol.Required("name"): TEXT,
                    vol.Required("description"): TEXT,
                    vol.Optional("fields"): fields_schema(),
                    vol.Optional("sections"): slug_keys(
                        {vol.Required("name"): str, vol.Optional("description"): TEXT},
                        translation_key_validator,
                    ),
                },
                translation_key_validator,
            ),
            vol.Optional("conditions"): slug_keys(
                {
                    vol.Required("name"): TEXT,
                    vol.Required("description"): TEXT,
                    vol.Optional("fields"): fields_schema(),
                },
                cv.slug,
            ),
            vol.Optional("triggers"): slug_keys(
                {
                    vol.Required("name"): TEXT,
                    vol.Required("description"): TEXT,
                    vol.Optional("fields"): fields_schema(),
                },
                cv.slug,
            ),
            vol.Optional("common"): vol.Schema({cv.slug: TEXT}),
        }
    )


# -- hassfest: icons (script/hassfest/icons.py) ------------------------------------------


def icon_value_validator(value: Any) -> str:
    """An icon: no HTML, ``mdi:...``."""
    icon = cv.string_with_no_html(value)
    if not icon.startswith("mdi:"):
        raise vol.Invalid(
            "The icon needs to be a valid icon from Material Design Icons and start with `mdi:`"
        )
    return str(icon)


def ensure_not_same_as_default(value: dict[str, Any]) -> dict[str, Any]:
    """A state's icon that equals the default icon is noise."""
    for translation_key, section in value.items():
        if (default := section.get("default")) and (states := section.get("state")):
            for state, icon in states.items():
                if icon == default:
                    raise vol.Invalid(
                        f"The icon for state `{translation_key}.{state}` is the"
                        " same as the default icon and thus can be removed"
                    )
    return value


@functools.cache
def icons_schema() -> vol.Schema:
    """hassfest's schema of ``icons.json`` for an integration that is not an entity
    component; actions as Home Assistant has them: ``{"service": icon, "sections": ...}``."""
    states = slug_keys(icon_value_validator, translation_key_validator)
    entity_icons = {
        vol.Optional("default"): icon_value_validator,
        vol.Optional("state"): states,
        vol.Optional("range"): {vol.Coerce(float): icon_value_validator},
        vol.Optional("state_attributes"): vol.All(
            slug_keys(
                {
                    vol.Optional("default"): icon_value_validator,
                    vol.Optional("state"): states,
                },
                translation_key_validator,
            ),
            ensure_not_same_as_default,
        ),
    }
    data_entry_icons = vol.Schema({"step": {str: {"section": {str: icon_value_validator}}}})
    return vol.Schema(
        {
            vol.Optional("config"): data_entry_icons,
            vol.Optional("options"): data_entry_icons,
            vol.Optional("issues"): vol.Schema({str: {"fix_flow": data_entry_icons}}),
            vol.Optional("services"): slug_keys(
                {
                    vol.Required("service"): icon_value_validator,
                    vol.Optional("sections"): slug_keys(
                        icon_value_validator, translation_key_validator
                    ),
                },
                translation_key_validator,
            ),
            vol.Optional("entity"): vol.All(
                slug_keys(slug_keys(entity_icons, translation_key_validator)),
                vol.Schema({str: ensure_not_same_as_default}),
            ),
        }
    )


# -- hassfest: manifest (script/hassfest/manifest.py) ------------------------------------

INTEGRATION_TYPES = ("device", "entity", "hardware", "helper", "hub", "service", "system")
IOT_CLASSES = (
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
)
QUALITY_SCALES = ("bronze", "silver", "gold", "platinum", "custom", "no_score", "internal")


def verify_version(value: str) -> str:
    """A version AwesomeVersion understands (CalVer, SemVer, simple, build, PEP 440)."""
    try:
        AwesomeVersion(
            value,
            ensure_strategy=[
                AwesomeVersionStrategy.CALVER,
                AwesomeVersionStrategy.SEMVER,
                AwesomeVersionStrategy.SIMPLEVER,
                AwesomeVersionStrategy.BUILDVER,
                AwesomeVersionStrategy.PEP440,
            ],
        )
    except AwesomeVersionException as err:
        raise vol.Invalid(f"'{value}' is not a valid version.") from err
    return value


def custom_documentation_url(value: str) -> str:
    """A custom integration documents itself, over https, not on home-assistant.io."""
    if not value.startswith("https://"):
        raise vol.Invalid("Documentation url is not prefixed with https")
    if value.startswith("https://www.home-assistant.io/integrations"):
        raise vol.Invalid("Documentation URL should point to the custom integration documentation")
    return value


MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Optional("integration_type"): vol.In(INTEGRATION_TYPES),
        vol.Optional("config_flow"): bool,
        vol.Optional("mqtt"): [str],
        vol.Optional("zeroconf"): list,
        vol.Optional("ssdp"): list,
        vol.Optional("bluetooth"): list,
        vol.Optional("homekit"): dict,
        vol.Optional("dhcp"): list,
        vol.Optional("usb"): list,
        vol.Required("documentation"): vol.All(vol.Url(), custom_documentation_url),
        vol.Optional("quality_scale"): vol.In(QUALITY_SCALES),
        vol.Optional("requirements"): [str],
        vol.Optional("dependencies"): [str],
        vol.Optional("after_dependencies"): [str],
        vol.Required("codeowners"): [str],
        vol.Optional("loggers"): [str],
        vol.Optional("disabled"): str,
        vol.Optional("iot_class"): vol.In(IOT_CLASSES),
        vol.Optional("single_config_entry"): bool,
        vol.Optional("version"): vol.All(str, verify_version),
        vol.Optional("issue_tracker"): vol.Url(),
        vol.Optional("import_executor"): bool,
    }
)


# -- reporting ---------------------------------------------------------------------------


@dataclass
class Report:
    """Problems found, one line each: ``file: where: what``."""

    root: Path
    problems: list[str] = field(default_factory=list)

    def add(self, path: Path, where: str, what: str) -> None:
        """Record a problem in ``path`` (shown relative to the repository, or else to the
        checked folder's parent)."""
        for base in (REPO, self.root.parent):
            if path.is_relative_to(base):
                name = path.relative_to(base)
                break
        else:
            name = path
        self.problems.append(f"{name}: {where + ': ' if where else ''}{what}")

    def invalid(self, path: Path, err: vol.Invalid) -> None:
        """Record each error voluptuous found, with the path to the bad value."""
        errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
        for error in errors:
            self.add(path, ".".join(str(part) for part in error.path), error.msg)


def load_json(report: Report, path: Path) -> Any:
    """The file's JSON, or None (and a problem) when it is missing or invalid."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        report.add(path, "", "missing")
    except ValueError as err:
        report.add(path, "", f"invalid JSON: {err}")
    return None


def load_yaml(report: Report, path: Path) -> Any:
    """The file's YAML, or None (and a problem) when it is missing or invalid."""
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        report.add(path, "", "missing")
    except yaml.YAMLError as err:
        report.add(path, "", f"invalid YAML: {err}")
    return None


def walk_texts(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every text of a translations tree, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk_texts(value, (*path, str(key)))
    elif isinstance(node, str):
        yield path, node


def lookup(tree: Any, parts: list[str]) -> Any:
    """The node at ``parts``, or None."""
    for part in parts:
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


# -- the integration ---------------------------------------------------------------------


def check_integration(
    path: Path, common: dict[str, Any] | None = None, modules: list[ModuleType] | None = None
) -> list[str]:
    """Every problem of the integration at ``path``; ``common`` is Home Assistant's
    ``common`` strings (read from the installed Home Assistant when None), ``modules`` the
    imported flow modules whose schemas' select options are checked (this repository's
    when None)."""
    report = Report(path)
    manifest = check_manifest(report, path)
    strings = check_translations(report, path, manifest or {}, common)
    icons = load_json(report, path / "icons.json")
    if icons is not None:
        try:
            icons_schema()(icons)
        except vol.Invalid as err:
            report.invalid(path / "icons.json", err)
    code = Code.read(path)
    if strings is not None:
        check_services(report, path, strings, icons or {}, code)
        check_code_keys(report, path, strings, icons or {}, code)
        check_flow_selectors(
            report, path, strings, flow_modules(path) if modules is None else modules
        )
    return report.problems


def check_manifest(report: Report, path: Path) -> dict[str, Any] | None:
    """hassfest's manifest rules for a custom integration, and its key order."""
    file = path / "manifest.json"
    manifest = load_json(report, file)
    if not isinstance(manifest, dict):
        return None
    try:
        MANIFEST_SCHEMA(manifest)
    except vol.Invalid as err:
        report.invalid(file, err)
    if manifest.get("domain") != path.name:
        report.add(file, "domain", "Domain does not match dir name")
    if "iot_class" not in manifest:
        report.add(file, "iot_class", "Domain is missing an IoT Class")
    if not manifest.get("version"):
        report.add(file, "version", "No 'version' key in the manifest file.")
    keys = list(manifest)
    if keys != sorted(keys, key=lambda key: {"domain": ".domain", "name": ".name"}.get(key, key)):
        report.add(
            file,
            "",
            "Manifest keys are not sorted correctly: domain, name, then alphabetical order",
        )
    if manifest.get("config_flow") and not (path / "config_flow.py").is_file():
        report.add(file, "config_flow", "config_flow is true but config_flow.py is missing")
    return manifest


def check_translations(
    report: Report, path: Path, manifest: dict[str, Any], common: dict[str, Any] | None
) -> dict[str, Any] | None:
    """``strings.json`` and ``translations/en.json``: hassfest's schema, the references,
    the two in sync, and a description for every flow field."""
    schema = strings_schema(manifest.get("integration_type", "hub"))
    strings_file = path / "strings.json"
    en_file = path / "translations" / "en.json"
    strings = load_json(report, strings_file)
    english = load_json(report, en_file)
    for file, tree in ((strings_file, strings), (en_file, english)):
        if tree is None:
            continue
        try:
            schema(tree)
        except vol.Invalid as err:
            report.invalid(file, err)
        check_data_descriptions(report, file, tree)
    for other in sorted((path / "translations").glob("*.json")):
        if other != en_file and (tree := load_json(report, other)) is not None:
            try:
                schema(tree)  # other languages may lack texts, but not break the rules
            except vol.Invalid as err:
                report.invalid(other, err)
    if not isinstance(strings, dict):
        return None
    if common is None:
        import homeassistant

        core_strings = Path(homeassistant.__file__).parent / "strings.json"
        common = json.loads(core_strings.read_text())["common"]
    roots = {"component": {path.name: strings}, "common": common}
    for where, text in walk_texts(strings):
        if match := RE_REFERENCE.search(text):
            target = lookup(roots, match.group(1).split("::"))
            if not isinstance(target, str):
                report.add(strings_file, ".".join(where), f"invalid reference {match.group(1)}")
            elif RE_REFERENCE.search(target):
                report.add(
                    strings_file,
                    ".".join(where),
                    f"{match.group(1)} is itself a reference: point to the text directly",
                )
    if isinstance(english, dict):
        for where, text in walk_texts(english):
            if RE_REFERENCE.search(text):
                report.add(
                    en_file, ".".join(where), "unresolved reference (run scripts/translations)"
                )
        if resolve(strings, roots) != english:
            report.add(
                en_file,
                "",
                "not strings.json with its references resolved (run scripts/translations)",
            )
    return strings


def resolve(node: Any, roots: dict[str, Any]) -> Any:
    """``node`` with every reference replaced by its text (unresolvable ones kept)."""
    if isinstance(node, dict):
        return {key: resolve(value, roots) for key, value in node.items()}
    if not isinstance(node, str):
        return node

    def replace(match: re.Match[str]) -> str:
        target = lookup(roots, match.group(1).split("::"))
        return resolve(target, roots) if isinstance(target, str) else match.group(0)

    return RE_REFERENCE.sub(replace, node)


def flows(strings: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every flow's strings with its path: config, options, each subentry type."""
    for name in ("config", "options"):
        if isinstance(strings.get(name), dict):
            yield name, strings[name]
    for kind, flow in (strings.get("config_subentries") or {}).items():
        if isinstance(flow, dict):
            yield f"config_subentries.{kind}", flow


def check_data_descriptions(report: Report, file: Path, strings: dict[str, Any]) -> None:
    """Every field of every flow step (and section) has a ``data_description``."""
    for name, flow in flows(strings):
        for step_id, step in (flow.get("step") or {}).items():
            parts = [(f"{name}.step.{step_id}", step)]
            parts += [
                (f"{name}.step.{step_id}.sections.{section_id}", section)
                for section_id, section in (step.get("sections") or {}).items()
            ]
            for where, part in parts:
                described = part.get("data_description") or {}
                for key in part.get("data") or {}:
                    if not described.get(key):
                        report.add(file, f"{where}.data.{key}", "has no data_description")


def check_services(
    report: Report, path: Path, strings: dict[str, Any], icons: dict[str, Any], code: Code
) -> None:
    """hassfest's ``services.yaml`` schema, and each action's texts and icon."""
    file = path / "services.yaml"
    strings_file = path / "strings.json"
    if not file.is_file():
        if code.registered_services or code.registers_services:
            report.add(file, "", "Registers services but has no services.yaml")
        return
    services = load_yaml(report, file)
    if services is None:
        services = {}
    try:
        CUSTOM_INTEGRATION_SERVICES_SCHEMA(services)
    except vol.Invalid as err:
        report.invalid(file, err)
        return
    texts = strings.get("services") or {}
    service_icons = icons.get("services") or {}
    for name in sorted(code.registered_services - set(services)):
        report.add(file, name, "the code registers this action but services.yaml lacks it")
    for name, service in services.items():
        where = f"services.{name}"
        if name not in service_icons:
            report.add(path / "icons.json", where, "the action has no icon")
        text = texts.get(name) or {}
        for key in ("name", "description"):
            if not text.get(key):
                report.add(path / "strings.json", f"{where}.{key}", "missing")
        fields = (service or {}).get("fields") or {}
        described = text.get("fields") or {}
        for field_name, field_schema in fields.items():
            if "fields" in (field_schema or {}):
                if not (text.get("sections") or {}).get(field_name, {}).get("name"):
                    report.add(strings_file, f"{where}.sections.{field_name}.name", "missing")
                continue
            for key in ("name", "description"):
                if not (described.get(field_name) or {}).get(key):
                    report.add(strings_file, f"{where}.fields.{field_name}.{key}", "missing")
            select = lookup(field_schema, ["selector", "select"]) or {}
            if (selector_key := select.get("translation_key")) is not None:
                check_select_options(
                    report,
                    strings_file,
                    strings=strings,
                    selector_key=selector_key,
                    options=select.get("options") or [],
                    user=f"action {name} field {field_name}",
                )
        for field_name in described:
            if field_name not in fields:
                report.add(
                    strings_file, f"{where}.fields.{field_name}", "not a field of the action"
                )
    for name in texts:
        if name not in services:
            report.add(path / "strings.json", f"services.{name}", "not an action in services.yaml")


def _service_field(*, targeted: bool) -> vol.Schema:
    schema = vol.Schema(
        {
            vol.Optional("example"): vol.NotIn([None], msg="Value cannot be None"),
            vol.Optional("default"): vol.NotIn([None], msg="Value cannot be None"),
            vol.Optional("required"): bool,
            vol.Optional("advanced"): bool,
            vol.Optional("selector"): selector.validate_selector,
            vol.Optional("description"): str,
            vol.Optional("name"): str,
        }
    )
    if targeted:
        schema = schema.extend({vol.Optional("filter"): dict})
    return schema


def _unique_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """No field name twice, counting the fields inside sections."""
    seen: set[str] = set()
    for key, value in fields.items():
        names = list(value["fields"]) if value and "fields" in value else [key]
        for name in names:
            if name in seen:
                raise vol.Invalid(f"Duplicate use of field {name} in service.")
            seen.add(name)
    return fields


def _service(*, targeted: bool) -> vol.Schema:
    field_schema = _service_field(targeted=targeted)
    section = vol.Schema(
        {
            vol.Optional("collapsed"): bool,
            vol.Required("fields"): vol.Schema({str: field_schema}),
            vol.Optional("description"): str,
            vol.Optional("name"): str,
        }
    )
    schema: dict[Any, Any] = {
        vol.Optional("fields"): vol.All(
            vol.Schema({str: vol.Any(field_schema, section)}), _unique_fields
        ),
        vol.Optional("description"): str,
        vol.Optional("name"): str,
    }
    if targeted:
        schema[vol.Required("target")] = vol.Any(selector.TargetSelector.CONFIG_SCHEMA, None)
    return vol.Schema(schema)


CUSTOM_INTEGRATION_SERVICES_SCHEMA = vol.Schema(
    {cv.slug: vol.Any(_service(targeted=True), _service(targeted=False), None)}
)


def check_select_options(
    report: Report,
    strings_file: Path,
    *,
    strings: dict[str, Any],
    selector_key: str,
    options: Sequence[Any],
    user: str,
) -> None:
    """A select selector's translation key, and each of its options, have a text."""
    texts = (strings.get("selector") or {}).get(selector_key)
    if texts is None:
        report.add(
            strings_file,
            f"selector.{selector_key}",
            f"missing: {user} uses this selector translation key",
        )
        return
    for option in options:
        value = option["value"] if isinstance(option, dict) else option
        if value not in (texts.get("options") or {}):
            report.add(
                strings_file,
                f"selector.{selector_key}.options.{value}",
                f"missing: {user} offers it",
            )


def check_flow_selectors(
    report: Report, path: Path, strings: dict[str, Any], modules: list[ModuleType]
) -> None:
    """The select selectors of the flows' module-level schemas: each option has a text
    (read from the imported modules: their options are often computed)."""
    for module in modules:
        for name, value in vars(module).items():
            if not isinstance(value, vol.Schema) or not isinstance(value.schema, dict):
                continue
            for key, field_selector in value.schema.items():
                if isinstance(field_selector, selector.SelectSelector) and (
                    selector_key := field_selector.config.get("translation_key")
                ):
                    check_select_options(
                        report,
                        path / "strings.json",
                        strings=strings,
                        selector_key=selector_key,
                        options=field_selector.config["options"],
                        user=f"{module.__name__}.{name} field {key}",
                    )


def flow_modules(path: Path) -> list[ModuleType]:
    """The integration's flow modules, imported (only for the integration in this
    repository: a copy elsewhere cannot be imported under its package name)."""
    if path.resolve() != INTEGRATION:
        return []
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    package = f"custom_components.{path.name}"
    files = [
        *path.glob("*_flow.py"),
        path / "flows.py",
        *path.glob("*/flow.py"),
        *path.glob("*/options.py"),
    ]
    return [
        importlib.import_module(".".join([package, *file.relative_to(path).with_suffix("").parts]))
        for file in sorted(files)
        if file.is_file()
    ]


# -- what the code uses ------------------------------------------------------------------

PLATFORMS = frozenset(
    {
        "binary_sensor",
        "button",
        "camera",
        "device_tracker",
        "number",
        "select",
        "sensor",
        "switch",
        "text",
        "todo",
        "update",
    }
)
FLOW_BASES = {"ConfigFlow": "config", "OptionsFlow": "options"}
SUBENTRY_FLOWS = "SUBENTRY_FLOWS"
"""A module's table of subentry type → subentry flow class (a feature's flows)."""


@dataclass
class Use:
    """One translation key the code uses: where in the strings it must be."""

    module: Path
    line: int
    kind: str
    key: str
    flow_class: str | None = None


@dataclass
class Code:
    """What the integration's Python modules use, read statically."""

    uses: list[Use] = field(default_factory=list)
    subentry_classes: dict[str, str] = field(default_factory=dict)
    """Subentry flow class name → subentry type."""
    flow_classes: dict[str, str] = field(default_factory=dict)
    """Flow class name → ``config`` or ``options`` (subentry flows: see above)."""
    class_bases: dict[str, list[str]] = field(default_factory=dict)
    """Class name → the names of its bases."""
    registered_services: set[str] = field(default_factory=set)
    registers_services: bool = False

    @classmethod
    def read(cls, path: Path) -> Code:
        """Parse the integration's modules at ``path``, its feature packages' too (not
        ``core/``: it knows nothing of Home Assistant, so it uses no translation key)."""
        code = cls()
        modules = {
            file: _parse(file.read_text())
            for file in sorted(path.rglob("*.py"))
            if file.relative_to(path).parts[0] != "core"
        }
        constants: dict[str, str] = {}
        for tree in modules.values():
            for node in tree.body:
                target, value = _assignment(node)
                if target and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    constants[target] = value.value
        for file, tree in modules.items():
            code._read_module(file, tree, constants)
        code._inherit_flow_kinds()
        return code

    def _inherit_flow_kinds(self) -> None:
        """A class built on a flow class (a feature's options section, the options flow
        made of them) is a flow of the same kind."""
        changed = True
        while changed:
            changed = False
            for name, bases in self.class_bases.items():
                kinds = {self.flow_classes[base] for base in bases if base in self.flow_classes}
                if name not in self.flow_classes and len(kinds) == 1:
                    self.flow_classes[name] = kinds.pop()
                    changed = True

    def _read_module(self, file: Path, tree: ast.Module, constants: dict[str, str]) -> None:
        def text(node: ast.AST | None) -> str | None:
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                return node.value
            if isinstance(node, ast.Name):
                return constants.get(node.id)
            return None

        def read_subentry_types(table: ast.AST | None) -> None:
            if isinstance(table, ast.Dict):
                for entry_key, entry_value in zip(table.keys, table.values, strict=True):
                    subentry_type = text(entry_key)
                    if subentry_type and isinstance(entry_value, ast.Name):
                        self.subentry_classes[entry_value.id] = subentry_type

        platform = file.stem if file.stem in PLATFORMS else None
        for flow_class, node in _nodes_with_class(tree):
            if isinstance(node, ast.ClassDef):
                bases = self.class_bases.setdefault(node.name, [])
                for base in node.bases:
                    name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                    bases.append(name)
                    if name in FLOW_BASES:
                        self.flow_classes[node.name] = FLOW_BASES[name]
            elif isinstance(node, ast.FunctionDef) and (
                node.name == "async_get_supported_subentry_types"
            ):
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return):
                        read_subentry_types(ret.value)
            elif isinstance(node, ast.Call):
                self._read_call(file, node, flow_class, platform, text)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                name, assigned = _assignment(node)
                if name == SUBENTRY_FLOWS and flow_class is None:
                    read_subentry_types(assigned)
                if name == "_attr_translation_key" and (entity_key := text(assigned)):
                    kind = f"entity.{platform}" if platform else "entity"
                    self.uses.append(Use(file, node.lineno, kind, entity_key))
                if flow_class:
                    self._read_errors(file, node, flow_class, text)

    def _read_call(
        self,
        file: Path,
        node: ast.Call,
        flow_class: str | None,
        platform: str | None,
        text: Callable[[ast.AST | None], str | None],
    ) -> None:
        func = node.func
        if isinstance(func, ast.Subscript):  # a generic class called: Description[T](...)
            func = func.value
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        line = node.lineno
        if name == "async_register" and len(node.args) >= 2:
            self.registers_services = True
            if service := text(node.args[1]):
                self.registered_services.add(service)
        if name in {"async_register_entity_service", "async_register_admin_service"}:
            self.registers_services = True
        if key := text(keywords.get("translation_key")):
            if name.endswith(("Error", "Exception", "NotReady", "AuthFailed")):
                kind = "exceptions"
            elif name in {"async_create_issue", "create_issue"}:
                kind = "issues"
            elif name.endswith("SelectorConfig"):
                kind = "selector"
            elif name.endswith("EntityDescription"):
                kind = f"entity.{platform}" if platform else "entity"
            else:
                kind = "any"
            self.uses.append(Use(file, line, kind, key))
        if not flow_class:
            return
        if name in {"async_show_form", "async_show_menu", "async_show_progress"} and (
            step := text(keywords.get("step_id"))
        ):
            self.uses.append(Use(file, line, "step", step, flow_class))
            menu = keywords.get("menu_options")
            if name == "async_show_menu" and isinstance(menu, ast.List | ast.Tuple):
                for option in menu.elts:
                    if option_key := text(option):
                        self.uses.append(Use(file, line, f"menu:{step}", option_key, flow_class))
        if name == "async_abort" and (reason := text(keywords.get("reason"))):
            self.uses.append(Use(file, line, "abort", reason, flow_class))
        if name in {"_abort_if_unique_id_configured", "_async_abort_entries_match"}:
            self.uses.append(Use(file, line, "abort", "already_configured", flow_class))
        if isinstance(errors := keywords.get("errors"), ast.Dict):
            for value in errors.values:
                if error := text(value):
                    self.uses.append(Use(file, line, "error", error, flow_class))

    def _read_errors(
        self,
        file: Path,
        node: ast.Assign | ast.AnnAssign,
        flow_class: str,
        text: Callable[[ast.AST | None], str | None],
    ) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            named = target.value if isinstance(target, ast.Subscript) else target
            if isinstance(named, ast.Name) and named.id == "errors":
                values: list[ast.expr | None] = (
                    list(node.value.values) if isinstance(node.value, ast.Dict) else [node.value]
                )
                for value in values:
                    if error := text(value):
                        self.uses.append(Use(file, node.lineno, "error", error, flow_class))


@functools.cache
def _parse(source: str) -> ast.Module:
    """The module's syntax tree (the same text is parsed once)."""
    return ast.parse(source)


def _assignment(node: ast.AST) -> tuple[str | None, ast.AST | None]:
    """``(name, value)`` of ``name = value`` / ``name: T = value`` (also ``self.name``)."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target: ast.AST = node.targets[0]
        value: ast.expr | None = node.value
    elif isinstance(node, ast.AnnAssign):
        target, value = node.target, node.value
    else:
        return None, None
    if isinstance(target, ast.Name):
        return target.id, value
    if isinstance(target, ast.Attribute):
        return target.attr, value
    return None, None


def _nodes_with_class(tree: ast.AST) -> Iterator[tuple[str | None, ast.AST]]:
    """Every node, with the name of the top-level class it is in (None outside one)."""
    for top in ast.iter_child_nodes(tree):
        owner = top.name if isinstance(top, ast.ClassDef) else None
        for node in ast.walk(top):
            yield owner, node


def check_code_keys(
    report: Report, path: Path, strings: dict[str, Any], icons: dict[str, Any], code: Code
) -> None:
    """Every translation key the code uses has its text."""
    entity = strings.get("entity") or {}
    entity_keys = {key for platform in entity.values() for key in platform}
    known = {
        "exceptions": set(strings.get("exceptions") or {}),
        "issues": set(strings.get("issues") or {}),
        "selector": set(strings.get("selector") or {}),
        "entity": entity_keys,
    }
    known["any"] = set().union(*known.values())
    flow_strings = dict(flows(strings))
    for use in code.uses:
        where = f"{use.module.relative_to(path.parent)}:{use.line}"
        if use.kind.startswith("entity.") and use.key not in entity.get(use.kind[7:], {}):
            report.add(path / "strings.json", f"{use.kind}.{use.key}", f"missing ({where} uses it)")
        elif use.kind in known and use.key not in known[use.kind]:
            section = "entity, exceptions, issues or selector" if use.kind == "any" else use.kind
            report.add(path / "strings.json", f"{section}.{use.key}", f"missing ({where} uses it)")
        elif use.flow_class:
            check_flow_use(report, path=path, flows=flow_strings, code=code, use=use, where=where)
    for platform, keys in (icons.get("entity") or {}).items():
        for key in keys:
            if key not in entity.get(platform, {}):
                report.add(path / "icons.json", f"entity.{platform}.{key}", "no text for this key")


def check_flow_use(
    report: Report,
    *,
    path: Path,
    flows: dict[str, dict[str, Any]],
    code: Code,
    use: Use,
    where: str,
) -> None:
    """A step, error, abort reason or menu option a flow class uses has its text."""
    assert use.flow_class is not None
    if use.flow_class in code.subentry_classes:
        sections = [f"config_subentries.{code.subentry_classes[use.flow_class]}"]
    elif use.flow_class in code.flow_classes:
        sections = [code.flow_classes[use.flow_class]]
    else:  # not a flow: its "errors" are something else
        return
    if use.kind == "step":
        paths = [(section, ["step", use.key]) for section in sections]
    elif use.kind.startswith("menu:"):
        step = use.kind[5:]
        paths = [(section, ["step", step, "menu_options", use.key]) for section in sections]
    else:
        paths = [(section, [use.kind, use.key]) for section in sections]
    if not any(lookup(flows.get(section), parts) for section, parts in paths):
        section, parts = paths[0] if paths else ("?", [use.kind, use.key])
        report.add(path / "strings.json", ".".join([section, *parts]), f"missing ({where} uses it)")


# -- add-ons (frenck/action-addon-linter, the Supervisor) --------------------------------

ARCHES = ("aarch64", "amd64", "armhf", "armv7", "i386")
IMAGE = re.compile(r"^([a-zA-Z\-\.:\d{}]+/)*?([\-\w{}]+)/([\-\w{}]+)(:[\.\-\w{}]+)?$")
MACHINE = re.compile(
    r"^!?(?:generic-aarch64|generic-x86-64|intel-nuc|khadas-vim3|odroid-c2|odroid-c4|odroid-m1"
    r"|odroid-n2|odroid-xu|qemuarm|qemuarm-64|qemux86|qemux86-64|raspberrypi|raspberrypi2"
    r"|raspberrypi3|raspberrypi3-64|raspberrypi4|raspberrypi4-64|raspberrypi5-64|tinker|yellow"
    r"|green)$"
)
MAP_TYPES = (
    "addon_config",
    "addons",
    "all_addon_configs",
    "backup",
    "config",
    "data",
    "homeassistant_config",
    "media",
    "share",
    "ssl",
)
MAP_STRING = re.compile(rf"^({'|'.join(MAP_TYPES)})(:(rw|ro))?$")
PRIVILEGES = (
    "BPF",
    "CHECKPOINT_RESTORE",
    "DAC_READ_SEARCH",
    "IPC_LOCK",
    "NET_ADMIN",
    "NET_RAW",
    "PERFMON",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
)
OPTION_TYPE = re.compile(
    r"^(str|bool|email|url|port|password|device|match\(.+\)|list\(.+\)|device\(.+\)"
    r"|(int|float)(\((-?[\d.]+)?,(-?[\d.]+)?\))?|str\(\d*,\d*\))\??$"
)
ADDON_DEFAULTS: dict[str, Any] = {
    "advanced": False,
    "apparmor": True,
    "audio": False,
    "auth_api": False,
    "auto_uart": False,
    "backup": "hot",
    "boot": "auto",
    "devicetree": False,
    "docker_api": False,
    "full_access": False,
    "gpio": False,
    "hassio_api": False,
    "hassio_role": "default",
    "homeassistant_api": False,
    "host_dbus": False,
    "host_ipc": False,
    "host_network": False,
    "host_pid": False,
    "host_uts": False,
    "ingress": False,
    "ingress_port": 8099,
    "ingress_stream": False,
    "init": True,
    "journald": False,
    "kernel_modules": False,
    "legacy": False,
    "options": {},
    "panel_admin": True,
    "panel_icon": "mdi:puzzle",
    "realtime": False,
    "schema": {},
    "stage": "stable",
    "startup": "application",
    "stdin": False,
    "timeout": 10,
    "tmpfs": False,
    "uart": False,
    "udev": False,
    "ulimits": {},
    "usb": False,
    "video": False,
}
"""The add-on linter's schema defaults: a key set to one of them should be removed."""


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not regex.match(value):
            raise vol.Invalid(f"{value!r} is not a valid {what}")
        return value

    return check


ADDON_CONFIG_SCHEMA = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Required("version"): str,
        vol.Required("slug"): str,
        vol.Required("description"): str,
        vol.Required("arch"): [vol.In(ARCHES)],
        vol.Optional("advanced"): bool,
        vol.Optional("apparmor"): vol.Any(str, bool),
        vol.Optional("audio"): bool,
        vol.Optional("auth_api"): bool,
        vol.Optional("auto_uart"): bool,
        vol.Optional("backup"): vol.In(["hot", "cold"]),
        vol.Optional("backup_exclude"): [str],
        vol.Optional("backup_pre"): str,
        vol.Optional("backup_post"): str,
        vol.Optional("boot"): vol.In(["auto", "manual", "manual_only"]),
        vol.Optional("breaking_versions"): [str],
        vol.Optional("codenotary"): vol.Email(),
        vol.Optional("devices"): [str],
        vol.Optional("devicetree"): bool,
        vol.Optional("discovery"): [str],
        vol.Optional("docker_api"): bool,
        vol.Optional("environment"): dict,
        vol.Optional("full_access"): bool,
        vol.Optional("gpio"): bool,
        vol.Optional("hassio_api"): bool,
        vol.Optional("hassio_role"): vol.In(
            ["admin", "backup", "default", "homeassistant", "manager"]
        ),
        vol.Optional("homeassistant"): str,
        vol.Optional("homeassistant_api"): bool,
        vol.Optional("host_dbus"): bool,
        vol.Optional("host_ipc"): bool,
        vol.Optional("host_network"): bool,
        vol.Optional("host_pid"): bool,
        vol.Optional("host_uts"): bool,
        vol.Optional("image"): _pattern(IMAGE, "image (namespace/name[:tag])"),
        vol.Optional("ingress"): bool,
        vol.Optional("ingress_entry"): str,
        vol.Optional("ingress_port"): vol.All(int, vol.Range(min=0, max=65535)),
        vol.Optional("ingress_stream"): bool,
        vol.Optional("init"): bool,
        vol.Optional("journald"): bool,
        vol.Optional("kernel_modules"): bool,
        vol.Optional("legacy"): bool,
        vol.Optional("machine"): [_pattern(MACHINE, "machine")],
        vol.Optional("map"): vol.Any(
            [_pattern(MAP_STRING, "map entry")],
            [
                {
                    vol.Required("type"): vol.In(MAP_TYPES),
                    vol.Optional("read_only"): bool,
                    vol.Optional("path"): str,
                }
            ],
        ),
        vol.Optional("options"): dict,
        vol.Optional("panel_admin"): bool,
        vol.Optional("panel_icon"): str,
        vol.Optional("panel_title"): str,
        vol.Optional("ports"): {str: vol.Any(None, vol.All(int, vol.Range(min=1, max=65535)))},
        vol.Optional("ports_description"): {str: str},
        vol.Optional("privileged"): [vol.In(PRIVILEGES)],
        vol.Optional("realtime"): bool,
        vol.Optional("schema"): vol.Any(dict, False),
        vol.Optional("services"): [
            _pattern(re.compile(r"^(mqtt|mysql):(provide|want|need)$"), "service")
        ],
        vol.Optional("stage"): vol.In(["deprecated", "experimental", "stable"]),
        vol.Optional("startup"): vol.In(
            ["application", "initialize", "once", "services", "system"]
        ),
        vol.Optional("stdin"): bool,
        vol.Optional("timeout"): int,
        vol.Optional("tmpfs"): vol.Any(str, bool),
        vol.Optional("translations"): dict,
        vol.Optional("uart"): bool,
        vol.Optional("udev"): bool,
        vol.Optional("ulimits"): dict,
        vol.Optional("url"): str,
        vol.Optional("usb"): bool,
        vol.Optional("video"): bool,
        vol.Optional("watchdog"): str,
        vol.Optional("webui"): str,
        # Deprecated keys, refused below with their replacement.
        vol.Optional("snapshot"): object,
        vol.Optional("snapshot_exclude"): object,
        vol.Optional("snapshot_pre"): object,
        vol.Optional("snapshot_post"): object,
    }
)
BUILD_SCHEMA = vol.Schema(
    {
        vol.Optional("build_from"): vol.Any(
            _pattern(IMAGE, "image (namespace/name[:tag])"),
            {vol.In(ARCHES): _pattern(IMAGE, "image (namespace/name[:tag])")},
        ),
        vol.Optional("args"): dict,
        vol.Optional("squash"): bool,
        vol.Optional("codenotary"): dict,
    }
)
BUILD_DEFAULTS: dict[str, Any] = {"args": {}, "build_from": {}, "squash": False}
DEPRECATED = {
    "snapshot": "'snapshot' is deprecated, use 'backup' instead.",
    "snapshot_exclude": "'snapshot_exclude' is deprecated, use 'backup_exclude' instead.",
    "snapshot_pre": "'snapshot_pre' is deprecated, use 'backup_pre' instead.",
    "snapshot_post": "'snapshot_post' is deprecated, use 'backup_post' instead.",
    "auto_uart": "'auto_uart' is deprecated, use 'uart' instead.",
    "watchdog": "'watchdog', is obsolete. Use the native Docker HEALTHCHECK directive instead.",
}


def changelog_covers(text: str, version: str) -> bool:
    """Whether a changelog describes ``version``: an entry for it, or, for an add-on never
    released yet (no release heading at all), its ``## [Unreleased]`` section, which the
    next release names."""
    if version in text:
        return True
    headings = [line for line in text.splitlines() if line.startswith("## [")]
    return headings == ["## [Unreleased]"]


def check_addons(addons: Path) -> list[str]:
    """Every problem of every add-on folder under ``addons``."""
    problems: list[str] = []
    for folder in sorted(p for p in addons.iterdir() if p.is_dir() and not p.name.startswith(".")):
        problems += check_addon(folder)
    return problems


def _first(folder: Path, stem: str) -> Path | None:
    for suffix in ("json", "yaml", "yml"):
        if (candidate := folder / f"{stem}.{suffix}").is_file():
            return candidate
    return None


def check_addon(folder: Path) -> list[str]:
    """What the add-on linter and the Supervisor refuse in one add-on folder."""
    report = Report(folder)
    config_file = _first(folder, "config")
    if config_file is None:
        report.add(folder, "", "Add-on configuration file (config.yaml) not found")
        return report.problems
    config = (
        load_json(report, config_file)
        if config_file.suffix == ".json"
        else load_yaml(report, config_file)
    )
    if not isinstance(config, dict):
        report.add(config_file, "", "not a mapping")
        return report.problems
    try:
        ADDON_CONFIG_SCHEMA(config)
    except vol.Invalid as err:
        report.invalid(config_file, err)
    check_addon_config(report, folder, config_file, config)
    check_addon_build(report, folder, config)
    check_addon_files(report, folder, config)
    return report.problems


def check_addon_config(report: Report, folder: Path, file: Path, config: dict[str, Any]) -> None:
    """The add-on linter's rules beyond the schema."""

    def add(message: str) -> None:
        report.add(file, "", message)

    for key, default in ADDON_DEFAULTS.items():
        if key in config and config[key] == default:
            add(f"'{key}' should be removed, it uses a default value")
    for key, message in DEPRECATED.items():
        if key in config:
            add(message)
    if config.get("slug") != folder.name:
        add(f"'slug' is {config.get('slug')!r}: the folder is {folder.name!r}")
    if config.get("ingress"):
        if config.get("webui"):
            add("'webui' should be removed, Ingress is enabled.")
        if not config.get("host_network") and config.get("ingress_port", 8099) == 0:
            add(
                "'ingress_port' this does not run on the host network. "
                "In Ingress port doesn't have to be randomized (not 0)."
            )
    if "ports" in config and "ports_description" not in config:
        add("'ports' is defined without 'ports_description'.")
    if set(config.get("ports") or {}) != set(config.get("ports_description") or {}):
        add("'ports' and 'ports_description' do not match.")
    for port in config.get("ports") or {}:
        if not re.fullmatch(r"\d+/(tcp|udp)", str(port)):
            add(f"port {port!r} is not NUMBER/tcp or NUMBER/udp")
    if config.get("full_access") and any(
        key in config for key in ("devices", "gpio", "uart", "usb")
    ):
        add("'full_access', don't add 'devices', 'uart', 'usb' or 'gpio' this is not needed")
    if any(":" in str(device) for device in config.get("devices") or []):
        add("'devices' uses a deprecated format, the new format uses a list of paths only.")
    if not isinstance(config.get("tmpfs", False), bool):
        add("'tmpfs' use a deprecated format, it is a boolean now.")
    if config.get("backup", "hot") == "cold":
        for key in ("backup_pre", "backup_post"):
            if key in config:
                add(f"'{key}' is not valid when using cold backups.")
    schema = config.get("schema") or {}
    options = config.get("options") or {}
    if isinstance(schema, dict):
        for key, kind in schema.items():
            if isinstance(kind, str) and not OPTION_TYPE.match(kind):
                add(f"schema.{key}: {kind!r} is not an option type the Supervisor knows")
        for key in options:
            if key not in schema:
                add(f"options.{key}: not in the schema")


def check_addon_build(report: Report, folder: Path, config: dict[str, Any]) -> None:
    """``build.yaml``: the linter's schema, defaults, and the same architectures."""
    file = _first(folder, "build")
    if file is None:
        return
    build = load_json(report, file) if file.suffix == ".json" else load_yaml(report, file)
    if not isinstance(build, dict):
        report.add(file, "", "not a mapping")
        return
    try:
        BUILD_SCHEMA(build)
    except vol.Invalid as err:
        report.invalid(file, err)
    for key, default in BUILD_DEFAULTS.items():
        if key in build and build[key] == default:
            report.add(file, "", f"'{key}' should be removed, it uses a default value")
    build_from = build.get("build_from")
    if isinstance(build_from, dict) and set(build_from) != set(config.get("arch") or []):
        report.add(file, "build_from", "Architectures in config and build do not match")


def check_addon_files(report: Report, folder: Path, config: dict[str, Any]) -> None:
    """What the add-on store and the Supervisor's UI show: option texts, docs, images."""
    translations = folder / "translations" / "en.yaml"
    schema = config.get("schema") or {}
    if schema or config.get("ports"):
        texts = load_yaml(report, translations) or {}
        configuration = texts.get("configuration") or {}
        for key in schema if isinstance(schema, dict) else {}:
            entry = configuration.get(key) or {}
            if not entry.get("name") or not entry.get("description"):
                report.add(translations, f"configuration.{key}", "needs a name and a description")
        for key in configuration:
            if key not in schema:
                report.add(translations, f"configuration.{key}", "not an option of the add-on")
        network = texts.get("network") or {}
        if set(network) != set(config.get("ports") or {}):
            report.add(translations, "network", "does not describe exactly the add-on's ports")
    if not (folder / "DOCS.md").is_file() and not (folder / "README.md").is_file():
        report.add(folder, "", "has neither DOCS.md nor README.md")
    changelog = folder / "CHANGELOG.md"
    if not changelog.is_file():
        report.add(changelog, "", "missing")
    elif not changelog_covers(changelog.read_text(), str(config.get("version"))):
        report.add(changelog, "", f"has no entry for version {config.get('version')}")
    for image in ("icon.png", "logo.png"):
        file = folder / image
        if not file.is_file():
            report.add(file, "", "missing")
        elif not file.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"):
            report.add(file, "", "not a PNG")
    dockerfile = folder / "Dockerfile"
    if "image" not in config and not dockerfile.is_file():
        report.add(dockerfile, "", "missing (and config.yaml names no prebuilt image)")


# -- blueprints ----------------------------------------------------------------------------


def check_blueprints(blueprints: Path) -> list[str]:
    """Every problem of every blueprint file under ``blueprints/<domain>/``."""
    report = Report(blueprints)
    if not blueprints.is_dir():
        return report.problems
    hacs = json.loads((blueprints.parent / "hacs.json").read_text())
    for path in sorted(p for p in blueprints.rglob("*") if p.is_file()):
        domain = path.relative_to(blueprints).parts[0]
        if path.suffix != ".yaml":
            report.add(path, "", "a blueprint is a .yaml file")
            continue
        try:  # Home Assistant's loader: it knows ``!input``
            data = load_ha_yaml(path)
        except HomeAssistantError as err:
            report.add(path, "", f"invalid YAML: {err}")
            continue
        try:
            BLUEPRINT_SCHEMA(data)
        except vol.Invalid as err:
            report.invalid(path, err)
            continue
        meta = data["blueprint"]
        if meta["domain"] != domain:
            report.add(path, "blueprint.domain", f"{meta['domain']} in the {domain} folder")
        url = f"{REPOSITORY_URL}/blob/main/{path.relative_to(blueprints.parent).as_posix()}"
        if meta.get("source_url") != url:
            report.add(path, "blueprint.source_url", f"should be {url}")
        min_version = meta.get("homeassistant", {}).get("min_version")
        if min_version != hacs["homeassistant"]:
            report.add(
                path,
                "blueprint.homeassistant.min_version",
                f"{min_version} is not hacs.json's {hacs['homeassistant']}",
            )
        if "How to set it up" not in meta.get("description", ""):
            report.add(path, "blueprint.description", "no *How to set it up* steps")
        for key, value in _blueprint_inputs(meta.get("input", {})).items():
            where = f"blueprint.input.{key}"
            if not value or not value.get("name"):
                report.add(path, where, "no name")
            if not value or not value.get("selector"):
                report.add(path, where, "no selector (the editor needs a typed one)")
    return report.problems


def _blueprint_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Every input of a blueprint, those in sections included."""
    found: dict[str, Any] = {}
    for key, value in inputs.items():
        if value and "input" in value:
            found.update(value["input"])
        else:
            found[key] = value
    return found


def main(argv: list[str] | None = None) -> int:
    """Check, print the problems, exit 1 when there are any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integration", type=Path, default=INTEGRATION)
    parser.add_argument("--addons", type=Path, default=ADDONS)
    parser.add_argument("--blueprints", type=Path, default=BLUEPRINTS)
    args = parser.parse_args(argv)
    problems = (
        check_integration(args.integration)
        + check_addons(args.addons)
        + check_blueprints(args.blueprints)
    )
    for problem in problems:
        print(problem)
    checked = (
        f"{args.integration.name}, the add-ons in {args.addons.name}/ and the blueprints in"
        f" {args.blueprints.name}/"
    )
    if problems:
        print(f"check_metadata: {len(problems)} problem(s) in {checked}")
        return 1
    print(f"check_metadata: {checked} pass hassfest's and the add-on linter's rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
