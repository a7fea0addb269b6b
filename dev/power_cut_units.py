"""Two self-describing units for the power-cut test and benchmark, run as one process.

``counter`` publishes ``seq``, a sequence number that goes up by one with every value (QoS
1), ``--rate`` times a second. Before handing a value to the unit library it appends the
number to ``--log`` (a line, flushed: a SIGKILL leaves every written line in the file), so
the log is the list of values the unit sent or queued, and after a restart the counter
goes on after the last number logged: a number is never used twice. ``follower`` has an
input ``follow`` (the test links ``counter``'s ``seq`` to it through the broker) and
publishes what arrives as its output ``echo``.

Run: ``python -m dev.power_cut_units --host H --port P --state-dir D --log F``
(with the SDK on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
import contextlib
from pathlib import Path
import signal

from makerhub_unit.env import BrokerSettings
from makerhub_unit.link import LinkPool
from makerhub_unit.session import SessionOptions, UnitSession
from makerhub_unit.unit import build_announcing_session
from makerhub_unit.values import Value

COUNTER = {"name": "Counter", "outputs": {"seq": {"type": "int"}}}
FOLLOWER = {
    "name": "Follower",
    "inputs": {"follow": {"type": "int"}},
    "outputs": {"echo": {"type": "int"}},
}


def last_logged(log: Path) -> int:
    """Return the last sequence number in the log (0 when there is none); a line without
    its newline (a write cut short) does not count."""
    if not log.exists():
        return 0
    lines = log.read_text().split("\n")[:-1]
    return int(lines[-1]) if lines else 0


def cut_torn_tail(log: Path) -> None:
    """Remove a last line without its newline, so that appending starts on a new line."""
    if not log.exists():
        return
    data = log.read_bytes()
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        with log.open("r+b") as file:
            file.truncate(complete)


def session(
    announce_id: str, schema: Mapping[str, object], args: argparse.Namespace
) -> UnitSession:
    """Return an announcing unit's session (QoS 1 outputs, state every ``--state-interval``)."""
    return build_announcing_session(
        announce_id,
        BrokerSettings(args.host, args.port, None, None),
        schema=schema,
        state_dir=args.state_dir,
        options=SessionOptions(
            version="power-cut 1", state_interval=args.state_interval, default_qos=1
        ),
    )


async def run(args: argparse.Namespace) -> None:
    """Run both units until SIGTERM (or SIGKILL)."""
    args.state_dir.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    counter = session("cut-counter", COUNTER, args)
    follower = session("cut-follower", FOLLOWER, args)

    def echo(value: Value) -> None:
        follower.publish("echo", value)

    follower.on_input("follow", echo)
    pool = LinkPool(loop)
    counter.start(pool)
    follower.start(pool)
    cut_torn_tail(args.log)
    seq = last_logged(args.log)
    with args.log.open("a") as log:
        while not stop.is_set():
            if counter.established:
                seq += 1
                log.write(f"{seq}\n")
                log.flush()
                counter.publish("seq", seq)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1 / args.rate)
    await asyncio.gather(counter.stop(), follower.stop())


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--state-interval", type=float, default=2.0)
    args = parser.parse_args()
    asyncio.run(run(args), loop_factory=asyncio.SelectorEventLoop)


if __name__ == "__main__":
    main()
