"""``makerhub-sim``: run a fleet of simulated self-describing units.

    makerhub-sim --units 1000 --rate 10 --state-dir /var/lib/makerhub-sim

or ``python -m makerhub_unit.sim``. Every unit announces itself on
``<prefix>/announce/<id-prefix>-<kind>-<n>`` and waits for the hub to adopt it; the
``schema.json`` it receives is kept in ``--state-dir``, so a restart keeps every uid.
SIGINT/SIGTERM publish ``offline`` for every unit before the process exits.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import logging
from pathlib import Path
import signal
import sys

from .fleet import Fleet, FleetConfig, FleetSummary
from .sim_kinds import KINDS

__all__ = ["Fleet", "FleetConfig", "FleetSummary", "main"]


def parse_args(argv: Sequence[str] | None = None) -> tuple[FleetConfig, str]:
    """Return the fleet configuration and log level the command line asks for."""
    parser = argparse.ArgumentParser(prog="makerhub-sim", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="MQTT broker host")
    parser.add_argument("--port", type=int, default=1883, help="MQTT broker port")
    parser.add_argument("--prefix", default="makerhub", help="the hub's topic prefix")
    parser.add_argument("--units", type=int, default=10, help="how many units to simulate")
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help=f"comma-separated kinds, assigned round-robin ({', '.join(KINDS)})",
    )
    parser.add_argument(
        "--rate", type=float, default=1.0, help="periodic output messages per second per unit"
    )
    parser.add_argument(
        "--state-interval", type=float, default=30.0, help="seconds between state reports"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".makerhub-sim"),
        help="where each unit keeps <announce_id>.schema.json",
    )
    parser.add_argument("--id-prefix", default="sim", help="announce ids are PREFIX-KIND-N")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated values")
    parser.add_argument(
        "--duration", type=float, default=0.0, help="seconds to run (0 = until stopped)"
    )
    parser.add_argument("--qos", type=int, choices=(0, 1), default=0, help="QoS of outputs")
    parser.add_argument("--username", help="MQTT username")
    parser.add_argument("--password", help="MQTT password")
    parser.add_argument(
        "--values-log",
        type=Path,
        help="append each unit's last published outputs to this file (JSON lines) at exit",
    )
    parser.add_argument(
        "--stream-after",
        type=float,
        default=0.0,
        help="seconds the units only connect and report state before outputs start; "
        "prints 'stream started' then",
    )
    parser.add_argument(
        "--stream-seconds",
        type=float,
        default=0.0,
        help="stop publishing outputs after this many seconds but keep the units online; "
        "prints 'stream done: <summary>' and writes --values-log then (0 = never)",
    )
    parser.add_argument("--log-level", default="warning", help="logging level")
    args = parser.parse_args(argv)
    try:
        config = FleetConfig(
            host=args.host,
            port=args.port,
            prefix=args.prefix,
            units=args.units,
            kinds=tuple(kind.strip() for kind in args.kinds.split(",") if kind.strip()),
            rate=args.rate,
            state_interval=args.state_interval,
            state_dir=args.state_dir,
            id_prefix=args.id_prefix,
            seed=args.seed,
            duration=args.duration,
            qos=args.qos,
            username=args.username,
            password=args.password,
            values_log=args.values_log,
            stream_seconds=args.stream_seconds,
            stream_after=args.stream_after,
        )
    except ValueError as err:
        parser.error(str(err))
    return config, args.log_level


def _print_stream_start() -> None:
    print("stream started", flush=True)  # noqa: T201  (the command's output)


def _print_stream_end(summary: FleetSummary) -> None:
    print(f"stream done: {summary.line()}", flush=True)  # noqa: T201  (the command's output)


async def _run(fleet: Fleet) -> FleetSummary:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, fleet.request_stop)
    return await fleet.run()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator; print a one-line summary on exit."""
    config, log_level = parse_args(argv)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    phased = bool(config.stream_after or config.stream_seconds)
    fleet = Fleet(
        config,
        on_stream_end=_print_stream_end,
        on_stream_start=_print_stream_start if phased else None,
    )
    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        summary = runner.run(_run(fleet))
    print(summary.line(), flush=True)  # noqa: T201  (the command's output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
