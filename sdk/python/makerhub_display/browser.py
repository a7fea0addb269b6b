"""Chromium in kiosk mode, driven over the DevTools protocol on a pipe.

``--remote-debugging-pipe`` makes Chromium read protocol messages from fd 3 and write
its answers to fd 4, each a JSON document ended by a NUL byte: no port to guard, no
WebSocket library, and the pipe dies with the browser. :class:`Kiosk` keeps one page,
navigates it without restarting and restarts Chromium (showing the same address) when
it dies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import contextlib
import itertools
import json
import logging
import os
from pathlib import Path
import shutil
import subprocess
import sys
import threading
from typing import Any

_LOGGER = logging.getLogger(__name__)

KIOSK_ARGS = (
    "--kiosk",
    "--no-first-run",
    "--no-default-browser-check",
    "--noerrdialogs",
    "--disable-infobars",
    "--disable-session-crashed-bubble",
    "--disable-features=Translate,BackForwardCache",  # no page kept alive behind
    "--password-store=basic",
    "--autoplay-policy=no-user-gesture-required",
)
TOUCH_BINDING = "makerhubTouch"
# Every page reports input activity (touch, mouse, keys) through a DevTools binding.
TOUCH_SCRIPT = f"""
(() => {{
  let last = 0;
  const report = () => {{
    const now = Date.now();
    if (now - last > 1000 && window.{TOUCH_BINDING}) {{ last = now; window.{TOUCH_BINDING}('1'); }}
  }};
  for (const type of ['pointerdown', 'touchstart', 'keydown', 'wheel'])
    addEventListener(type, report, {{capture: true, passive: true}});
}})();
"""
BLANK_ID = "makerhub-blank"
_COVER = f"""
  const cover = () => {{
    if (document.getElementById('{BLANK_ID}')) return true;
    const el = document.createElement('div');
    el.id = '{BLANK_ID}';
    el.style.cssText = 'position:fixed;inset:0;background:#000;z-index:2147483647;cursor:none';
    (document.body || document.documentElement).appendChild(el);
    return true;
  }};
"""
BLANK_SCRIPT = f"(() => {{ {_COVER} return cover(); }})()"
# Every new document while the screen is "off": covered as it starts and once it is built.
BLANK_ON_NEW_DOCUMENT = f"""
(() => {{ {_COVER}
  if (document.documentElement) cover();
  document.addEventListener('DOMContentLoaded', cover);
}})();
"""
UNBLANK_SCRIPT = f"document.getElementById('{BLANK_ID}')?.remove(); true"


# Puts the pipe ends on fds 3 and 4, then becomes Chromium: a tiny trampoline instead of
# preexec_fn (unsafe in a threaded program) or sh (dash takes single-digit fds only).
_ON_FDS_3_AND_4 = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)


class BrowserError(RuntimeError):
    """Chromium is gone or answered a command with an error."""


class DevToolsPipe:
    """One Chromium process and its DevTools pipe; a thread reads the answers."""

    def __init__(
        self,
        executable: str,
        profile_dir: Path,
        *,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        """Start Chromium with its own profile folder."""
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._on_event = on_event
        self.session_id: str | None = None
        profile_dir.mkdir(parents=True, exist_ok=True)
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        args = [
            *KIOSK_ARGS,
            f"--user-data-dir={profile_dir}",
            "--remote-debugging-pipe",
            *extra_args,
            "about:blank",
        ]
        self.log_path = profile_dir.parent / "chromium.log"
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(  # noqa: S603 (a fixed program, no shell input)
                [
                    sys.executable,
                    "-c",
                    _ON_FDS_3_AND_4,
                    str(to_browser_r),
                    str(from_browser_w),
                    executable,
                    *args,
                ],
                pass_fds=(to_browser_r, from_browser_w),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._writer = os.fdopen(to_browser_w, "wb", buffering=0)
        self._reader = os.fdopen(from_browser_r, "rb", buffering=0)
        self._thread = threading.Thread(target=self._read, name="makerhub-devtools", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Return whether the Chromium process still runs."""
        return self.process.poll() is None

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        page: bool = True,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Send one command (to the page's session unless ``page=False``); return its result."""
        message: dict[str, Any] = {"id": next(self._ids), "method": method, "params": params or {}}
        if page and self.session_id is not None:
            message["sessionId"] = self.session_id
        done = threading.Event()
        box: list[dict[str, Any]] = []
        with self._lock:
            self._pending[message["id"]] = (done, box)
        try:
            try:
                self._writer.write(json.dumps(message).encode() + b"\0")
            except OSError as err:
                raise BrowserError(
                    f"{method}: Chromium's pipe is closed ({err}); {self.log_tail()}"
                ) from err
            if not done.wait(timeout) or not box:
                raise BrowserError(f"{method}: no answer from Chromium within {timeout} s")
        finally:
            with self._lock:
                self._pending.pop(message["id"], None)
        answer = box[0]
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error'].get('message', answer['error'])}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def log_tail(self, lines: int = 5) -> str:
        """Return the end of Chromium's own log (where it says why it ended)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "no Chromium log"
        return "Chromium said: " + " | ".join(text.strip().splitlines()[-lines:])

    def _read(self) -> None:
        buffer = b""
        while chunk := self._reader.read(65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                self._dispatch(json.loads(raw))
        with self._lock:  # Chromium ended: wake every caller (they see no answer)
            for done, _box in self._pending.values():
                done.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            with self._lock:
                waiting = self._pending.get(message["id"])
            if waiting is not None:
                waiting[1].append(message)
                waiting[0].set()
        elif self._on_event is not None:
            try:
                self._on_event(message.get("method", ""), message.get("params", {}))
            except Exception:
                _LOGGER.exception("handling DevTools event %s", message.get("method"))

    def close(self, timeout: float = 10.0) -> None:
        """End Chromium (politely, then by force) and the reader."""
        if self.alive:
            with contextlib.suppress(BrowserError):
                self.call("Browser.close", page=False, timeout=5)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, 9)
                self.process.wait(timeout)
        with contextlib.suppress(OSError):
            self._writer.close()
        self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._reader.close()


class Kiosk:
    """The screen's one page: navigate, blank, report input; restart Chromium if it dies."""

    def __init__(
        self,
        profile_dir: Path,
        *,
        executable: str | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        on_touch: Callable[[], None] | None = None,
    ) -> None:
        """Prepare the kiosk; :meth:`start` opens Chromium."""
        found = executable or shutil.which("chromium") or shutil.which("chromium-browser")
        if found is None:
            raise BrowserError("chromium is not installed (apt install chromium)")
        self.executable = found
        self.profile_dir = profile_dir
        self.extra_args = tuple(extra_args)
        self.env = env
        self.on_touch = on_touch
        self.url = "about:blank"
        self.blanked = False
        self._cover_script: str | None = None
        self.restarts = 0
        self._lock = threading.RLock()
        self._pipe: DevToolsPipe | None = None
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    def start(self, watch_interval: float = 1.0) -> None:
        """Open Chromium and start the watchdog that restarts it."""
        with self._lock:
            self._open()
        self._watchdog = threading.Thread(
            target=self._watch, args=(watch_interval,), name="makerhub-kiosk", daemon=True
        )
        self._watchdog.start()

    def stop(self) -> None:
        """Close Chromium and the watchdog."""
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(10)
        with self._lock:
            if self._pipe is not None:
                self._pipe.close()
                self._pipe = None

    @property
    def pid(self) -> int | None:
        """Return Chromium's process id (None when it is not running)."""
        pipe = self._pipe
        return pipe.process.pid if pipe is not None and pipe.alive else None

    def navigate(self, url: str) -> None:
        """Show ``url`` in the kiosk's page (the caller has checked it)."""
        with self._lock:
            self.url = url
            pipe = self._live_pipe()
            result = pipe.call("Page.navigate", {"url": url})
            if result.get("errorText"):
                _LOGGER.warning("showing %s: %s", url, result["errorText"])

    def evaluate(self, expression: str) -> Any:
        """Return the value of a JavaScript expression in the page."""
        with self._lock:
            return self._eval(self._live_pipe(), expression)

    def set_blank(self, blank: bool) -> None:
        """Cover the page with black (the last resort to switch a screen off), or uncover it."""
        with self._lock:
            pipe = self._live_pipe()
            self.blanked = blank
            self._cover_new_documents(pipe)
            self._eval(pipe, BLANK_SCRIPT if blank else UNBLANK_SCRIPT)

    def _cover_new_documents(self, pipe: DevToolsPipe) -> None:
        if self.blanked and self._cover_script is None:
            self._cover_script = pipe.call(
                "Page.addScriptToEvaluateOnNewDocument", {"source": BLANK_ON_NEW_DOCUMENT}
            )["identifier"]
        elif not self.blanked and self._cover_script is not None:
            pipe.call(
                "Page.removeScriptToEvaluateOnNewDocument", {"identifier": self._cover_script}
            )
            self._cover_script = None

    def is_blank(self) -> bool:
        """Return whether the black cover is on the page now."""
        return bool(self.evaluate(f"!!document.getElementById('{BLANK_ID}')"))

    def _live_pipe(self) -> DevToolsPipe:
        if self._pipe is None or not self._pipe.alive:
            self._restart()
        assert self._pipe is not None
        return self._pipe

    @staticmethod
    def _eval(pipe: DevToolsPipe, expression: str) -> Any:
        result = pipe.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def _open(self) -> None:
        pipe = DevToolsPipe(
            self.executable,
            self.profile_dir,
            extra_args=self.extra_args,
            env=self.env,
            on_event=self._event,
        )
        try:
            targets = pipe.call("Target.getTargets", page=False)["targetInfos"]
            pages = [t["targetId"] for t in targets if t.get("type") == "page"]
            target = (
                pages[0]
                if pages
                else pipe.call("Target.createTarget", {"url": "about:blank"}, page=False)[
                    "targetId"
                ]
            )
            pipe.session_id = pipe.call(
                "Target.attachToTarget", {"targetId": target, "flatten": True}, page=False
            )["sessionId"]
            pipe.call("Page.enable")
            pipe.call("Runtime.enable")
            pipe.call("Runtime.addBinding", {"name": TOUCH_BINDING})
            pipe.call("Page.addScriptToEvaluateOnNewDocument", {"source": TOUCH_SCRIPT})
        except BrowserError:
            pipe.close()
            raise
        self._pipe = pipe
        self._cover_script = None  # a new browser has none
        self._cover_new_documents(pipe)
        if self.url != "about:blank":
            pipe.call("Page.navigate", {"url": self.url})
        if self.blanked:
            self._eval(pipe, BLANK_SCRIPT)

    def _restart(self) -> None:
        old = self._pipe
        if old is not None:
            old.close()
            self.restarts += 1
            _LOGGER.warning("Chromium ended (%s); starting it again", old.process.returncode)
        self._pipe = None
        self._open()

    def _event(self, method: str, params: dict[str, Any]) -> None:
        touched = method == "Runtime.bindingCalled" and params.get("name") == TOUCH_BINDING
        if touched and self.on_touch is not None:
            self.on_touch()

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with self._lock:
                if self._stop.is_set():
                    return
                if self._pipe is not None and not self._pipe.alive:
                    try:
                        self._restart()
                    except BrowserError:
                        _LOGGER.exception("restarting Chromium")
