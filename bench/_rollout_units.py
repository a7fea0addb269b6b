"""The unit side of ``bench/rollout.py``: many A/B-installed units on one event loop.

``python -m bench._rollout_units ROOTS_DIR`` runs one unit per installation root found in
``ROOTS_DIR/<uid>/`` (each made with :meth:`UpdateManager.install` from the unit's own
firmware archive). Each unit is what ``python -m makerhub_unit.launcher ROOT`` would run
if the firmware's ``main.py`` were ``Unit.from_files("env.json", "schema.json",
"makerhub.json")``: the library's own :class:`UnitSession` and :class:`UnitAgent`, built
from the ``env.json``, ``schema.json`` and ``makerhub.json`` of ``ROOT/current``, with the
installation (``UpdateManager``, running version) the launcher would hand it.

An ``update`` command therefore goes through the real code: ``update_started``, the
download of the signed URL over HTTP, size and sha256 checks, the unpack with its
protections, the entry point check, the move into ``versions/``, the pending record, the
atomic switch of ``current``, ``offline`` and a clean disconnect. What is simulated is
the launcher only: where the unit program would exit with code 75 and the launcher start
``current`` again as a new process, this process builds a new session from the new
``current`` at once (same loop). That session goes ``online``, reports its state with the
new version and confirms the update (``update_ok``, pending cleared, older versions
pruned), as a freshly started process would.

One loop drives every MQTT connection (paho's external-loop API, as ``makerhub-sim``);
blocking work (downloads, hashing, unpacking) runs on a thread pool large enough that
every unit can download at the same time, as separate devices would.

Stdout, one line per event, for the benchmark to read:

    ready <count>                         every unit is online (once, at start)
    online <uid> <version> <monotonic>    a unit went online (its state is sent)
    exit <uid> <code> <monotonic>         a unit program "exited" (75: restart)
"""

from __future__ import annotations

import argparse
import asyncio
from concurrent.futures import ThreadPoolExecutor
import json
import logging
from pathlib import Path
import signal
import sys
import time

from makerhub_unit.env import UnitEnv
from makerhub_unit.fleet import ensure_file_limit
from makerhub_unit.link import LinkPool
from makerhub_unit.ota import UnitAgent
from makerhub_unit.session import SessionEvent, SessionOptions, UnitSession
from makerhub_unit.updater import RESTART_EXIT_CODE, UpdateManager
from makerhub_unit.values import Declaration


class Units:
    """Every unit of ``roots`` on the running loop."""

    def __init__(self, roots: list[Path], pool: LinkPool) -> None:
        """Run one unit per root on ``pool``."""
        self.roots = roots
        self.pool = pool
        self.sessions: dict[Path, UnitSession] = {}
        self.online_once: set[Path] = set()
        self.all_online = asyncio.Event()

    def say(self, line: str) -> None:
        """Tell the benchmark."""
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def start(self, root: Path) -> None:
        """Start the unit program of ``root``'s ``current`` version (as the launcher does)."""
        manager = UpdateManager(root)
        version = manager.current_version()
        if version is None:
            raise RuntimeError(f"{root}: no current version")
        directory = manager.version_dir(version)
        env = UnitEnv.load(directory / "env.json")
        declaration = Declaration.from_json(
            json.loads((directory / "makerhub.json").read_text(encoding="utf-8"))
        )
        session = UnitSession(
            env.broker,
            directory / "schema.json",
            SessionOptions(version=env.version or version, state_interval=env.state_interval),
            declaration=declaration,
        )
        UnitAgent(
            session,
            env=env,
            env_path=directory / "env.json",
            installation=(manager, version),
            exit=lambda code: self.exited(root, session, code),
        )
        uid = session.uid

        def observe(event: SessionEvent) -> None:
            if event is SessionEvent.CONNECTED:
                self.say(f"online {uid} {version} {time.monotonic():.6f}")
                self.online_once.add(root)
                if len(self.online_once) == len(self.roots):
                    self.all_online.set()

        session.observer = observe
        self.sessions[root] = session
        session.start(self.pool)

    def exited(self, root: Path, session: UnitSession, code: int) -> None:
        """The unit program ended (after a clean disconnect): restart it on code 75."""
        self.say(f"exit {session.uid} {code} {time.monotonic():.6f}")
        if code == RESTART_EXIT_CODE:
            self.pool.loop.call_soon(self.start, root)

    async def stop(self) -> None:
        """Every unit goes offline."""
        await asyncio.gather(*(session.stop() for session in self.sessions.values()))


async def run(roots_dir: Path, threads: int) -> None:
    """Run the units until SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=threads))
    roots = sorted(path for path in roots_dir.iterdir() if path.is_dir())
    ensure_file_limit(4 * len(roots) + 64)
    units = Units(roots, LinkPool(loop))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for root in roots:
        units.start(root)
    await units.all_online.wait()
    units.say(f"ready {len(roots)}")
    await stop.wait()
    await units.stop()


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("roots", type=Path, help="directory of installation roots, one per unit")
    parser.add_argument(
        "--threads", type=int, default=128, help="worker threads (downloads, unpacking)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(run(args.roots, args.threads), loop_factory=asyncio.SelectorEventLoop)


if __name__ == "__main__":
    main()
