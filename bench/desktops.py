"""Desktops: the makerhub_desktops service against x11vnc scraping an Xvfb display.

Both sides run the same desktop session (the service's own: Openbox, the tint2 panel with
its configuration, an xterm) at the same size, and both are shown by the same noVNC in
the same headless Chromium (Debian's, driven by Playwright). Measured in one run:

- **first start**: a desktop that does not exist yet (clone + user + session) until its
  first frame is painted on the page's canvas; **cold start**: the same for a stopped
  desktop (median of ``--repeat`` runs). "Start" is the API call (ours) or the start of
  Xvfb (baseline), the page is opened as soon as the desktop can be connected to;
- **resume**: from asking for a connect token of a *suspended* desktop until its first
  frame on the page (the baseline cannot suspend: its figure is connecting to a running
  display), and from the page's WebSocket opening until that frame (the resume itself:
  the rest is noVNC's page loading, the same on both sides); connecting to a *running*
  desktop is measured too;
- **keypress-to-pixel**: a key typed into the terminal, from the page's ``keydown`` until
  noVNC paints the page's canvas over the terminal (both timestamped in the page:
  ``drawImage`` onto the visible canvas is wrapped; p50 and p95 over ``--presses``,
  typed in ``--rounds`` turns on each side so the machine's load weighs on both alike);
- **CPU** of the desktop's processes over ``--window`` seconds (from ``/proc``): idle with
  a page connected (the proxy / websockify included), idle with nobody connected, and
  suspended;
- **memory**: PSS (shared pages divided among the processes sharing them) per desktop,
  running and suspended, with ``--desktops`` desktops at once, and how many fit in 4 GiB
  (computed from that PSS; the service's own PSS is taken off the 4 GiB first).

Run as root (the service makes a user per desktop): ``scripts/bench desktops``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
import contextlib
from dataclasses import dataclass
import math
import os
from pathlib import Path
import pwd
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from custom_components.makerhub.core.presence.evaluation import percentile
from dev.processes.desktops_process import ADDON, DesktopsServiceProcess, remove_desktop_users
from dev.processes.git_repo import git
from dev.processes.ports import free_port

sys.path.insert(0, str(ADDON))  # the session the service starts, reused by the baseline
from makerhub_desktops.session import APPS, GEOMETRY, TINT2RC

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]
NOVNC = Path("/usr/share/novnc")
WIDTH, HEIGHT = (int(n) for n in GEOMETRY.split("x"))
TERMINAL = (30, 30, 720, 480)
"""Where the session's xterm (100x30+40+40) is drawn: left, top, right, bottom."""
MEMORY_BUDGET = 4 * 1024**3
NOVNC_OPTIONS = "autoconnect=1&reconnect=0&resize=remote&view_only=0"

PAGE_PROBE = """
(() => {
  window.__paints = [];
  window.__keys = [];
  const wrap = (proto, name, rect) => {
    const original = proto[name];
    proto[name] = function (...args) {
      const result = original.apply(this, args);
      if (this.canvas && this.canvas.isConnected) {
        window.__paints.push([performance.timeOrigin + performance.now(), ...rect(this, args)]);
      }
      return result;
    };
  };
  const whole = (ctx) => [0, 0, ctx.canvas.width, ctx.canvas.height];
  wrap(CanvasRenderingContext2D.prototype, 'drawImage',
       (ctx, a) => a.length === 9 ? [a[5], a[6], a[7], a[8]] : whole(ctx));
  wrap(CanvasRenderingContext2D.prototype, 'putImageData',
       (ctx, a) => [a[1], a[2], a[0].width, a[0].height]);
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new NativeWebSocket(...args);
    ws.addEventListener('open', () => {
      window.__wsOpen = performance.timeOrigin + performance.now();
    });
    return ws;
  };
  window.WebSocket.prototype = NativeWebSocket.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.addEventListener('keydown',
    () => window.__keys.push(performance.timeOrigin + performance.now()), true);
})();
"""
"""Timestamps (epoch ms) of what noVNC paints onto the visible canvas, and of keydowns."""

FIRST_PAINT = "() => window.__paints && window.__paints.length > 0"
PAINTED_AFTER = """([since, l, t, r, b]) => (window.__paints || []).find(
  ([at, x, y, w, h]) => at >= since && x < r && x + w > l && y < b && y + h > t) || null"""
LAST_PAINT = "() => { const p = window.__paints || []; return p.length ? p[p.length-1][0] : 0; }"


# --- pure parts (tests/scripts/test_bench_desktops.py) ------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the table: our value, the baseline's, the target and whether it is met."""

    label: str
    unit: str
    value: float
    baseline: float | None
    target: str
    met: bool | None
    """None: no target for this line."""


def ratio(value: float, baseline: float | None) -> str:
    """Return ``value / baseline`` as ``0.42x`` (``-`` when there is nothing to divide)."""
    if baseline is None or math.isnan(value) or math.isnan(baseline):
        return "-"
    if baseline == 0:
        return "-" if value == 0 else "inf"
    return f"{value / baseline:.2f}x"


def fmt(value: float | None, unit: str) -> str:
    """Format a value with its unit."""
    if value is None:
        return "-"
    if math.isnan(value):
        return "n/a"
    if unit in {"ms", "MiB"}:
        return f"{value:.0f} {unit}"
    if unit == "%":
        return f"{value:.2f} %"
    return f"{value:g} {unit}".strip()


def render_table(rows: Sequence[Row]) -> str:
    """Return the table: metric, ours, baseline, ratio, target, met?"""
    head = ("metric", "makerhub", "x11vnc+Xvfb", "ratio", "target", "met?")
    cells = [head] + [
        (
            r.label,
            fmt(r.value, r.unit),
            fmt(r.baseline, r.unit),
            ratio(r.value, r.baseline),
            r.target or "-",
            "-" if r.met is None else ("yes" if r.met else "NO"),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]

    def line(row: Sequence[str]) -> str:
        return " | ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def latencies(keys: Sequence[float], paints: Sequence[Sequence[float]]) -> list[float]:
    """Pair each keydown with the first later paint over the terminal; return the gaps (ms).

    A key whose paint came only after the next key is left out (it was not seen alone).
    """
    left, top, right, bottom = TERMINAL
    over = sorted(p[0] for p in paints if p[1] < right and p[1] + p[3] > left
                  and p[2] < bottom and p[2] + p[4] > top)  # fmt: skip
    found = []
    for i, key in enumerate(keys):
        following = next((at for at in over if at >= key), None)
        next_key = keys[i + 1] if i + 1 < len(keys) else math.inf
        if following is not None and following < next_key:
            found.append(following - key)
    return found


def cpu_percent(ticks: int, seconds: float, hz: int) -> float:
    """Return CPU use in percent of one core for ``ticks`` clock ticks over ``seconds``."""
    return 100.0 * ticks / hz / seconds


def fit_in(budget: int, overhead: int, per_desktop: int) -> int:
    """Return how many desktops of ``per_desktop`` bytes fit in ``budget`` after ``overhead``."""
    if per_desktop <= 0:
        return 0
    return max(0, (budget - overhead) // per_desktop)


# --- /proc --------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def processes_of_uid(uid: int) -> list[int]:
    """Return the live processes whose real user is ``uid``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
    return found


def descendants(roots: Iterable[int]) -> list[int]:
    """Return ``roots`` and every live process below them."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                children.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(
                    int(entry.name)
                )
    found, todo = [], [r for r in roots if Path(f"/proc/{r}").exists()]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_ticks(pids: Iterable[int]) -> int:
    """Return user + system clock ticks used so far by ``pids`` (the gone ones count 0)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = _stat_fields(pid)
            total += int(fields[11]) + int(fields[12])
    return total


def memory(pids: Iterable[int]) -> tuple[int, int]:
    """Return the PSS and RSS (bytes) of ``pids``, summed."""
    pss = rss = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                name, _, value = line.partition(":")
                if name == "Pss":
                    pss += int(value.split()[0]) * 1024
                elif name == "Rss":
                    rss += int(value.split()[0]) * 1024
    return pss, rss


async def measure_cpu(pids: Callable[[], list[int]], window: float) -> float:
    """Return the CPU (% of one core) of the processes over ``window`` seconds."""
    watched = pids()
    before = cpu_ticks(watched)
    started = time.monotonic()
    await asyncio.sleep(window)
    elapsed = time.monotonic() - started
    return cpu_percent(cpu_ticks(watched) - before, elapsed, os.sysconf("SC_CLK_TCK"))


# --- the page ---------------------------------------------------------------------------


async def open_desktop(context: BrowserContext, url: str, page: Page | None = None) -> Page:
    """Open noVNC at ``url`` (the probe installed before any of its scripts), in ``page``
    when given (a tab already open, as a person's browser has one)."""
    page = page or await context.new_page()
    await page.goto(url)
    return page


async def first_paint(page: Page, phases: list[tuple[str, float]] | None = None) -> float:
    """Wait for the first frame painted on the page; return its time (epoch s).

    ``phases`` gets when the page started loading and when its WebSocket opened.
    """
    await page.wait_for_function(FIRST_PAINT, timeout=60_000, polling=20)
    times = await page.evaluate(
        "() => [performance.timeOrigin, window.__wsOpen || 0, window.__paints[0][0]]"
    )
    if phases is not None:
        phases += [("page loading", times[0] / 1000), ("WebSocket open", times[1] / 1000)]
    return float(times[2]) / 1000


async def connect_to_frame(
    context: BrowserContext, open_page: Callable[[Page], Awaitable[Page]], label: str
) -> tuple[float, float]:
    """Open a page in a new tab; return seconds to its first frame from the moment the tab
    was open and from its WebSocket's open."""
    tab = await context.new_page()
    began = time.time()
    page = await open_page(tab)
    phases: list[tuple[str, float]] = []
    end = await first_paint(page, phases)
    print(f"  {label}: {breakdown(began, phases, end)}", flush=True)
    await page.close()
    return end - began, end - phases[-1][1]


def breakdown(began: float, phases: Sequence[tuple[str, float]], end: float) -> str:
    """Return ``name +ms`` for each phase since ``began`` (where the time goes)."""
    marks = [f"{name} +{(at - began) * 1000:.0f}" for name, at in phases]
    return ", ".join([*marks, f"first frame +{(end - began) * 1000:.0f} ms"])


async def wait_quiet(page: Page, quiet_ms: float = 1000, timeout: float = 60) -> None:
    """Wait until nothing was painted for ``quiet_ms`` (the session has settled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = float(await page.evaluate(LAST_PAINT))
        now = float(await page.evaluate("() => performance.timeOrigin + performance.now()"))
        if last and now - last >= quiet_ms:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the desktop kept painting; it never settled")


async def type_and_time(page: Page, presses: int, seed: int = 17) -> list[float]:
    """Type ``presses`` letters into the terminal; return keypress-to-pixel latencies (ms)."""
    left, top, right, bottom = TERMINAL
    await page.mouse.click((left + right) // 2, (top + bottom) // 2)
    await wait_quiet(page, 500)
    rng = random.Random(seed)  # gaps not in step with a server's polling interval
    keys: list[float] = []
    for n in range(presses):
        if n and n % 40 == 0:
            await page.keyboard.press("Control+u")  # clear the line; not measured
            await wait_quiet(page, 300)
        before = len(await page.evaluate("() => window.__keys"))
        await page.keyboard.press("abcdefghijklmnopqrstuvwxyz"[n % 26])
        key = float(await page.evaluate(f"() => window.__keys[{before}]"))
        keys.append(key)
        await page.wait_for_function(
            PAINTED_AFTER, arg=[key, left, top, right, bottom], timeout=10_000, polling=5
        )
        await asyncio.sleep(rng.uniform(0.08, 0.2))
    paints = await page.evaluate("() => window.__paints")
    await page.keyboard.press("Control+u")
    return latencies(keys, paints)


# --- our side ----------------------------------------------------------------------------


@dataclass
class Ours:
    """The desktops service, its repository and the browser context."""

    service: DesktopsServiceProcess
    repo: Path
    context: BrowserContext

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """Call the API; fail on an error answer."""
        status, answer = await asyncio.to_thread(self.service.call, method, path, body)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {answer}")
        return answer

    async def start(self, project: str) -> None:
        """Start (first time: clone) a desktop."""
        await self.call(
            "POST", f"/api/desktops/{project}/start", {"repository": {"url": f"file://{self.repo}"}}
        )

    async def open(self, project: str, tab: Page | None = None) -> Page:
        """Ask for a controller token and open the desktop's page (in ``tab``)."""
        answer = await self.call("POST", f"/api/desktops/{project}/connect", {"role": "controller"})
        return await open_desktop(self.context, f"{self.service.url}/{answer['url']}", tab)

    async def start_to_frame(self, project: str) -> tuple[float, Page]:
        """Time start → first frame (seconds); return it and the open page."""
        tab = await self.context.new_page()
        began = time.time()
        await self.start(project)
        phases = [("started", time.time())]
        page = await self.open(project, tab)
        end = await first_paint(page, phases)
        print(f"  start of {project}: {breakdown(began, phases, end)}", flush=True)
        return end - began, page

    def pids(self, project: str) -> list[int]:
        """The desktop's processes (everything its user runs)."""
        return processes_of_uid(pwd.getpwnam(f"{self.service.user_prefix}{project}").pw_uid)


async def measure_ours(ours: Ours, args: argparse.Namespace) -> dict[str, float]:
    """Every figure of the service."""
    out: dict[str, float] = {}
    print("makerhub: first start …", flush=True)
    out["first_start"], page = await ours.start_to_frame("p1")
    await page.close()
    colds = []
    for _ in range(args.repeat):
        await ours.call("POST", "/api/desktops/p1/stop")
        cold, page = await ours.start_to_frame("p1")
        colds.append(cold)
        await page.close()
    out["cold_start"] = statistics.median(colds)
    print(f"makerhub: cold starts {[round(c, 3) for c in colds]} s", flush=True)
    page = await ours.open("p1")
    await first_paint(page)
    await wait_quiet(page)
    service_pid = ours.service.process.pid if ours.service.process else 0

    def with_proxy() -> list[int]:
        return [*ours.pids("p1"), service_pid]

    out["cpu_viewed"] = await measure_cpu(with_proxy, args.window)
    await page.close()
    await asyncio.sleep(1)
    out["cpu_idle"] = await measure_cpu(lambda: ours.pids("p1"), args.window)
    print("makerhub: memory …", flush=True)
    projects = [f"p{i}" for i in range(1, args.desktops + 1)]
    for project in projects[1:]:
        await ours.start(project)
    await asyncio.sleep(args.settle)
    everyone = [pid for p in projects for pid in ours.pids(p)]
    pss, rss = memory(everyone)
    out["pss_running"], out["rss_running"] = pss / len(projects), rss / len(projects)
    out["service_pss"] = memory([service_pid])[0]
    for project in projects:
        await ours.call("POST", f"/api/desktops/{project}/suspend")
    pss, rss = memory([pid for p in projects for pid in ours.pids(p)])
    out["pss_suspended"], out["rss_suspended"] = pss / len(projects), rss / len(projects)
    out["cpu_suspended"] = await measure_cpu(lambda: ours.pids("p1"), args.window)
    await ours.start("p1")  # running again, for connecting to a running desktop first
    connects = [
        await connect_to_frame(ours.context, lambda tab: ours.open("p1", tab), "connect")
        for _ in range(args.repeat)
    ]
    out["connect"] = statistics.median(total for total, _ in connects)
    resumes = []
    for _ in range(args.repeat):
        await ours.call("POST", "/api/desktops/p1/suspend")
        resumes.append(
            await connect_to_frame(ours.context, lambda tab: ours.open("p1", tab), "resume")
        )
    out["resume"] = statistics.median(total for total, _ in resumes)
    out["resume_from_ws"] = statistics.median(from_ws for _, from_ws in resumes)
    for project in projects:
        await ours.call("POST", f"/api/desktops/{project}/stop")
    return out


# --- the baseline ----------------------------------------------------------------------


@dataclass
class DiyDesktop:
    """Xvfb + the session + x11vnc + websockify with noVNC, all as root."""

    home: Path
    processes: list[subprocess.Popen[bytes]]
    http_port: int

    @property
    def url(self) -> str:
        """noVNC's page, connecting back to websockify."""
        return f"http://127.0.0.1:{self.http_port}/vnc.html?{NOVNC_OPTIONS}&path=websockify"

    def pids(self) -> list[int]:
        """Every process of this desktop."""
        return descendants(p.pid for p in self.processes)

    def stop(self) -> None:
        """End everything."""
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for process in self.processes:
            process.wait()


def _spawn(
    argv: Sequence[str], env: dict[str, str], log: Path, **kw: Any
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, **kw,
        )  # fmt: skip


async def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        await asyncio.sleep(0.01)
    raise RuntimeError(f"nothing listens on {port}")


async def start_diy(root: Path, name: str) -> DiyDesktop:
    """Start a do-it-yourself desktop; return once noVNC can connect to it."""
    home = root / name
    (home / ".config" / "tint2").mkdir(parents=True)
    shutil.copy(TINT2RC, home / ".config" / "tint2" / "tint2rc")
    log = root / f"{name}.log"
    env = {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    read_fd, write_fd = os.pipe()
    xvfb = _spawn(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{GEOMETRY}x24", "-nolisten", "tcp"],
        env, log, pass_fds=(write_fd,),
    )  # fmt: skip
    os.close(write_fd)
    with os.fdopen(read_fd) as display_pipe:
        display = (await asyncio.to_thread(display_pipe.readline)).strip()
    if not display:
        raise RuntimeError(f"Xvfb did not start; see {log}")
    desktop = DiyDesktop(home, [xvfb], free_port())
    x_env = {**env, "DISPLAY": f":{display}"}
    desktop.processes += [_spawn(argv, x_env, log, cwd=home) for argv in APPS]
    vnc_port = free_port()
    x11vnc = ["x11vnc", "-display", f":{display}", "-rfbport", str(vnc_port), "-localhost"]
    desktop.processes.append(
        _spawn([*x11vnc, "-shared", "-forever", "-nopw", "-quiet"], x_env, log)
    )
    websockify = ["websockify", "--web", str(NOVNC), str(desktop.http_port)]
    desktop.processes.append(_spawn([*websockify, f"127.0.0.1:{vnc_port}"], env, log))
    await _wait_port(vnc_port)
    await _wait_port(desktop.http_port)
    return desktop


async def measure_baseline(
    root: Path, context: BrowserContext, args: argparse.Namespace
) -> dict[str, float]:
    """Every figure of the baseline."""
    out: dict[str, float] = {}
    colds = []
    print("baseline: cold starts …", flush=True)
    for n in range(args.repeat):
        tab = await context.new_page()
        began = time.time()
        diy = await start_diy(root, f"cold{n}")
        phases = [("started", time.time())]
        page = await open_desktop(context, diy.url, tab)
        end = await first_paint(page, phases)
        colds.append(end - began)
        print(f"  start: {breakdown(began, phases, end)}", flush=True)
        await page.close()
        diy.stop()
    out["cold_start"] = out["first_start"] = statistics.median(colds)
    print(f"baseline: cold starts {[round(c, 3) for c in colds]} s", flush=True)
    desktops = [await start_diy(root, f"d{i}") for i in range(args.desktops)]
    try:
        diy = desktops[0]
        page = await open_desktop(context, diy.url)
        await first_paint(page)
        await wait_quiet(page)
        out["cpu_viewed"] = await measure_cpu(diy.pids, args.window)
        await page.close()
        await asyncio.sleep(1)
        out["cpu_idle"] = await measure_cpu(diy.pids, args.window)
        reconnects = [
            await connect_to_frame(
                context, lambda tab: open_desktop(context, diy.url, tab), "connect"
            )
            for _ in range(args.repeat)
        ]
        out["resume"] = out["connect"] = statistics.median(total for total, _ in reconnects)
        out["resume_from_ws"] = statistics.median(from_ws for _, from_ws in reconnects)
        pss, rss = memory([pid for d in desktops for pid in d.pids()])
        out["pss_running"], out["rss_running"] = pss / len(desktops), rss / len(desktops)
    finally:
        for diy in desktops:
            diy.stop()
    return out


async def measure_keys(
    ours: Ours, root: Path, base_context: BrowserContext, args: argparse.Namespace
) -> tuple[list[float], list[float]]:
    """Keypress-to-pixel latencies (ms) of both sides, typed in alternating rounds so that
    the shared machine's load changes weigh on both alike."""
    await ours.start("p1")
    diy = await start_diy(root, "keys")
    try:
        pages = [await ours.open("p1"), await open_desktop(base_context, diy.url)]
        for page in pages:
            await first_paint(page)
            await wait_quiet(page)
        found: tuple[list[float], list[float]] = ([], [])
        per_round = max(1, args.presses // args.rounds)
        for n in range(args.rounds):
            for side, page in enumerate(pages):
                found[side].extend(await type_and_time(page, per_round, seed=n))
        for page in pages:
            await page.close()
    finally:
        diy.stop()
        await ours.call("POST", "/api/desktops/p1/stop")
    return found


# --- the run ------------------------------------------------------------------------------


def make_repository(root: Path) -> Path:
    """A bare repository with one small commit, cloned through ``file://``."""
    work, bare = root / "work", root / "project.git"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "README.md").write_text("# bench project\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "first")
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def table(ours: dict[str, float], base: dict[str, float]) -> list[Row]:
    """Build the rows from both sides' figures."""
    mib = 1024 * 1024
    ms = 1000.0
    fits_suspended = fit_in(MEMORY_BUDGET, int(ours["service_pss"]), int(ours["pss_suspended"]))
    fits_running = fit_in(MEMORY_BUDGET, int(ours["service_pss"]), int(ours["pss_running"]))
    base_fits = fit_in(MEMORY_BUDGET, 0, int(base["pss_running"]))
    return [
        Row("first start → first frame", "ms", ours["first_start"] * ms, None, "", None),
        Row("cold start → first frame", "ms", ours["cold_start"] * ms,
            base["cold_start"] * ms, "≤ 3000 ms", ours["cold_start"] <= 3),
        Row("connect to a running desktop → first frame", "ms", ours["connect"] * ms,
            base["connect"] * ms, "", None),
        Row("resume: token → first frame (base: connect)", "ms", ours["resume"] * ms,
            base["resume"] * ms, "≤ 500 ms", ours["resume"] <= 0.5),
        Row("resume: WebSocket → first frame", "ms", ours["resume_from_ws"] * ms,
            base["resume_from_ws"] * ms, "≤ 500 ms", ours["resume_from_ws"] <= 0.5),
        Row("keypress → pixel p50", "ms", ours["key_p50"], base["key_p50"], "", None),
        Row("keypress → pixel p95", "ms", ours["key_p95"], base["key_p95"],
            "≤ baseline", ours["key_p95"] <= base["key_p95"]),
        Row("CPU idle, page connected", "%", ours["cpu_viewed"], base["cpu_viewed"], "", None),
        Row("CPU idle, nobody connected", "%", ours["cpu_idle"], base["cpu_idle"], "", None),
        Row("CPU suspended", "%", ours["cpu_suspended"], None, "0", ours["cpu_suspended"] == 0),
        Row("PSS per running desktop", "MiB", ours["pss_running"] / mib,
            base["pss_running"] / mib, "", None),
        Row("RSS per running desktop", "MiB", ours["rss_running"] / mib,
            base["rss_running"] / mib, "", None),
        Row("PSS per suspended desktop", "MiB", ours["pss_suspended"] / mib, None, "", None),
        Row("running desktops in 4 GiB (from PSS)", "", fits_running, base_fits, "", None),
        Row("suspended desktops in 4 GiB (from PSS)", "", fits_suspended, None, "≥ 10",
            fits_suspended >= 10),
    ]  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    """Measure both sides with one Chromium and print the table."""
    if os.geteuid() != 0:
        raise SystemExit("run as root: the desktops service makes a user per desktop")
    root = Path(tempfile.mkdtemp(prefix="mh-bench-desktops-"))
    root.chmod(0o711)
    prefix = "b" + secrets.token_hex(2) + "-"
    service = DesktopsServiceProcess(
        data_dir=root / "data", token=secrets.token_hex(16), user_prefix=prefix,
        file_root=root / "repos",
        extra_args=("--suspend-after", "3600", "--stop-after", "7200",
                    "--max-running", str(args.desktops), "--max-desktops", str(args.desktops)),
    )  # fmt: skip
    (root / "repos").mkdir()
    (root / "diy").mkdir()
    try:
        repo = make_repository(root / "repos")
        service.start()
        async with async_playwright() as playwright:
            browser: Browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            contexts = []
            for _ in range(2):
                context = await browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
                await context.add_init_script(PAGE_PROBE)
                contexts.append(context)
            our_side = Ours(service, repo, contexts[0])
            ours = await measure_ours(our_side, args)
            base = await measure_baseline(root / "diy", contexts[1], args)
            print("keypresses, both sides in turn …", flush=True)
            keys = await measure_keys(our_side, root / "diy", contexts[1], args)
            for figures, latencies_ms in zip((ours, base), keys, strict=True):
                figures["key_p50"] = percentile(latencies_ms, 0.5)
                figures["key_p95"] = percentile(latencies_ms, 0.95)
                figures["key_n"] = len(latencies_ms)
            await browser.close()
    finally:
        service.stop()
        remove_desktop_users(prefix)
        shutil.rmtree(root, ignore_errors=True)
    print()
    print(f"Desktops ({args.desktops} at once; {args.presses} keypresses, "
          f"{ours['key_n']:.0f}/{base['key_n']:.0f} timed; CPU over {args.window:g} s; "
          f"service PSS {ours['service_pss'] / 2**20:.0f} MiB taken off the 4 GiB)")  # fmt: skip
    print(render_table(table(ours, base)))


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(prog="scripts/bench desktops", description=__doc__)
    parser.add_argument("--presses", type=int, default=200, help="keypresses timed per side")
    parser.add_argument("--rounds", type=int, default=5, help="turns the sides take typing")
    parser.add_argument("--repeat", type=int, default=3, help="cold starts / resumes per side")
    parser.add_argument("--desktops", type=int, default=3, help="desktops at once (memory)")
    parser.add_argument("--window", type=float, default=10.0, help="CPU window, seconds")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before memory")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
