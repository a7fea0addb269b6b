"""The add-on wrapper: what the Supervisor reads, the OpenAPI file, the docs, settings."""

from __future__ import annotations

import importlib.metadata
import json
import os
from pathlib import Path
import re
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

from aiohttp import web
from makerhub_recorder import discovery, errors
from makerhub_recorder.api import PUBLIC_ROUTES, ROUTES, create_app
from makerhub_recorder.service import RecorderService
from makerhub_recorder.settings import Settings, load_settings, parse_args
from makerhub_recorder.vendor import secret_box as vendored_secret_box
from PIL import Image
import pytest
import yaml

from custom_components.makerhub.core import secret_box as core_secret_box
from dev.processes.ports import free_port
from tests.addons.makerhub_firmware.test_addon_files import (
    KNOWN_KEYS,
    MAP_TYPES,
    SCHEMA_TYPE,
    SUPERVISOR_DEFAULTS,
    SUPERVISOR_REQUIRED,
)

ROOT = Path(__file__).resolve().parents[3]
ADDON = ROOT / "addons" / "makerhub_recorder"
sys.path.insert(0, str(ROOT / "scripts" / "lib"))

import check_metadata  # noqa: E402

ERROR_CODES = {
    value.code
    for value in vars(errors).values()
    if isinstance(value, type)
    and issubclass(value, errors.RecorderError)
    and value is not errors.RecorderError
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
    assert config["ingress_port"] == 8101
    assert list(config["ports"]) == ["8101/tcp"]
    assert {"type": "media", "read_only": False} in config["map"]
    for item in config.get("map", []):
        assert item["type"] in MAP_TYPES
    assert {k: v for k, v in config.items() if SUPERVISOR_DEFAULTS.get(k, object()) == v} == {}
    assert check_metadata.check_addon(ADDON) == []


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
    source = (ADDON / "makerhub_recorder" / "settings.py").read_text()
    for key in schema:
        assert f'"{key}"' in source, key
    defaults = Settings(data_dir=Path("/nonexistent"), token="t" * 20)
    options = config["options"]
    assert options["pre_roll"] == defaults.pre_roll
    assert options["segment_seconds"] == defaults.segment_seconds
    assert options["retention_days"] == defaults.retention_days
    assert options["free_floor_gib"] * 1024**3 == defaults.free_floor_bytes
    assert options["timelapse_interval"] == defaults.timelapse_interval


def test_dockerfile_installs_ffmpeg() -> None:
    text = (ADDON / "Dockerfile").read_text()
    assert re.search(r"^FROM \$\{?BUILD_FROM\}?", text, re.M)
    assert re.search(r"\sffmpeg\s", text)
    assert "makerhub_recorder.healthcheck" in text
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


def test_vendored_secret_box_is_identical() -> None:
    original = Path(str(core_secret_box.__file__))
    copy = Path(str(vendored_secret_box.__file__))
    assert copy.parent == ADDON / "makerhub_recorder" / "vendor"
    assert copy.read_bytes() == original.read_bytes(), "run scripts/sync-vendored"


def test_openapi_matches_the_routes(tmp_path: Path) -> None:
    spec = load(ADDON / "openapi.yaml")
    documented = {
        (method.upper(), path, operation["operationId"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    }
    service = RecorderService(Settings(data_dir=tmp_path, token="t" * 20))
    served = {
        (route.method, route.resource.canonical, route.name)
        for route in create_app(service).router.routes()
        if route.resource is not None and route.method != "HEAD"
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
    assert spec["info"]["version"] == load(ADDON / "config.yaml")["version"]


def test_options_json_of_the_add_on(tmp_path: Path) -> None:
    (tmp_path / "options.json").write_text(
        json.dumps(
            {
                "api_token": "from-options-0123456789",
                "log_level": "debug",
                "pre_roll": 20,
                "segment_seconds": 4,
                "retention_days": 7,
                "camera_max_gib": 2,
                "total_max_gib": 10,
                "free_floor_gib": 1.5,
                "timelapse_interval": 30,
                "timelapse_size": "640x360",
            }
        )
    )
    settings = load_settings(
        parse_args(["--data", str(tmp_path)]), environ={"SUPERVISOR_TOKEN": "sup"}
    )
    assert settings.token == "from-options-0123456789"
    assert (settings.pre_roll, settings.segment_seconds, settings.retention_days) == (20, 4, 7)
    assert settings.camera_max_bytes == 2 * 1024**3
    assert settings.total_max_bytes == 10 * 1024**3
    assert settings.free_floor_bytes == int(1.5 * 1024**3)
    assert (settings.timelapse_width, settings.timelapse_height) == (640, 360)
    assert settings.media_dir == Path("/media/makerhub_recorder")
    assert settings.trusted_ingress == "172.30.32.2"
    plain = load_settings(
        parse_args(["--data", str(tmp_path / "plain"), "--token", "cli-token-0123456789",
                    "--pre-roll", "3", "--free-floor-gib", "0"]),
        environ={},
    )  # fmt: skip
    assert (plain.token, plain.pre_roll, plain.free_floor_bytes) == ("cli-token-0123456789", 3, 0)
    assert plain.media_dir == tmp_path / "plain" / "recordings"
    assert plain.trusted_ingress is None
    assert "cli-token" not in repr(plain)
    generated = load_settings(parse_args(["--data", str(tmp_path / "gen")]), environ={})
    assert (tmp_path / "gen" / "api.token").read_text() == generated.token
    assert (tmp_path / "gen" / "api.token").stat().st_mode & 0o777 == 0o600
    with pytest.raises(SystemExit, match="WIDTHxHEIGHT"):
        load_settings(parse_args(["--data", str(tmp_path / "x"), "--timelapse-size", "big"]), {})
    with pytest.raises(SystemExit, match="at least 16"):
        load_settings(parse_args(["--data", str(tmp_path / "y"), "--token", "short"]), {})
    with pytest.raises(ValueError, match="segment_seconds"):
        Settings(data_dir=tmp_path, token="t" * 20, segment_seconds=0.1)


async def test_discovery_announces_to_the_supervisor(socket_enabled: None) -> None:
    received: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        received.append((request.headers["Authorization"], await request.json()))
        return web.json_response({"result": "ok", "data": {"uuid": "abc"}})

    app = web.Application()
    app.router.add_post("/discovery", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        config = discovery.discovery_config(8101, "token-0123456789abcdef", host="recorder")
        uuid = await discovery.announce("sup-token", config, f"http://{host}:{port}")
    finally:
        await runner.cleanup()
    assert uuid == "abc"
    assert received == [
        (
            "Bearer sup-token",
            {
                "service": "makerhub",
                "config": {
                    "kind": "recorder",
                    "host": "recorder",
                    "port": 8101,
                    "token": "token-0123456789abcdef",
                },
            },
        )
    ]


def test_healthcheck_uses_the_generated_token(socket_enabled: None, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ADDON)}
    env.pop("SUPERVISOR_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "makerhub_recorder", "--data", str(tmp_path),
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        check_env = {**env, "MAKERHUB_DATA": str(tmp_path), "MAKERHUB_PORT": str(port)}
        for _ in range(300):
            result = subprocess.run(
                [sys.executable, "-m", "makerhub_recorder.healthcheck"],
                env=check_env, capture_output=True, check=False,
            )  # fmt: skip
            if result.returncode == 0:
                break
            time.sleep(0.1)
        assert result.returncode == 0, result.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert process.returncode == 0
    bad = {**check_env, "MAKERHUB_PORT": str(free_port())}
    result = subprocess.run(
        [sys.executable, "-m", "makerhub_recorder.healthcheck"],
        env=bad, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "unhealthy" in result.stderr
