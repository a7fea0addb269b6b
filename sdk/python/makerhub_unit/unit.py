"""The unit program's API: a :class:`Unit` runs one session on a network thread of its own.

Callbacks (inputs, commands) run on that thread; keep them short or hand work to your
own thread. Every public method may be called from any thread. An output published from
your own thread goes out on that thread when the network thread is idle (no hand-over,
no wake-up), and through the network thread otherwise; either way in order
(:mod:`makerhub_unit.gate`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import contextlib
import json
import logging
import os
from pathlib import Path
import random
import threading
from typing import Any

from .announce import Announcement
from .commands import Command
from .env import BrokerSettings, EnvError, UnitEnv
from .gate import GateSelector, SessionGate
from .link import LinkPool
from .ota import UnitAgent, find_installation
from .session import (
    DEFAULT_QUEUE_LIMIT,
    LOG_LEVELS,
    UNIT_EVENTS,
    SessionEvent,
    SessionOptions,
    UnitSession,
    UnitStats,
)
from .values import Declaration, Value

_LOGGER = logging.getLogger(__name__)
StrPath = str | os.PathLike[str]


class Unit:
    """A Makerhub unit: build one with :meth:`from_files` or :meth:`announcing`."""

    def __init__(self, session: UnitSession, env: Mapping[str, Any] | None = None) -> None:
        """Wrap a session; prefer the ``from_files``/``announcing`` constructors."""
        self._session = session
        self.env: Mapping[str, Any] = env or {}
        """Every key of ``env.json`` (the repository's own keys included)."""
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._loop_ready = threading.Event()
        self._connected = threading.Event()
        self._ready = threading.Event()
        self._gate = SessionGate(session.label)
        """Who touches the session: the network thread, or a caller while it is idle."""
        session.observer = self._observe

    @classmethod
    def from_files(
        cls,
        env_path: StrPath,
        schema_path: StrPath,
        makerhub_json_path: StrPath | None = None,
        *,
        version: str | None = None,
        default_qos: int = 0,
        output_qos: Mapping[str, int] | None = None,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        root: StrPath | None = None,
    ) -> Unit:
        """Build a unit from the hub-generated ``env.json`` and ``schema.json``.

        With ``makerhub_json_path`` inputs are decoded to their declared types and
        outputs checked against them; without it input values arrive as ``str``.
        ``version`` overrides ``MH_VERSION``; one of them is required (under a launcher
        the version directory's name serves too).

        Under a launcher (``MH_ROOT`` in the process environment, or ``root``) the unit
        applies ``update`` and ``restart`` commands itself; with ``MH_API_URL`` and
        ``MH_TOKEN`` in ``env.json`` it refetches ``env.json``/``schema.json`` on
        ``env_update``/``schema_update`` (see :mod:`makerhub_unit.ota`).
        """
        env = UnitEnv.load(Path(env_path))
        installation = find_installation(root)
        version = version or env.version or (installation[1] if installation else None)
        if version is None:
            raise EnvError(f"{env_path}: MH_VERSION is missing and no version= was given")
        declaration = None
        if makerhub_json_path is not None:
            document = json.loads(Path(makerhub_json_path).read_text(encoding="utf-8"))
            declaration = Declaration.from_json(document, source=str(makerhub_json_path))
        options = SessionOptions(
            version=version,
            state_interval=env.state_interval,
            default_qos=default_qos,
            output_qos=output_qos,
            queue_limit=queue_limit,
        )
        session = UnitSession(env.broker, Path(schema_path), options, declaration=declaration)
        if env.unit_id is not None and env.unit_id != session.uid:
            raise EnvError(
                f"{env_path}: MH_UNIT_ID {env.unit_id} does not match schema.json's {session.uid}"
            )
        unit = cls(session, env.values)
        UnitAgent(
            session,
            env=env,
            env_path=Path(env_path),
            installation=installation,
            on_env=unit._env_changed,
        )
        return unit

    @classmethod
    def announcing(
        cls,
        announce_id: str,
        host: str,
        port: int = 1883,
        *,
        schema: Mapping[str, Any],
        state_dir: StrPath,
        name: str | None = None,
        model: str | None = None,
        prefix: str = "makerhub",
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        state_interval: float = 30.0,
        version: str = "unknown",
        default_qos: int = 0,
        output_qos: Mapping[str, int] | None = None,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
    ) -> Unit:
        """Build a self-describing unit that announces itself and waits to be adopted.

        ``schema`` is the unit's ``makerhub.json`` content. The ``schema.json`` the hub
        hands over is kept as ``<state_dir>/<announce_id>.schema.json``, so a restart
        keeps the unit's uid and skips the handshake.
        """
        return cls(
            build_announcing_session(
                announce_id,
                BrokerSettings(host, port, username, password, tls),
                schema=schema,
                state_dir=Path(state_dir),
                name=name,
                model=model,
                prefix=prefix,
                options=SessionOptions(
                    version=version,
                    state_interval=state_interval,
                    default_qos=default_qos,
                    output_qos=output_qos,
                    queue_limit=queue_limit,
                ),
            )
        )

    # lifecycle

    def start(self, timeout: float | None = 10.0) -> bool:
        """Start the network thread; wait up to ``timeout`` s for the broker to accept.

        Returns whether the unit is connected. It keeps trying in the background either way.
        """
        if self._thread is not None:
            raise RuntimeError("the unit was already started")
        self._thread = threading.Thread(
            target=self._run, name=f"makerhub-unit-{self._session.label}", daemon=True
        )
        self._thread.start()
        self._loop_ready.wait()
        if timeout is None or timeout <= 0:
            return self._connected.is_set()
        return self._connected.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Publish ``offline``, disconnect cleanly and end the network thread."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None or loop is None or stop_event is None:
            return
        if threading.current_thread() is thread:
            raise RuntimeError("stop() cannot be called from a unit callback")
        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(stop_event.set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the unit's network thread did not end within {timeout} s")

    def __enter__(self) -> Unit:
        """Start the unit (waiting for the connection as :meth:`start` does)."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop the unit."""
        self.stop()

    def wait_connected(self, timeout: float | None = None) -> bool:
        """Wait until the broker connection is up; return whether it is."""
        return self._connected.wait(timeout)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the unit is connected under its uid (adopted); return whether it is."""
        return self._ready.wait(timeout)

    # values

    def on_input(self, name: str, callback: Callable[[Value], None]) -> None:
        """Call ``callback(value)`` for every valid value of input ``name``.

        Values arrive from every topic ``schema.json`` lists for the input: its own ``in``
        topic and the outputs of linked units. Invalid values are logged and dropped.
        """
        self._session.on_input(name, callback)

    def on_command(self, callback: Callable[[Command], None]) -> None:
        """Call ``callback(command)`` for ``restart``, ``update``, ``env_update``, … commands.

        Under a launcher the library applies ``update`` and ``restart`` itself (they do not
        reach callbacks); ``env_update``/``schema_update`` arrive once the library has
        refetched and applied the file (``unit.env`` holds the new values).
        """
        self._session.on_command(callback)

    def publish(self, name: str, value: Value) -> None:
        """Send output ``name`` (bool, int, float or str).

        Raises ValueError at once for an output the unit does not have or a value that
        does not fit it. While offline a QoS 1 output is queued, a QoS 0 one dropped.
        """
        session, gate = self._session, self._gate
        if not gate.run_now(session.publish, name, value):
            # The network thread is busy: check the value now, send it from there.
            text = session.encode_output(name, value)
            gate.defer(session.publish_encoded, name, value, text)

    def log(self, level: str, text: str) -> None:
        """Send a log record (``debug``, ``info``, ``warning``, ``error``, ``critical``)."""
        if level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
        self._gate.call(self._session.log, level, text)

    def send_event(self, event: str, version: str | None = None, error: str | None = None) -> None:
        """Send an update event (``update_started``, ``update_ok``, ``update_failed``, …)."""
        if event not in UNIT_EVENTS:  # raise here whichever thread sends it (as log() does)
            raise ValueError(f"event must be one of {', '.join(UNIT_EVENTS)}, not {event!r}")
        self._gate.call(self._session.send_event, event, version, error)

    # what the unit knows

    @property
    def uid(self) -> str | None:
        """Return the hub-assigned unit id (None while waiting for adoption)."""
        return self._session.uid

    @property
    def connected(self) -> bool:
        """Return whether the broker connection is up."""
        return self._connected.is_set()

    @property
    def stats(self) -> UnitStats:
        """Return the unit's counters (published, dropped, invalid input, …)."""
        return self._session.stats

    @property
    def inputs(self) -> dict[str, Value]:
        """Return the last valid value of each input."""
        return dict(self._session.inputs)

    @property
    def last_values(self) -> dict[str, Value]:
        """Return the last value of each output handed to the broker."""
        return dict(self._session.last_values)

    @property
    def queued(self) -> int:
        """Return how many QoS 1 outputs wait for the connection."""
        return len(self._session.outbox)

    def _env_changed(self, values: Mapping[str, Any]) -> None:
        self.env = dict(values)

    # the network thread

    def _run(self) -> None:
        gate = self._gate
        gate.owner = threading.get_ident()
        gate.lock.acquire()  # held while this thread runs, let go while it waits for events
        try:
            # A selector loop explicitly: links need add_reader/add_writer on every platform.
            loop = asyncio.SelectorEventLoop(GateSelector(gate))
            self._loop = gate.loop = loop
            try:
                loop.run_until_complete(self._main(loop))
            finally:
                self._loop_ready.set()
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
                self._connected.clear()
                self._ready.clear()
        finally:
            self._loop_ready.set()
            gate.run_queued()  # calls queued as the loop ended
            gate.owner = None
            gate.lock.release()

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        self._stop_event = asyncio.Event()
        try:
            self._session.start(LinkPool(loop, other_threads=True))  # see gate.py
        finally:
            self._loop_ready.set()
        await self._stop_event.wait()
        await self._session.stop()

    def _observe(self, event: SessionEvent) -> None:
        if event is SessionEvent.CONNECTED:
            self._connected.set()
            if self._session.uid is not None:
                self._ready.set()
        elif event is SessionEvent.DISCONNECTED:
            self._connected.clear()
            self._ready.clear()
        elif event is SessionEvent.DELETED:
            self._ready.clear()


def build_announcing_session(
    announce_id: str,
    broker: BrokerSettings,
    *,
    schema: Mapping[str, Any],
    state_dir: Path,
    options: SessionOptions,
    name: str | None = None,
    model: str | None = None,
    prefix: str = "makerhub",
    rng: random.Random | None = None,
) -> UnitSession:
    """Return the session of a self-describing unit; shared by :class:`Unit` and the simulator."""
    declaration = Declaration.from_json(schema, source=f"{announce_id} schema")
    announcement = Announcement(
        announce_id=announce_id,
        prefix=prefix,
        name=name or str(schema.get("name") or announce_id),
        model=model,
        schema=schema,
    )
    return UnitSession(
        broker,
        state_dir / f"{announce_id}.schema.json",
        options,
        announcement=announcement,
        declaration=declaration,
        rng=rng,
    )
