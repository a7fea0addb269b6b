"""The real firmware service (the ``makerhub_firmware`` add-on) in-process, and a sample repo.

For the integration's tests of its firmware client: :class:`FirmwareServer` runs the
add-on's own :class:`FirmwareService` and aiohttp app on a free port of 127.0.0.1 (as the
add-on's tests do); :func:`thermometer_repo` builds a real repository with
:class:`~dev.processes.git_repo.FirmwareGitRepo`.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from dev.processes.git_repo import FirmwareGitRepo
from makerhub_firmware.api import create_app
from makerhub_firmware.service import FirmwareService
from makerhub_firmware.settings import Settings

TOKEN = "firmware-test-token-0123456789"

MAKERHUB_JSON: dict[str, Any] = {
    "name": "Bench thermometer",
    "platforms": ["python"],
    "outputs": {"temperature": {"type": "float", "unit": "°C", "device_class": "temperature"}},
    "inputs": {"relay": {"type": "bool"}},
    "env": {
        "SENSOR_PIN": {"default": 4, "type": "int"},
        "LABEL": {"default": "bench", "type": "str"},
        "CLOUD_KEY": {"type": "str", "secret": True},
    },
}


class FirmwareServer:
    """The firmware service on a free port of 127.0.0.1, started and stopped with ``async with``."""

    def __init__(self, data_dir: Path, token: str = TOKEN, **settings: Any) -> None:
        """Use ``data_dir``; ``settings`` override :class:`Settings` fields."""
        settings.setdefault("allowed_schemes", frozenset({"https", "ssh", "file"}))
        data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(data_dir=data_dir, token=token, **settings)
        self.token = token
        self.service = FirmwareService(self.settings)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> Self:
        """Start serving."""
        self._runner = web.AppRunner(create_app(self.service), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving (the service stops with its app)."""
        if self._runner is not None:
            await self._runner.cleanup()


def thermometer_repo(root: Path) -> tuple[FirmwareGitRepo, str, str]:
    """A valid repository with two commits on ``main``; ``v1.0.0`` tags the first.

    Return the repository and both commit ids. The second commit adds a humidity output
    and an ``INTERVAL`` env key, with a message body (release notes).
    """
    repo = FirmwareGitRepo(root)
    first = repo.commit(
        "First firmware",
        {
            "makerhub.json": MAKERHUB_JSON,
            "main.py": "print('hello')\n",
            "examples/demo.py": "print('demo')\n",
            ".makerhubignore": "notes.txt\n",
            "notes.txt": "not for units\n",
        },
    )
    repo.tag("v1.0.0")
    second_schema = json.loads(json.dumps(MAKERHUB_JSON))
    second_schema["outputs"]["humidity"] = {"type": "float", "unit": "%"}
    second_schema["env"]["INTERVAL"] = {"default": 2.5, "type": "float"}
    second = repo.commit(
        "Add humidity\n\nReads the SHT31 next to the thermometer.\nNew env key INTERVAL.",
        {"makerhub.json": second_schema, "main.py": "print('hello again')\n"},
    )
    return repo, first, second
