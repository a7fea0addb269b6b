"""What a unit built from files does on its own: updates, restarts, env and schema refetch.

:class:`UnitAgent` sits next to a :class:`~makerhub_unit.session.UnitSession` on its loop.

* Under a launcher (``MH_ROOT`` set, see :mod:`.launcher`), ``update`` is applied with
  :class:`~makerhub_unit.updater.UpdateManager` (``update_started``, then
  ``update_failed`` with the reason and nothing switched, or a clean disconnect and exit
  code 75 so the launcher starts the new version) and ``restart`` exits with 75. On the
  first connection, after the state report, a pending update to the running version is
  confirmed (``update_ok``) and a rollback not yet reported is (``rolled_back``).
* With ``MH_API_URL`` and ``MH_TOKEN`` in ``env.json``, ``env_update`` and
  ``schema_update`` fetch ``<MH_API_URL>/units/<uid>/env.json`` or ``…/schema.json``
  (``Authorization: Bearer <MH_TOKEN>``), write the file atomically where the unit read
  it from and apply it: a new ``schema.json`` resubscribes, new broker settings
  reconnect. Failures are logged and sent on ``sys/log``; the old file stays.

Commands the agent does not take (every command of a unit without a launcher, or
``env_update``/``schema_update`` without an API) go to ``on_command`` callbacks as before;
``env_update``/``schema_update`` reach them too, once applied.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import contextlib
import json
import logging
import os
from pathlib import Path
import sys
from typing import TYPE_CHECKING, Any, Final

from .commands import Command, UpdateRequest
from .env import EnvError, UnitEnv
from .schema_json import SchemaJson, SchemaJsonError
from .updater import (
    ENV_ROOT,
    ENV_RUN_VERSION,
    RESTART_EXIT_CODE,
    UpdateError,
    UpdateManager,
    fetch,
    write_atomically,
)

if TYPE_CHECKING:
    from .session import UnitSession

_LOGGER = logging.getLogger(__name__)

MAX_DOCUMENT: Final = 1024 * 1024
KEPT_ENV_KEYS: Final = ("MH_VERSION",)
"""Keys a refetched ``env.json`` never changes: they describe the firmware installed here."""


def find_installation(
    root: str | os.PathLike[str] | None = None,
    run_version: str | None = None,
) -> tuple[UpdateManager, str] | None:
    """Return the installation this process runs from (``MH_ROOT``/``MH_RUN_VERSION``).

    None when the unit does not run under a launcher, or the root is not usable.
    """
    root = root if root is not None else os.environ.get(ENV_ROOT)
    if not root:
        return None
    manager = UpdateManager(Path(root))
    version = run_version or os.environ.get(ENV_RUN_VERSION) or manager.current_version()
    if version is None or not manager.is_installation():
        _LOGGER.warning("%s=%s is not an installation root; updates are off", ENV_ROOT, root)
        return None
    return manager, version


def exit_process(code: int) -> None:
    """End the process now (from the network thread): flush output, then ``os._exit``."""
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


class UnitAgent:
    """See the module docstring; every method runs on the session's loop."""

    def __init__(
        self,
        session: UnitSession,
        *,
        env: UnitEnv | None = None,
        env_path: Path | None = None,
        installation: tuple[UpdateManager, str] | None = None,
        on_env: Callable[[Mapping[str, Any]], None] | None = None,
        exit: Callable[[int], None] = exit_process,  # noqa: A002
    ) -> None:
        """Attach to ``session`` (which then hands commands and connections to the agent)."""
        self.session = session
        self.env = env
        self.env_path = env_path
        self.manager: UpdateManager | None = installation[0] if installation else None
        self.run_version: str | None = installation[1] if installation else None
        self.on_env = on_env
        self._exit = exit
        self._tasks: set[asyncio.Task[None]] = set()
        self._reported = False
        self._updating: str | None = None
        session.agent = self

    @property
    def api(self) -> tuple[str, str] | None:
        """Return (``MH_API_URL``, ``MH_TOKEN``) when both are set."""
        if self.env is None:
            return None
        url, token = self.env.values.get("MH_API_URL"), self.env.values.get("MH_TOKEN")
        if isinstance(url, str) and url and isinstance(token, str) and token:
            return url.rstrip("/"), token
        return None

    # from the session

    def command(self, command: Command) -> bool:
        """Take a command; False leaves it to the ``on_command`` callbacks."""
        if self.manager is not None and command.cmd == "update" and command.update is not None:
            self._spawn(self._update(command.update))
            return True
        if self.manager is not None and command.cmd == "restart":
            self._spawn(self._restart("restart command"))
            return True
        if command.cmd in ("env_update", "schema_update"):
            if self.api is None or self.session.uid is None:
                _LOGGER.debug(
                    "%s: no MH_API_URL/MH_TOKEN; %s left to callbacks", self.label, command.cmd
                )
                return False
            self._spawn(self._refetch(command))
            return True
        return False

    def established(self) -> None:
        """The unit is online and reported its state: confirm an update, report a rollback."""
        if self.manager is None or self.run_version is None or self._reported:
            return
        try:
            if self.manager.confirm(self.run_version):
                self.session.send_event("update_ok", self.run_version)
                self.session.log("info", f"update to {self.run_version} confirmed")
            record = self.manager.take_rollback_report()
        except OSError as err:
            _LOGGER.error("%s: cannot read the installation state: %s", self.label, err)
            return
        self._reported = True
        if record is not None:
            self.session.send_event("rolled_back", record.version, record.error)

    async def stop(self) -> None:
        """Cancel running work (not the task calling this)."""
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def label(self) -> str:
        """Return the session's label for logs."""
        return self.session.label

    # work

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _update(self, request: UpdateRequest) -> None:
        assert self.manager is not None
        version = request.version
        if self._updating is not None:
            self.session.send_event(
                "update_failed", version, f"an update to {self._updating} is in progress"
            )
            return
        if version == self.run_version and version == self.manager.current_version():
            self.session.send_event("update_ok", version)  # already running it
            return
        self._updating = version
        self.session.send_event("update_started", version)
        try:
            await self.manager.apply(request)
        except UpdateError as err:
            self._failed(version, str(err))
            return
        except Exception as err:
            _LOGGER.exception("%s: the update to %s failed", self.label, version)
            self._failed(version, f"internal error: {err!r}")
            return
        await self._restart(f"update to {version} installed")

    def _failed(self, version: str, error: str) -> None:
        self._updating = None
        _LOGGER.error("%s: update to %s failed: %s", self.label, version, error)
        self.session.send_event("update_failed", version, error)

    async def _restart(self, why: str) -> None:
        _LOGGER.info("%s: %s; restarting (exit code %d)", self.label, why, RESTART_EXIT_CODE)
        self.session.log("info", f"{why}; restarting")
        await self.session.stop()
        self._exit(RESTART_EXIT_CODE)

    async def _refetch(self, command: Command) -> None:
        name = "env.json" if command.cmd == "env_update" else "schema.json"
        try:
            if command.cmd == "env_update":
                await self._refetch_env()
            else:
                await self._refetch_schema()
        except (UpdateError, EnvError, SchemaJsonError, OSError, ValueError) as err:
            _LOGGER.error("%s: %s failed: %s", self.label, command.cmd, err)
            self.session.log("error", f"{command.cmd} failed: {err}")
            return
        _LOGGER.info("%s: %s refetched and applied", self.label, name)
        self.session.dispatch_command(command)

    def _url(self, name: str) -> tuple[str, str]:
        api = self.api
        uid = self.session.uid
        assert api is not None
        assert uid is not None
        return f"{api[0]}/units/{uid}/{name}", api[1]

    async def _refetch_env(self) -> None:
        assert self.env is not None
        url, token = self._url("env.json")
        payload = await fetch(url, token=token, max_size=MAX_DOCUMENT)
        try:
            fetched = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as err:
            raise EnvError(f"{url}: not valid JSON ({err})") from None
        if not isinstance(fetched, Mapping):
            raise EnvError(f"{url}: must be a JSON object")
        merged = {**self.env.values, **fetched}
        for key in KEPT_ENV_KEYS:
            if key in self.env.values:
                merged[key] = self.env.values[key]
        new = UnitEnv.parse(merged, source=url)
        if new.unit_id is not None and new.unit_id != self.session.uid:
            raise EnvError(f"{url}: MH_UNIT_ID {new.unit_id} is not this unit's {self.session.uid}")
        if self.env_path is not None:
            text = json.dumps(merged, indent=2, sort_keys=True) + "\n"
            await asyncio.to_thread(write_atomically, self.env_path, text.encode())
        old, self.env = self.env, new
        if self.on_env is not None:
            self.on_env(new.values)
        self.session.apply_env(new.state_interval)
        if new.broker != old.broker:
            _LOGGER.info("%s: broker settings changed; reconnecting", self.label)
            self.session.change_broker(new.broker)

    async def _refetch_schema(self) -> None:
        url, token = self._url("schema.json")
        payload = await fetch(url, token=token, max_size=MAX_DOCUMENT)
        try:
            schema = SchemaJson.parse_payload(payload)
        except SchemaJsonError as err:
            raise SchemaJsonError(f"{url}: {err}") from None
        if schema.uid != self.session.uid:
            raise SchemaJsonError(f"{url}: unit {schema.uid} is not this unit ({self.session.uid})")
        self.session.apply_schema(schema)
