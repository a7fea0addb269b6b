"""A real Home Assistant process with this repository's integration, driven over its API.

Used by the end-to-end tests, the benchmarks and ``scripts/develop``: it writes a config
directory, starts ``hass``, onboards it through the same HTTP API the frontend uses, and
sets integrations up through their real config flows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

import aiohttp

from .ports import free_port

REPO = Path(__file__).resolve().parents[2]
INTEGRATION = REPO / "custom_components" / "makerhub"
DEV_USER = "dev"
DEV_PASSWORD = "makerhub"

BASE_CONFIG = """\
homeassistant:
  name: Makerhub test
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  currency: EUR
  country: NL
  time_zone: UTC
  language: en
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
logger:
  default: warning
  logs:
    custom_components.makerhub: info
"""


@dataclass
class HassProcess:
    """``hass`` running on 127.0.0.1:<port> with its own config directory."""

    config_dir: Path
    port: int = field(default_factory=free_port)
    extra_config: str = ""
    with_makerhub: bool = True
    """Link this repository's integration into the config (off for baselines)."""
    copy_makerhub: bool = False
    """Copy the integration instead of linking it (as HACS installs it)."""
    install_requirements: bool = False
    """Let Home Assistant install integrations' requirements, as it does for users
    (otherwise ``--skip-pip``: ``python`` must already have them)."""
    python: str = sys.executable
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment variables for the process (e.g. ``LD_PRELOAD``)."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Return Home Assistant's log file."""
        return self.config_dir / "home-assistant.log"

    def write_config(self) -> None:
        """Write configuration.yaml (once) and link (or copy) this repository's integration."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        config = self.config_dir / "configuration.yaml"
        if not config.exists():
            config.write_text(BASE_CONFIG.format(port=self.port) + self.extra_config)
        # Every onboarding step but the first user is answered by configuration.yaml; the
        # core_config step would also add default integrations (weather, radio, TTS).
        onboarding = self.config_dir / ".storage" / "onboarding"
        if not onboarding.exists():
            onboarding.parent.mkdir(exist_ok=True)
            onboarding.write_text(
                json.dumps(
                    {
                        "version": 4,
                        "minor_version": 1,
                        "key": "onboarding",
                        "data": {"done": ["core_config", "analytics", "integration"]},
                    }
                )
            )
        target = self.config_dir / "custom_components" / "makerhub"
        target.parent.mkdir(exist_ok=True)
        if self.with_makerhub and not (target.is_symlink() or target.exists()):
            if self.copy_makerhub:
                shutil.copytree(INTEGRATION, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.symlink_to(INTEGRATION)

    def start(self) -> None:
        """Start the process (returns at once; see :meth:`HassClient.wait_running`)."""
        self.write_config()
        # No PYTHONPATH: with this repository on it, Home Assistant would import its
        # custom_components even where the config directory does not link it (baselines).
        # No VIRTUAL_ENV: Home Assistant installs packages with ``python -m uv``, which puts
        # them into the virtual environment that names, not into ``python``'s.
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "VIRTUAL_ENV")
        }
        env.update(self.env)
        skip_pip = [] if self.install_requirements else ["--skip-pip"]
        self.process = subprocess.Popen(
            [self.python, "-m", "homeassistant", "-c", str(self.config_dir), *skip_pip],
            stdout=subprocess.DEVNULL,
            stderr=(self.config_dir / "stderr.log").open("ab"),
            env=env,
            start_new_session=True,
        )

    def stop(self, timeout: float = 60) -> int | None:
        """Stop Home Assistant the way a user does (SIGTERM); return its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def kill(self) -> None:
        """Kill Home Assistant without warning (SIGKILL: nothing is saved on the way out)."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None

    @property
    def running(self) -> bool:
        """Return whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def user_onboarded(self) -> bool:
        """Return whether onboarding has made the first user (Home Assistant's onboarding
        store says so, written as soon as the step is done)."""
        try:
            store = json.loads((self.config_dir / ".storage" / "onboarding").read_text())
            return "user" in store["data"]["done"]
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def rss_bytes(self) -> int:
        """Return the process's resident memory."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """Return the user + system CPU time the process has used so far."""
        assert self.process is not None
        return process_cpu_seconds(self.process.pid)

    def log_lines(self, marker: str) -> list[str]:
        """Return log lines containing ``marker``."""
        if not self.log_path.exists():
            return []
        return [line for line in self.log_path.read_text().splitlines() if marker in line]

    def makerhub_problems(self) -> list[str]:
        """Return the log's errors and tracebacks that concern Makerhub."""
        lines = self.log_lines("ERROR") + self.log_lines("Traceback")
        return [line for line in lines if "makerhub" in line]


def process_cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class HassApiError(RuntimeError):
    """Home Assistant answered an API call with an error."""


class HassClient:
    """Home Assistant's REST and WebSocket API, as the frontend uses them."""

    def __init__(self, hass: HassProcess) -> None:
        """Bind to a process; call :meth:`login` before anything that needs auth."""
        self.hass = hass
        self.url = hass.url
        self.client_id = f"{self.url}/"
        self.username, self.password = DEV_USER, DEV_PASSWORD
        """Who :meth:`login` logs in as once onboarded (set another user's before it)."""
        self.token: str | None = None
        self.session = aiohttp.ClientSession()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ws_id = 0

    @classmethod
    async def start(cls, hass: HassProcess) -> HassClient:
        """Start ``hass``, log in and wait until it runs; return the client."""
        hass.start()
        client = cls(hass)
        await client.login()
        await client.wait_running()
        return client

    async def close(self) -> None:
        """Close connections."""
        if self._ws is not None:
            await self._ws.close()
        await self.session.close()

    # -- start-up and auth ------------------------------------------------------------

    async def wait_http(self, timeout: float = 120) -> None:
        """Wait until Home Assistant serves what logging in needs: the onboarding API on a
        fresh instance, the login flow's once the user exists.

        Only views that need no token are asked: a request refused for want of one would
        raise a "Login attempt failed" notification in the instance.
        """
        path = "/auth/providers" if self.hass.user_onboarded() else "/api/onboarding"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.hass.running:
                raise HassApiError(f"hass exited; log:\n{self._log_tail()}")
            try:
                async with self.session.get(f"{self.url}{path}") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
        raise HassApiError(f"hass did not answer within {timeout}s; log:\n{self._log_tail()}")

    async def login(self) -> str:
        """Onboard a fresh instance (user dev / makerhub) or log in; return a token."""
        await self.wait_http()
        onboarded = self.hass.user_onboarded()
        if not onboarded:
            code = (
                await self._post_json(
                    "/api/onboarding/users",
                    {
                        "client_id": self.client_id,
                        "name": "Developer",
                        "username": DEV_USER,
                        "password": DEV_PASSWORD,
                        "language": "en",
                    },
                    auth=False,
                )
            )["auth_code"]
        else:
            code = await self._login_flow()
        async with self.session.post(
            f"{self.url}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
        ) as response:
            token: str = (await response.json())["access_token"]
        self.token = token
        return token

    async def _login_flow(self) -> str:
        flow = await self._post_json(
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.url}/?auth_callback=1",
            },
            auth=False,
        )
        result = await self._post_json(
            f"/auth/login_flow/{flow['flow_id']}",
            {"username": self.username, "password": self.password, "client_id": self.client_id},
            auth=False,
        )
        return str(result["result"])

    async def wait_running(self, timeout: float = 120) -> None:
        """Wait until Home Assistant reports it has fully started."""
        await self.wait_for(
            lambda: self.get("/api/config"),
            lambda config: config.get("state") == "RUNNING",
            timeout,
            "Home Assistant to reach RUNNING",
        )

    async def long_lived_token(self, name: str) -> str:
        """Create a long-lived access token (as the profile page does)."""
        token = await self.ws(
            {"type": "auth/long_lived_access_token", "client_name": name, "lifespan": 3650}
        )
        return str(token)

    # -- REST -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def get(self, path: str) -> Any:
        """GET a JSON resource."""
        async with self.session.get(f"{self.url}{path}", headers=self._headers()) as response:
            if response.status >= 400:
                raise HassApiError(f"GET {path}: {response.status} {await response.text()}")
            return await response.json()

    async def _post_json(self, path: str, body: Any, auth: bool = True) -> Any:
        headers = self._headers() if auth else {}
        async with self.session.post(f"{self.url}{path}", json=body, headers=headers) as response:
            if response.status >= 400:
                raise HassApiError(f"POST {path}: {response.status} {await response.text()}")
            return await response.json()

    async def post(self, path: str, body: Any) -> Any:
        """POST JSON with auth."""
        return await self._post_json(path, body)

    async def states(self) -> dict[str, dict[str, Any]]:
        """Return every state by entity id."""
        return {state["entity_id"]: state for state in await self.get("/api/states")}

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """Return one state, or None if the entity does not exist."""
        try:
            result: dict[str, Any] = await self.get(f"/api/states/{entity_id}")
        except HassApiError as err:
            if " 404 " in str(err):
                return None
            raise
        return result

    async def call_service(self, domain: str, service: str, data: dict[str, Any]) -> Any:
        """Call a service action."""
        return await self.post(f"/api/services/{domain}/{service}", data)

    async def service_response(
        self, domain: str, service: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Call a service action that returns a response; return the response."""
        result = await self.post(f"/api/services/{domain}/{service}?return_response", data)
        response: dict[str, Any] = result["service_response"]
        return response

    # -- config flows -------------------------------------------------------------------

    async def options_flow(self, entry_id: str, *steps: dict[str, Any]) -> dict[str, Any]:
        """Open an entry's options flow and submit ``steps`` in turn; return the last result."""
        result: dict[str, Any] = await self.post(
            "/api/config/config_entries/options/flow", {"handler": entry_id}
        )
        for data in steps:
            result = await self.post(
                f"/api/config/config_entries/options/flow/{result['flow_id']}", data
            )
        return result

    async def subentry_flow(
        self, entry_id: str, kind: str, *steps: dict[str, Any], retry_for: float = 30
    ) -> dict[str, Any]:
        """Run a subentry flow over REST (as the frontend does); return the last result.

        While the hub reloads (after an options change) the flow aborts at once with
        ``hub_not_loaded`` or ``firmware_not_configured``: it is opened again for up to
        ``retry_for`` seconds. A step after an abort or a finished flow is not sent."""
        deadline = time.monotonic() + retry_for
        while True:
            result: dict[str, Any] = await self.post(
                "/api/config/config_entries/subentries/flow",
                {"handler": [entry_id, kind], "show_advanced_options": False},
            )
            reloading = result["type"] == "abort" and result["reason"] in (
                "hub_not_loaded",
                "firmware_not_configured",
            )
            if not reloading or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        for data in steps:
            if result.get("type") != "form":
                break
            result = await self.post(
                f"/api/config/config_entries/subentries/flow/{result['flow_id']}", data
            )
        return result

    async def start_flow(self, handler: str) -> dict[str, Any]:
        """Start a user config flow."""
        result: dict[str, Any] = await self.post(
            "/api/config/config_entries/flow", {"handler": handler, "show_advanced_options": False}
        )
        return result

    async def flow_step(self, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Submit a step of a config flow."""
        result: dict[str, Any] = await self.post(f"/api/config/config_entries/flow/{flow_id}", data)
        return result

    async def flows_in_progress(self) -> list[dict[str, Any]]:
        """Return the config flows in progress (discovered devices among them)."""
        result: list[dict[str, Any]] = await self.ws({"type": "config_entries/flow/progress"})
        return result

    async def entries(self, domain: str) -> list[dict[str, Any]]:
        """Return the config entries of a domain."""
        result: list[dict[str, Any]] = await self.get(
            f"/api/config/config_entries/entry?domain={domain}"
        )
        return result

    async def setup_mqtt(self, host: str, port: int) -> None:
        """Set the MQTT integration up through its config flow (unless it is)."""
        if await self.entries("mqtt"):
            return
        flow = await self.start_flow("mqtt")
        if flow["step_id"] != "broker":
            raise HassApiError(f"unexpected MQTT flow step: {flow}")
        result = await self.flow_step(flow["flow_id"], {"broker": host, "port": port})
        if result["type"] != "create_entry":
            raise HassApiError(f"MQTT flow did not finish: {result}")

    async def setup_makerhub(
        self, prefix: str = "makerhub", broker_host: str = "127.0.0.1", broker_port: int = 1883
    ) -> None:
        """Set the Makerhub hub up through its config flow (unless it is); units are given
        the broker ``broker_host:broker_port``."""
        if await self.entries("makerhub"):
            return
        deadline = time.monotonic() + 30
        while True:
            flow = await self.start_flow("makerhub")
            result = await self.flow_step(
                flow["flow_id"],
                {
                    "prefix": prefix,
                    "unit_broker_host": broker_host,
                    "unit_broker_port": broker_port,
                    "unit_broker_tls": False,
                },
            )
            # The MQTT entry just made may not have connected yet: the flow says so.
            connecting = result.get("errors") == {"base": "mqtt_not_connected"}
            if not connecting or time.monotonic() > deadline:
                break
            async with self.session.delete(
                f"{self.url}/api/config/config_entries/flow/{flow['flow_id']}",
                headers=self._headers(),
            ):
                pass  # the form is closed; a new flow starts the check over
            await asyncio.sleep(0.2)
        if result["type"] != "create_entry":
            raise HassApiError(f"Makerhub flow did not finish: {result}")

    async def discovered_units(self) -> list[dict[str, Any]]:
        """Return Makerhub discovery flows waiting for confirmation."""
        return [
            flow
            for flow in await self.flows_in_progress()
            if flow["handler"] == "makerhub" and flow["context"]["source"] == "mqtt"
        ]

    async def adopt(self, flow_id: str, name: str) -> dict[str, Any]:
        """Confirm a discovered unit under ``name``."""
        return await self.flow_step(flow_id, {"name": name})

    # -- WebSocket ----------------------------------------------------------------------

    async def ws(self, message: dict[str, Any]) -> Any:
        """Send one WebSocket command and return its result (reconnecting once if Home
        Assistant closed an idle connection: nothing reads it between commands)."""
        self._ws_id += 1
        try:
            connection = await self._ws_connection()
            await connection.send_json({"id": self._ws_id, **message})
        except aiohttp.ClientConnectionResetError:
            self._ws = None
            connection = await self._ws_connection()
            await connection.send_json({"id": self._ws_id, **message})
        while True:
            reply = await connection.receive_json()
            if reply.get("id") == self._ws_id and reply["type"] == "result":
                break
        if not reply["success"]:
            raise HassApiError(f"{message['type']}: {reply['error']}")
        return reply["result"]

    async def _ws_connection(self) -> aiohttp.ClientWebSocketResponse:
        if self._ws is not None and self._ws.closed:
            self._ws = None
        if self._ws is None:
            self._ws = await self.session.ws_connect(f"{self.url}/api/websocket")
            await self._ws.receive_json()  # auth_required
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            reply = await self._ws.receive_json()
            if reply["type"] != "auth_ok":
                raise HassApiError(f"WebSocket auth failed: {reply}")
        return self._ws

    # -- waiting --------------------------------------------------------------------------

    async def wait_for[T](
        self,
        fetch: Callable[[], Awaitable[T]],
        predicate: Callable[[T], bool],
        timeout: float,
        what: str,
    ) -> T:
        """Poll ``fetch`` until ``predicate`` holds; fail with the last value seen."""
        deadline = time.monotonic() + timeout
        last: T | None = None
        while time.monotonic() < deadline:
            if not self.hass.running:
                raise HassApiError(f"hass exited while waiting for {what}:\n{self._log_tail()}")
            try:
                last = await fetch()
            except (HassApiError, aiohttp.ClientError):
                last = None
            else:
                if predicate(last):
                    return last
            await asyncio.sleep(0.2)
        raise HassApiError(f"timed out waiting for {what}; last seen: {last!r}")

    def _log_tail(self, lines: int = 40) -> str:
        log = self.hass.log_path
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
