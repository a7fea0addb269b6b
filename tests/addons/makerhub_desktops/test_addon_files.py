"""The add-on wrapper: what the Supervisor reads, the OpenAPI file, the docs, the script."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
import re
import shutil
import subprocess
import sys
from typing import Any

from PIL import Image
import pytest
import yaml

from makerhub_desktops import errors
from makerhub_desktops.api import PUBLIC_ROUTES, ROUTES, create_app
from makerhub_desktops.clock import ManualClock
from makerhub_desktops.manager import DesktopManager
from makerhub_desktops.settings import Settings
from tests.addons.makerhub_firmware.test_addon_files import (
    KNOWN_KEYS,
    MAP_TYPES,
    SCHEMA_TYPE,
    SUPERVISOR_DEFAULTS,
    SUPERVISOR_REQUIRED,
)

ROOT = Path(__file__).resolve().parents[3]
ADDON = ROOT / "addons" / "makerhub_desktops"
sys.path.insert(0, str(ROOT / "scripts" / "lib"))

import check_metadata  # noqa: E402

ERROR_CODES = {
    value.code
    for value in vars(errors).values()
    if isinstance(value, type)
    and issubclass(value, errors.DesktopError)
    and value is not errors.DesktopError
}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load(ADDON / "config.yaml")


def test_config_has_what_the_supervisor_requires(config: dict[str, Any]) -> None:
    for key in SUPERVISOR_REQUIRED:
        assert config.get(key), key
    assert config["slug"] == ADDON.name
    assert set(config["arch"]) == {"aarch64", "amd64"}
    assert set(config) - KNOWN_KEYS == set()
    assert config["ingress"] is True
    assert config["discovery"] == ["makerhub"]
    assert config["ingress_port"] == 8100
    assert list(config["ports"]) == ["8100/tcp"]
    for item in config.get("map", []):
        assert item["type"] in MAP_TYPES
    assert {k: v for k, v in config.items() if SUPERVISOR_DEFAULTS.get(k, object()) == v} == {}


def test_options_match_schema_translations_and_settings(config: dict[str, Any]) -> None:
    schema = config["schema"]
    for key, kind in schema.items():
        assert SCHEMA_TYPE.fullmatch(kind), (key, kind)
    for key in config["options"]:
        assert key in schema
        assert not schema[key].endswith("?")
    translations = load(ADDON / "translations" / "en.yaml")
    assert set(translations["configuration"]) == set(schema)
    assert set(translations["network"]) == set(config["ports"])
    assert set(load(ADDON / "build.yaml")["build_from"]) == set(config["arch"])
    source = (ADDON / "makerhub_desktops" / "settings.py").read_text()
    for key in schema:
        assert f'"{key}"' in source, key
    # The add-on's defaults are the service's defaults.
    defaults = Settings(data_dir=Path("/nonexistent"), token="t" * 20)
    assert config["options"]["suspend_after"] == defaults.suspend_after
    assert config["options"]["stop_after"] == defaults.stop_after
    assert config["options"]["max_running"] == defaults.max_running
    assert config["options"]["max_desktops"] == defaults.max_desktops
    assert config["options"]["connect_token_ttl"] == defaults.token_ttl


def test_dockerfile_installs_the_desktop_from_debian() -> None:
    text = (ADDON / "Dockerfile").read_text()
    assert re.search(r"^FROM \$\{?BUILD_FROM\}?", text, re.M)
    for package in ("tigervnc-standalone-server", "novnc", "openbox", "tint2", "xterm",
                    "mousepad", "pcmanfm", "chromium", "git"):  # fmt: skip
        assert re.search(rf"\s{package}\s", text), package
    assert "makerhub_desktops.healthcheck" in text
    for copied in re.findall(r"^COPY (\S+)", text, re.M):
        assert (ADDON / copied).exists(), copied


def test_requirements_are_pinned_like_the_test_environment() -> None:
    for line in (ADDON / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert importlib.metadata.version(name) == version, name


def test_images() -> None:
    with Image.open(ADDON / "icon.png") as icon:
        assert (icon.format, icon.size) == ("PNG", (128, 128))
    with Image.open(ADDON / "logo.png") as logo:
        assert (logo.format, logo.size) == ("PNG", (250, 100))


def test_docs_cover_every_route_and_error() -> None:
    docs = (ADDON / "DOCS.md").read_text()
    for method, path, _, _ in ROUTES:
        assert f"{method} {path}" in docs, path
    for code in ERROR_CODES:
        assert f"`{code}`" in docs, code
    version = str(load(ADDON / "config.yaml")["version"])
    assert check_metadata.changelog_covers((ADDON / "CHANGELOG.md").read_text(), version)


def test_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/lib/bootstrap.sh installs it"
    result = subprocess.run(
        [shellcheck, str(ADDON / "run.sh")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_openapi_matches_the_routes(tmp_path: Path) -> None:
    spec = load(ADDON / "openapi.yaml")
    documented = {
        (method.upper(), path, operation["operationId"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    }
    manager = DesktopManager(Settings(data_dir=tmp_path, token="t" * 20), ManualClock())
    served = {
        (route.method, route.resource.canonical, route.name)
        for route in create_app(manager).router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and route.name not in {"novnc", "novnc_page"}  # noVNC's files, not the API
    }
    assert served == documented
    public = {
        operation["operationId"]
        for item in spec["paths"].values()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("security") == []
    }
    assert public == PUBLIC_ROUTES
    refs = set(re.findall(r"#/components/(\w+)/(\w+)", (ADDON / "openapi.yaml").read_text()))
    for section, name in refs:
        assert name in spec["components"][section], name
    codes = set(spec["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    assert codes >= ERROR_CODES
