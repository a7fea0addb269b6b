"""Lint of the add-on wrapper: what the Supervisor reads, the OpenAPI file, shell scripts."""

from __future__ import annotations

from pathlib import Path
import re
import shutil
import subprocess
from typing import Any

from PIL import Image
import pytest
import yaml

from makerhub_firmware.api import ROUTES, create_app
from makerhub_firmware.service import FirmwareService
from makerhub_firmware.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
ADDONS = ROOT / "addons"
ADDON = ADDONS / "makerhub_firmware"

SUPERVISOR_REQUIRED = ("name", "version", "slug", "description", "arch")
SUPERVISOR_ARCHES = {"armhf", "armv7", "aarch64", "amd64", "i386"}
# The Supervisor's defaults (supervisor/addons/validate.py): setting any of these to its
# default value only adds noise, so the lint refuses it.
SUPERVISOR_DEFAULTS: dict[str, Any] = {
    "startup": "application",
    "boot": "auto",
    "init": True,
    "ingress_port": 8099,
    "ingress_entry": "/",
    "ingress_stream": False,
    "panel_admin": True,
    "panel_icon": "mdi:puzzle",
    "host_network": False,
    "host_pid": False,
    "host_ipc": False,
    "host_uts": False,
    "host_dbus": False,
    "full_access": False,
    "hassio_api": False,
    "hassio_role": "default",
    "homeassistant_api": False,
    "auth_api": False,
    "docker_api": False,
    "stdin": False,
    "legacy": False,
    "advanced": False,
    "stage": "stable",
    "ingress": False,
    "apparmor": True,
    "audio": False,
    "video": False,
    "gpio": False,
    "usb": False,
    "uart": False,
    "udev": False,
    "kernel_modules": False,
    "realtime": False,
    "journald": False,
    "tmpfs": False,
    "uuid_map": False,
    "backup": "hot",
    "timeout": 10,
    "options": {},
    "schema": {},
}
KNOWN_KEYS = (
    set(SUPERVISOR_DEFAULTS)
    | set(SUPERVISOR_REQUIRED)
    | {
        "url",
        "machine",
        "homeassistant",
        "webui",
        "ports",
        "ports_description",
        "panel_title",
        "map",
        "services",
        "discovery",
        "backup_exclude",
        "image",
        "environment",
        "privileged",
        "devices",
        "breaking_versions",
        "translations",
    }
)
MAP_TYPES = {
    "homeassistant_config",
    "addon_config",
    "ssl",
    "addons",
    "backup",
    "share",
    "media",
    "all_addon_configs",
    "data",
}
SCHEMA_TYPE = re.compile(
    r"(str|bool|email|url|port|password|match\(.+\)|list\(.+\)|device(\(.+\))?"
    r"|(int|float)(\((-?[\d.]+)?,(-?[\d.]+)?\))?|str(\(\d*,\d*\))?)\??"
)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load(ADDON / "config.yaml")


def test_repository_yaml() -> None:
    """The Supervisor reads an add-on repository's ``repository.yaml`` at its root only."""
    assert not (ADDONS / "repository.yaml").exists()
    repository = load(ROOT / "repository.yaml")
    assert set(repository) >= {"name", "url", "maintainer"}


def test_config_has_what_the_supervisor_requires(config: dict[str, Any]) -> None:
    for key in SUPERVISOR_REQUIRED:
        assert config.get(key), key
    assert re.fullmatch(r"[a-z0-9_]+", config["slug"])
    assert config["slug"] == ADDON.name
    assert isinstance(config["version"], str)
    assert set(config["arch"]) == {"aarch64", "amd64"}
    assert set(config["arch"]) <= SUPERVISOR_ARCHES
    assert unknown_keys(config) == set()
    assert config["ingress"] is True
    assert config["discovery"] == ["makerhub"]
    for item in config["map"]:
        assert item["type"] in MAP_TYPES
    for port in config["ports"]:
        assert re.fullmatch(r"\d+/(tcp|udp)", port)
        assert port in config["ports_description"]


def unknown_keys(config: dict[str, Any]) -> set[str]:
    return set(config) - KNOWN_KEYS


def test_no_key_is_set_to_its_default(config: dict[str, Any]) -> None:
    defaults = {
        key: value
        for key, value in config.items()
        if SUPERVISOR_DEFAULTS.get(key, object()) == value
    }
    assert defaults == {}


def test_options_match_schema_and_translations(config: dict[str, Any]) -> None:
    schema = config["schema"]
    for key, kind in schema.items():
        assert SCHEMA_TYPE.fullmatch(kind), (key, kind)
    for key, value in config["options"].items():
        assert key in schema
        assert not schema[key].endswith("?"), f"{key} has a value, so it is not optional"
        if schema[key].startswith("list("):
            assert value in schema[key][5:-1].split("|")
    translations = load(ADDON / "translations" / "en.yaml")
    assert set(translations["configuration"]) == set(schema)
    assert all(
        entry.get("name") and entry.get("description")
        for entry in translations["configuration"].values()
    )
    assert set(translations["network"]) == set(config["ports"])
    build = load(ADDON / "build.yaml")
    assert set(build["build_from"]) == set(config["arch"])


def test_the_service_reads_every_option(config: dict[str, Any]) -> None:
    source = (ADDON / "makerhub_firmware" / "settings.py").read_text()
    for key in config["schema"]:
        assert f'"{key}"' in source, key


def test_dockerfile() -> None:
    text = (ADDON / "Dockerfile").read_text()
    assert re.search(r"^ARG BUILD_FROM", text, re.M)
    assert re.search(r"^FROM \$\{?BUILD_FROM\}?", text, re.M)
    assert re.search(r"apt-get install .*\bgit\b", text)
    assert "HEALTHCHECK" in text
    assert "makerhub_firmware.healthcheck" in text
    assert "requirements.txt" in text
    for copied in re.findall(r"^COPY (\S+)", text, re.M):
        assert (ADDON / copied).exists(), copied


def test_requirements_are_pinned_like_the_test_environment() -> None:
    import importlib.metadata

    for line in (ADDON / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, line
            assert importlib.metadata.version(name) == version, name


def test_images() -> None:
    with Image.open(ADDON / "icon.png") as icon:
        assert icon.format == "PNG"
        assert icon.size == (128, 128)
    with Image.open(ADDON / "logo.png") as logo:
        assert logo.format == "PNG"
        assert logo.size == (250, 100)


def test_docs_exist() -> None:
    docs = (ADDON / "DOCS.md").read_text()
    for _, path, _, _ in ROUTES:
        assert path in docs, path
    changelog = (ADDON / "CHANGELOG.md").read_text()
    assert load(ADDON / "config.yaml")["version"] in changelog


def shell_scripts() -> list[Path]:
    candidates = [*ADDON.rglob("*.sh"), ROOT / "scripts" / "sync-vendored"]
    return [p for p in candidates if p.read_bytes().startswith(b"#!") or p.suffix == ".sh"]


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.name)
def test_shellcheck(script: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/lib/bootstrap.sh installs it"
    result = subprocess.run([shellcheck, str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_openapi_matches_the_routes(tmp_path: Path) -> None:
    spec = load(ADDON / "openapi.yaml")
    assert spec["openapi"].startswith("3.")
    documented = {
        (method.upper(), path, operation["operationId"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    }
    app = create_app(FirmwareService(Settings(data_dir=tmp_path, token="t" * 20)))
    served = {
        (route.method, route.resource.canonical, route.name)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    assert served == documented
    public = {
        operation["operationId"]
        for item in spec["paths"].values()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("security") == []
    }
    from makerhub_firmware.api import PUBLIC_ROUTES

    assert public == PUBLIC_ROUTES
    refs = set(re.findall(r"#/components/(\w+)/(\w+)", (ADDON / "openapi.yaml").read_text()))
    for section, name in refs:
        assert name in spec["components"][section], name
