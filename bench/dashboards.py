"""Dashboards: the fleet view and the fleet graph in headless Chromium, against Home
Assistant's auto-generated dashboard showing the same units, in the same run.

For each fleet size (``--sizes``, default 50, 200 and 1,000 units; thermometers and
dimmers in turn, each thermometer linked to the next dimmer), one real ``hass`` (frontend,
MQTT, the hub; the units stored as adopted and the links as the hub stores them) and one
makerhub-sim process publishing 1 value per second per unit through a real Mosquitto.
Debian's Chromium (Playwright), logged in once, opens three dashboards:

* **graph**: a panel view with only the fleet graph card;
* **fleet**: the ``custom:makerhub`` strategy's Fleet view (the graph, then the fleet
  table: a row per unit with its status, firmware, update state and live values);
* **auto (baseline)**: Home Assistant's own auto-generated dashboard (``/lovelace``, no
  configuration) with the same units' entities.

*First render*: from the navigation's start to the view showing every unit (the graph's
``N`` nodes drawn; for the fleet view, the table's ``N`` rows with the last unit's name
and the graph's ``N`` nodes; for the auto-generated dashboard, the last unit's name on
the page; "last" by name as text, as both sort, the name matched whole), the median of
``--repeats`` loads. A load on which Home Assistant gave up waiting for the strategy's
element (its 5 s limit) is counted and loaded again.
*Frames*: on the loaded view, while the units update, ``requestAnimationFrame``
timestamps over ``--seconds`` seconds (the graph is also panned by a pointer moving every
frame): frames per second and the 95th percentile frame time.

Targets (issue 21): the graph with 1,000 units renders in ≤ 2 s and keeps ≥ 30 frames/s
while values update; never slower than the baseline.

Run: ``scripts/bench dashboards [--sizes 50,200,1000 --seconds 10 --repeats 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
import json
import math
import os
from pathlib import Path
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from playwright.async_api import Page, TimeoutError as PlaywrightTimeout, async_playwright

from bench.sim_fleet import prepare_state
from custom_components.makerhub.core.links import Link
from custom_components.makerhub.core.schema import parse_makerhub_json
from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from dev.screenshot import CHROMIUM_ARGS, log_in
from makerhub_unit.fleet import FleetConfig, ensure_file_limit
from makerhub_unit.sim_kinds import KINDS

REPO = Path(__file__).resolve().parents[1]
SDK = REPO / "sdk" / "python"
KIND_PAIR = ("thermometer", "dimmer")
GRAPH = "makerhub-fleet-graph"
TABLE = "makerhub-fleet-table"


@dataclass
class Row:
    """One dashboard at one fleet size."""

    units: int
    dashboard: str
    first_render: float
    fps: float
    p95_frame_ms: float


def unit_name(index: int, kind: str) -> str:
    return f"Bench {kind} {index + 1}"


def seed(config_dir: Path, config: FleetConfig) -> None:
    """Store the units as adopted subentries of the hub, each thermometer linked to the
    dimmer after it (as adoptions and ``makerhub.link`` would)."""
    path = config_dir / ".storage" / "core.config_entries"
    storage = json.loads(path.read_text())
    entry = next(e for e in storage["data"]["entries"] if e["domain"] == "makerhub")
    subentries = []
    plan = config.plan()
    for index, (announce_id, kind) in enumerate(plan):
        subentries.append(
            {
                "data": {
                    "uid": f"{index:012x}",
                    "announce_id": announce_id,
                    "model": f"makerhub-sim {kind}",
                    "schema": parse_makerhub_json(KINDS[kind].schema).to_json(),
                },
                "subentry_id": uuid.uuid4().hex,
                "subentry_type": "unit",
                "title": unit_name(index, kind),
                "unique_id": f"{index:012x}",
            }
        )
    for index in range(0, len(plan) - 1, 2):
        link = Link(f"{index:012x}", "temperature", f"{index + 1:012x}", "level")
        subentries.append(
            {
                "data": {"link": link.to_json()},
                "subentry_id": uuid.uuid4().hex,
                "subentry_type": "link",
                "title": link.id,
                "unique_id": link.id,
            }
        )
    entry["subentries"] = subentries
    path.write_text(json.dumps(storage))


async def make_dashboards(client: HassClient) -> None:
    """The strategy's Fleet view, and a panel view with the graph card only."""
    dashboards = {
        "bench-fleet": {"strategy": {"type": "custom:makerhub", "views": ["fleet"]}},
        "bench-graph": {
            "views": [{"path": "graph", "panel": True, "cards": [{"type": f"custom:{GRAPH}"}]}]
        },
    }
    for url_path, config in dashboards.items():
        await client.ws(
            {
                "type": "lovelace/dashboards/create",
                "url_path": url_path,
                "title": url_path,
                "mode": "storage",
            }
        )
        await client.ws({"type": "lovelace/config/save", "url_path": url_path, "config": config})


FRAMES_JS = """async (seconds) => {
    const stamps = [];
    const end = performance.now() + seconds * 1000;
    await new Promise((resolve) => {
        const tick = (t) => {
            stamps.push(t);
            if (t < end) requestAnimationFrame(tick); else resolve();
        };
        requestAnimationFrame(tick);
    });
    return stamps.slice(1).map((t, i) => t - stamps[i]);
}"""
"""Every frame's duration (ms) over ``seconds``."""


async def frames(page: Page, seconds: float, pan: bool) -> tuple[float, float]:
    """Frames per second and the p95 frame time (ms) over ``seconds``, optionally while
    a pointer drags the graph's background every frame."""
    pan_task = None
    if pan:
        box = await page.locator(f"{GRAPH} svg").bounding_box()
        assert box is not None

        async def drag() -> None:
            x, y = box["x"] + 20, box["y"] + 20
            await page.mouse.move(x, y)
            await page.mouse.down()
            step = 0
            while True:
                step += 1
                await page.mouse.move(x + (step % 100), y + (step % 50))
                await asyncio.sleep(0.016)

        pan_task = asyncio.create_task(drag())
    try:
        deltas: list[float] = await page.evaluate(FRAMES_JS, seconds)
    finally:
        if pan_task is not None:
            pan_task.cancel()
            await asyncio.gather(pan_task, return_exceptions=True)
            await page.mouse.up()
    total = sum(deltas)
    fps = len(deltas) / (total / 1000) if total else 0.0
    p95 = statistics.quantiles(deltas, n=20)[-1] if len(deltas) >= 20 else max(deltas, default=0)
    return fps, p95


PROFILE_JS = """() => {
    const ms = (t) => t === undefined ? null : Math.round(t);
    const module = performance.getEntriesByType("resource").find(
        (e) => e.name.includes("makerhub.js"));
    const mark = (name) => performance.getEntriesByName(name)[0];
    return {
        module_loaded_ms: ms(module?.responseEnd),
        generate_start_ms: ms(mark("makerhub:generate-start")?.startTime),
        registries_read_ms: ms(mark("makerhub:snapshot")?.startTime),
        generate_ms: ms(mark("makerhub:generate")?.duration),
        now_ms: ms(performance.now()),
    };
}"""
"""Where the Fleet view's load went (ms since the navigation): the module loaded, the
strategy's generation started, the registries read (the strategy asks the hub nothing),
the generation's length, and when the view showed every unit."""


STRATEGY_TIMEOUT = "text=Timeout waiting for strategy element"
"""Home Assistant's error when a strategy's element is not defined 5 s after it asks."""


async def first_render(
    page: Page, url: str, ready: Sequence[str], repeats: int, limit: float
) -> tuple[float, int]:
    """The median time from navigation to every selector of ``ready`` being on the page,
    and how many loads Home Assistant gave up waiting for the strategy's element
    (retried). A load that shows not every unit within ``limit`` seconds counts as
    ``inf`` (the cards of Home Assistant's it shows are printed)."""
    times: list[float] = []
    missed = 0
    while len(times) < repeats:
        await page.goto("about:blank")
        started = time.monotonic()
        await page.goto(url)
        timed_out = False
        complete = True
        for selector in ready:
            shown = page.locator(selector).or_(page.locator(STRATEGY_TIMEOUT)).first
            try:
                await shown.wait_for(state="attached", timeout=limit * 1000)
            except PlaywrightTimeout:
                cards = await page.locator("hui-entities-card").count()
                print(f"  {url}: not every unit shown in {limit:.0f} s ({cards} cards)", flush=True)
                complete = False
                break
            timed_out = await page.locator(STRATEGY_TIMEOUT).count() > 0
            if timed_out:
                break
        if timed_out:
            missed += 1
            if missed > 3 * repeats:
                raise RuntimeError(f"{url}: the strategy's element keeps timing out")
            continue
        times.append(time.monotonic() - started if complete else float("inf"))
    print(f"  {url}: loads {', '.join(f'{t:.2f}' for t in times)} s", flush=True)
    return statistics.median(times), missed


async def measure_size(units: int, work: Path, args: argparse.Namespace) -> list[Row]:
    """One fleet size: hass with the units, the fleet publishing, the three dashboards."""
    config = FleetConfig(units=units, kinds=KIND_PAIR, id_prefix="bench")
    state_dir = work / "fleet"
    prepare_state(state_dir, config)
    broker = MosquittoBroker(work / "mosquitto", persistence=False)
    broker.start()
    hass = HassProcess(work / "config", extra_config="frontend:\n")
    fleet: subprocess.Popen[bytes] | None = None
    client: HassClient | None = None
    rows: list[Row] = []
    try:
        client = await HassClient.start(hass)
        await client.setup_mqtt(broker.host, broker.port)
        await client.setup_makerhub()
        await make_dashboards(client)
        await client.close()
        hass.stop()
        seed(hass.config_dir, config)
        client = await HassClient.start(hass)
        # The unit every dashboard shows last: they sort units by name as text ("Bench
        # dimmer 1000" comes third), so the last is the greatest name, matched exactly.
        last = max(
            (unit_name(index, kind) for index, (_, kind) in enumerate(config.plan())),
            key=str.casefold,
        )
        fleet = subprocess.Popen(
            [
                sys.executable, "-m", "makerhub_unit.sim",
                "--host", broker.host, "--port", str(broker.port),
                "--units", str(units), "--kinds", ",".join(KIND_PAIR), "--rate", "1",
                "--state-interval", "20", "--state-dir", str(state_dir), "--id-prefix", "bench",
            ],
            env={**os.environ, "PYTHONPATH": f"{SDK}:{REPO}"},
            stdout=subprocess.DEVNULL,
            stderr=(work / "fleet.log").open("w"),
        )  # fmt: skip
        print(f"{units:>6} units: waiting for them to come online", flush=True)
        graph = await client.wait_for(
            lambda: client.ws({"type": "makerhub/fleet_graph"}),
            lambda g: sum(u["available"] for u in g["units"]) == units,
            300,
            f"{units} units online",
        )
        assert len(graph["links"]) == units // 2
        chromium = shutil.which("chromium")
        assert chromium, "chromium is missing: apt-get install chromium"
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1600, "height": 1000})
            page.on(
                "console",
                lambda message: (
                    print(f"  console {message.type}: {message.text}", flush=True)
                    if message.type == "error"
                    else None
                ),
            )
            page.on("pageerror", lambda error: print(f"  page error: {error}", flush=True))
            await log_in(page, hass.url)
            nodes = f"{GRAPH} g.node >> nth={units - 1}"
            last_row = f'{TABLE}[data-units="{units}"] .name >> text="{last}"'
            dashboards = (
                ("graph", "/bench-graph/graph", [nodes], True),
                # Every unit in the table (its last row) and in the graph.
                ("fleet", "/bench-fleet/fleet", [last_row, nodes], False),
                ("auto (baseline)", "/lovelace/0", [f'text="{last}"'], False),
            )
            for name, path, ready, pan in dashboards:
                seconds, missed = await first_render(
                    page, f"{hass.url}{path}", ready, args.repeats, args.limit
                )
                if name == "fleet":
                    profile = await page.evaluate(PROFILE_JS)
                    print(f"  the fleet view's last load: {profile}", flush=True)
                fps, p95 = await frames(page, args.seconds, pan)
                rows.append(Row(units, name, seconds, fps, p95))
                print(
                    f"{units:>6} {name:<16} first render {seconds:6.2f} s  "
                    f"{fps:5.1f} frames/s  p95 {p95:6.1f} ms"
                    + (f"  ({missed} loads retried: strategy timeout)" if missed else ""),
                    flush=True,
                )
            await browser.close()
    finally:
        if fleet is not None:
            fleet.terminate()
            fleet.wait(timeout=60)
        if client is not None:
            await client.close()
        hass.stop()
        broker.stop()
    return rows


def print_table(rows: list[Row], limit: float) -> None:
    """Each dashboard against the baseline of the same size (a load that did not show
    every unit within ``limit`` seconds: "> limit", no ratio)."""
    print()
    print("| units | dashboard | first render | vs baseline | frames/s | p95 frame |")
    print("|---:|---|---:|---:|---:|---:|")
    for row in rows:
        base = next(r for r in rows if r.units == row.units and r.dashboard == "auto (baseline)")
        shown = f"> {limit:.0f} s"
        if math.isfinite(row.first_render):
            shown = f"{row.first_render:.2f} s"
        ratio = row.first_render / base.first_render
        versus = f"{ratio:.2f}x" if math.isfinite(ratio) and ratio > 0 else "—"
        print(
            f"| {row.units} | {row.dashboard} | {shown} | {versus} "
            f"| {row.fps:.1f} | {row.p95_frame_ms:.1f} ms |"
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and measure each size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="50,200,1000", help="fleet sizes, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="frame measurement")
    parser.add_argument("--repeats", type=int, default=3, help="loads per first render")
    parser.add_argument(
        "--limit", type=float, default=60.0, help="seconds a load may take to show every unit"
    )
    args = parser.parse_args(argv)
    ensure_file_limit(max(int(s) for s in args.sizes.split(",")) * 2 + 256)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="makerhub-bench-dashboards-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            rows += asyncio.run(measure_size(size, Path(tmp) / str(size), args))
    print_table(rows, args.limit)


if __name__ == "__main__":
    main()
