"""Benchmark: how long the whole stack takes to be all healthy after a power cut.

The stack of ``dev/power_cut.py`` (PostgreSQL, Mosquitto, the firmware service, Home
Assistant with Makerhub and telemetry, a simulated fleet and two linked counter units
under load, every part a process started by the project's own starters) is set up once,
then restarted ``--rounds`` times each way, alternately:

* **clean restart** (the baseline): every process stopped the way its service manager
  stops it (SIGTERM, in the reverse order of the start), then started again;
* **power cut**: every process (and process group) killed with SIGKILL at the same
  moment, then started again.

Measured: the time from the first process's start to *all healthy* (every health item
healthy, the link delivering values sent after the restart, the dimmer's set-point back,
every Makerhub entity that was available available again), and the ratio to the clean
restart measured in the same run. Target: at most 60 s after a power cut.

Run: ``scripts/bench power_cut [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
import statistics
import tempfile
import time

from dev.power_cut import Stack, Steady, connect, reach_steady_state, wait_all_healthy

TARGET = 60.0


@dataclass
class Timings:
    """The times to all healthy of one way of restarting."""

    name: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Return the median time."""
        return statistics.median(self.seconds)


async def restart(stack: Stack, steady: Steady, *, cut: bool) -> float:
    """Stop (or kill) everything, start it again; return the seconds to all healthy."""
    await asyncio.to_thread(stack.kill_everything if cut else stack.stop_everything)
    assert stack.counters is not None
    sent = stack.counters.sent()
    started = time.monotonic()
    await asyncio.to_thread(stack.start)
    client = await connect(stack.hass)
    try:
        await wait_all_healthy(client, steady, sent)
    finally:
        await client.close()
    return time.monotonic() - started


async def run(rounds: int, root: Path) -> list[Timings]:
    """Set the stack up, then restart it ``rounds`` times each way."""
    stack = Stack(root)
    clean, cut = Timings("clean restart (baseline)"), Timings("power cut (kill -9 all)")
    try:
        await asyncio.to_thread(stack.first_start)
        client = await connect(stack.hass)
        try:
            steady = await reach_steady_state(stack, client)
        finally:
            await client.close()
        for round_ in range(rounds):
            for timings, is_cut in ((clean, False), (cut, True)):
                seconds = await restart(stack, steady, cut=is_cut)
                timings.seconds.append(seconds)
                print(f"  round {round_ + 1}: {timings.name}: {seconds:.1f} s", flush=True)
    finally:
        await asyncio.to_thread(stack.destroy)
    return [clean, cut]


def print_table(results: list[Timings]) -> None:
    """Print the comparison."""
    baseline = results[0].median
    print()
    print("| restart | all healthy after (median) | min | max | ratio to clean restart |")
    print("|---|---|---|---|---|")
    for timings in results:
        print(
            f"| {timings.name} | {timings.median:.1f} s | {min(timings.seconds):.1f} s "
            f"| {max(timings.seconds):.1f} s | {timings.median / baseline:.2f} |"
        )
    cut = results[-1]
    verdict = "met" if max(cut.seconds) <= TARGET else "MISSED"
    print(f"\ntarget: all healthy within {TARGET:.0f} s of the start after a power cut: {verdict}")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="restarts of each kind")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="makerhub-power-cut-") as root:
        print_table(asyncio.run(run(args.rounds, Path(root))))


if __name__ == "__main__":
    main()
