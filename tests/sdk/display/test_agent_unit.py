"""The display agent as a unit against a real Mosquitto, with a kiosk on a virtual screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import threading

import pytest

from custom_components.makerhub.core.schema import parse_makerhub_json
from dev.processes.mosquitto import MosquittoBroker
from makerhub_display.agent import DROPPED_SESSION, MAKERHUB_JSON, DisplayAgent
from makerhub_display.browser import Kiosk
from makerhub_display.idle import reachable, write_fallback
from makerhub_display.power import OverlayPower
from makerhub_display.targets import Sources
from makerhub_unit import Unit
from tests.helpers.desktops_service import desktops_service
from tests.sdk.wire import FakeHub, Recorder

from .conftest import NOVNC_CONNECTED, PageServer, viewer_connect_url, wait_until

ANNOUNCE_ID = "display-workbench"
OFFLINE_IDLE_AFTER = 300.0


class ManualClock:
    """A monotonic clock the test moves (no test waits for the real timeout)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def marker(kiosk: Kiosk) -> str | None:
    found = kiosk.evaluate(
        "document.body && (document.body.dataset.page || document.body.dataset.makerhubIdle)"
        " || null"
    )
    return found if isinstance(found, str) else None


@pytest.fixture
def display_unit(
    broker: MosquittoBroker,
    hub: FakeHub,
    recorder: Recorder,
    kiosk: Kiosk,
    page_server: PageServer,
    tmp_path: Path,
) -> Iterator[tuple[Unit, DisplayAgent, ManualClock]]:
    unit = Unit.announcing(
        ANNOUNCE_ID,
        broker.host,
        broker.port,
        schema=MAKERHUB_JSON,
        state_dir=tmp_path / "state",
        name="Workbench display",
        model="makerhub-display",
        state_interval=0.5,
        version="0.1.0",
    )
    clock = ManualClock()
    agent = DisplayAgent(
        unit,
        kiosk,
        OverlayPower(kiosk),
        Sources(ha_url=page_server.url),
        write_fallback(tmp_path / "state", "Workbench"),
        offline_idle_after=OFFLINE_IDLE_AFTER,
        check_interval=0.2,
        monotonic=clock,
    )
    kiosk.on_touch = agent.touched
    agent.start()
    unit.start(timeout=0)
    yield unit, agent, clock
    agent.stop()
    unit.stop()


def test_show_and_target_over_mqtt_change_what_chromium_shows(
    display_unit: tuple[Unit, DisplayAgent, ManualClock],
    hub: FakeHub,
    recorder: Recorder,
    kiosk: Kiosk,
    pages: str,
) -> None:
    unit, agent, _clock = display_unit
    assert unit.wait_ready(60)
    hub.wait_adopted(1)
    uid = unit.uid
    out, inp = f"makerhub/{uid}/out", f"makerhub/{uid}/in"
    # Adopted like any unit, from its makerhub.json: the hub's entities come from it.
    schema = parse_makerhub_json(MAKERHUB_JSON)
    assert set(schema.inputs) == {"show", "target", "screen", "brightness"}
    assert set(schema.outputs) == {"showing", "screen_on", "power_method", "touch"}
    assert recorder.wait_texts(f"{out}/power_method", timeout=30) == ["overlay"]
    wait_until(lambda: marker(kiosk) == "ha-idle", "Home Assistant's idle page")

    recorder.publish(f"{inp}/target", "lovelace/workbench", retain=True)
    recorder.publish(f"{inp}/show", "dashboard", retain=True)
    wait_until(lambda: "dashboard" in recorder.texts(f"{out}/showing"), "showing dashboard")
    wait_until(lambda: marker(kiosk) == "dashboard", "the dashboard in Chromium")

    # A forbidden scheme: refused, counted, logged; the screen keeps the dashboard.
    recorder.publish(f"{inp}/target", "javascript:alert(1)", retain=True)
    recorder.publish(f"{inp}/show", "url", retain=True)
    # (the target arrives first: under show=dashboard it is refused as a dashboard path)
    refusal = "not shown: target scheme javascript: is not allowed: only http and https are"
    wait_until(
        lambda: any(refusal in text for text in recorder.texts(f"makerhub/{uid}/sys/log")),
        "the refusal in the unit's log",
    )
    assert agent.counters.refused_targets == 2
    assert marker(kiosk) == "dashboard"
    assert agent.showing == "dashboard"

    recorder.publish(f"{inp}/target", f"{pages}/lovelace/workbench?kiosk", retain=True)
    wait_until(lambda: "url" in recorder.texts(f"{out}/showing"), "showing url")
    assert kiosk.url == f"{pages}/lovelace/workbench?kiosk"

    # Screen off and on through the verified power method.
    recorder.publish(f"{inp}/screen", "false")
    wait_until(lambda: "false" in recorder.texts(f"{out}/screen_on"), "screen_on false")
    assert kiosk.is_blank()
    recorder.publish(f"{inp}/screen", "true")
    wait_until(lambda: "true" in recorder.texts(f"{out}/screen_on"), "screen_on true")
    assert not kiosk.is_blank()

    # A touch on the screen is reported with its time.
    kiosk._live_pipe().call(
        "Input.dispatchMouseEvent",
        {"type": "mousePressed", "x": 50, "y": 50, "button": "left", "clickCount": 1},
    )
    touches = wait_until(lambda: recorder.texts(f"{out}/touch"), "a touch report")
    assert touches[0].endswith("+00:00")


def test_broker_gone_keeps_showing_then_idle_after_the_timeout_then_reconnects(
    display_unit: tuple[Unit, DisplayAgent, ManualClock],
    broker: MosquittoBroker,
    hub: FakeHub,
    recorder: Recorder,
    kiosk: Kiosk,
    page_server: PageServer,
) -> None:
    unit, agent, clock = display_unit
    assert unit.wait_ready(60)
    hub.wait_adopted(1)
    inp = f"makerhub/{unit.uid}/in"
    recorder.publish(f"{inp}/target", "lovelace/workbench")
    recorder.publish(f"{inp}/show", "dashboard")
    wait_until(lambda: marker(kiosk) == "dashboard", "the dashboard")

    broker.kill()
    page_server.stop()  # Home Assistant is gone too: its idle page cannot be reached
    wait_until(lambda: not unit.connected, "the unit noticing")
    checks = agent.counters.connection_checks
    wait_until(lambda: agent.counters.connection_checks >= checks + 2, "the agent noticing")
    clock.advance(OFFLINE_IDLE_AFTER - 1)
    checks = agent.counters.connection_checks
    wait_until(lambda: agent.counters.connection_checks >= checks + 3, "checks before timeout")
    assert marker(kiosk) == "dashboard"  # keeps showing what it showed
    assert agent.counters.offline_fallbacks == 0

    clock.advance(1)
    wait_until(lambda: marker(kiosk) == "fallback", "the built-in idle page")
    assert agent.showing == "idle"
    assert agent.counters.offline_fallbacks == 1

    broker.start()
    assert unit.wait_ready(60), "the unit reconnects on its own"
    recorder.wait_for(recorder.client.is_connected, what="the recorder back")
    recorder.publish(f"{inp}/show", "dashboard")
    wait_until(lambda: agent.showing == "dashboard", "orders followed again")


def test_home_assistant_pages_wait_for_their_show_and_open_under_ha_url(
    display_unit: tuple[Unit, DisplayAgent, ManualClock],
    hub: FakeHub,
    recorder: Recorder,
    kiosk: Kiosk,
    pages: str,
) -> None:
    """What makerhub.show_on_display sends: the target (a signed page path), then show."""
    unit, agent, _clock = display_unit
    assert unit.wait_ready(60)
    hub.wait_adopted(1)
    inp = f"makerhub/{unit.uid}/in"
    recorder.publish(f"{inp}/target", "lovelace/workbench", retain=True)
    recorder.publish(f"{inp}/show", "dashboard", retain=True)
    wait_until(lambda: marker(kiosk) == "dashboard", "the dashboard")

    idle = f"/api/makerhub/display/idle?display={unit.uid}&sig=0f0f"
    recorder.publish(f"{inp}/target", idle, retain=True)
    wait_until(lambda: agent.target == idle, "the idle page's target")
    assert marker(kiosk) == "dashboard"  # the idle page waits for show: idle
    recorder.publish(f"{inp}/show", "idle", retain=True)
    wait_until(lambda: kiosk.url == f"{pages}{idle}", "the signed idle page")
    assert marker(kiosk) == "ha-idle"
    assert agent.showing == "idle"

    desktop = f"/api/makerhub/display/desktop?display={unit.uid}&project=p1&role=viewer&sig=1e"
    recorder.publish(f"{inp}/target", desktop, retain=True)
    wait_until(lambda: agent.target == desktop, "the desktop page's target")
    assert kiosk.url == f"{pages}{idle}"  # waits for show: desktop
    recorder.publish(f"{inp}/show", "desktop", retain=True)
    wait_until(lambda: marker(kiosk) == "hub-desktop", "the desktop page")
    assert kiosk.url == f"{pages}{desktop}"
    assert agent.showing == "desktop"
    assert agent.counters.refused_targets == 0

    # The same idle page target again while idle shows it again (a new signature).
    recorder.publish(f"{inp}/show", "idle", retain=True)
    wait_until(lambda: marker(kiosk) == "ha-idle", "idle again")
    again = f"/api/makerhub/display/idle?display={unit.uid}&sig=a1a1"
    recorder.publish(f"{inp}/target", again, retain=True)
    wait_until(lambda: kiosk.url == f"{pages}{again}", "the new idle page")


def test_the_same_show_and_target_again_keeps_the_page_then_reloads_a_dropped_session(
    display_unit: tuple[Unit, DisplayAgent, ManualClock],
    hub: FakeHub,
    recorder: Recorder,
    kiosk: Kiosk,
    pages: str,
) -> None:
    """The follow-me blueprint sends the shown desktop again: the page stays (a reload
    would drop noVNC's connection); only a noVNC page whose session ended loads again."""
    unit, agent, _clock = display_unit
    assert unit.wait_ready(60)
    hub.wait_adopted(1)
    inp, showing = f"makerhub/{unit.uid}/in", f"makerhub/{unit.uid}/out/showing"
    desktop = f"/api/makerhub/display/desktop?display={unit.uid}&project=p1&role=viewer&sig=1e"

    def send_desktop() -> None:  # as makerhub.show_on_display does: target, then show
        recorder.publish(f"{inp}/target", desktop, retain=True)
        recorder.publish(f"{inp}/show", "desktop", retain=True)

    send_desktop()
    wait_until(lambda: marker(kiosk) == "hub-desktop", "the desktop page")
    assert kiosk.url == f"{pages}{desktop}"
    kiosk.evaluate("window.makerhubLoadedOnce = true")  # gone if the page loads again
    reports = len(recorder.texts(showing))

    send_desktop()
    wait_until(lambda: len(recorder.texts(showing)) >= reports + 2, "both orders reported")
    assert recorder.texts(showing)[reports:] == ["desktop", "desktop"]
    assert kiosk.evaluate("window.makerhubLoadedOnce === true") is True  # not reloaded
    assert agent.showing == "desktop"

    # noVNC's session ended (it opens its connect dialog then): the same order reloads.
    kiosk.evaluate(
        "(() => { const dialog = document.createElement('div');"
        " dialog.id = 'noVNC_connect_dlg'; dialog.className = 'noVNC_open';"
        " document.body.appendChild(dialog); })()"
    )
    recorder.publish(f"{inp}/show", "desktop", retain=True)
    wait_until(
        lambda: (
            kiosk.evaluate("window.makerhubLoadedOnce === undefined") is True
            and marker(kiosk) == "hub-desktop"
        ),
        "the desktop page loaded again",
    )

    # Idle, twice: the second is not loaded again either.
    recorder.publish(f"{inp}/show", "idle", retain=True)
    wait_until(lambda: marker(kiosk) == "ha-idle", "the idle page")
    kiosk.evaluate("window.makerhubLoadedOnce = true")
    reports = len(recorder.texts(showing))
    recorder.publish(f"{inp}/show", "idle", retain=True)
    wait_until(lambda: len(recorder.texts(showing)) > reports, "idle reported again")
    assert kiosk.evaluate("window.makerhubLoadedOnce === true") is True


KIOSK_BAR_HIDDEN = (
    "getComputedStyle(document.getElementById('noVNC_control_bar_anchor')).display === 'none'"
)


def test_a_real_desktop_sent_again_stays_connected_and_an_ended_one_loads_again(
    display_unit: tuple[Unit, DisplayAgent, ManualClock],
    hub: FakeHub,
    recorder: Recorder,
    kiosk: Kiosk,
) -> None:
    """Against the real desktops service and its noVNC: a connect token is single-use, so
    a reload could not even connect again; the agent's test for an ended session is
    checked against noVNC itself."""
    unit, _agent, _clock = display_unit
    assert unit.wait_ready(60)
    hub.wait_adopted(1)
    inp, showing = f"makerhub/{unit.uid}/in", f"makerhub/{unit.uid}/out/showing"
    with desktops_service() as service:
        url = f"{viewer_connect_url(service)}&kiosk=1"  # as the hub's desktop page redirects

        def send_desktop() -> None:
            recorder.publish(f"{inp}/target", url, retain=True)
            recorder.publish(f"{inp}/show", "desktop", retain=True)

        send_desktop()
        wait_until(lambda: kiosk.evaluate(NOVNC_CONNECTED), "noVNC connected", timeout=120)
        assert kiosk.evaluate(KIOSK_BAR_HIDDEN) is True  # the kiosk form: no control bar
        assert kiosk.evaluate(DROPPED_SESSION) is False
        kiosk.evaluate("window.makerhubLoadedOnce = true")
        reports = len(recorder.texts(showing))

        send_desktop()
        wait_until(lambda: len(recorder.texts(showing)) >= reports + 2, "both orders reported")
        assert kiosk.evaluate("window.makerhubLoadedOnce === true") is True
        assert kiosk.evaluate(NOVNC_CONNECTED) is True
        assert service.call("GET", "/api/desktops/bench")[1]["viewers"] == 1

        # The desktop stops: noVNC's session ends, and the same order loads the page again.
        assert service.call("POST", "/api/desktops/bench/stop")[0] == 200
        wait_until(lambda: kiosk.evaluate(DROPPED_SESSION), "noVNC noticing the end")
        recorder.publish(f"{inp}/show", "desktop", retain=True)
        wait_until(
            lambda: kiosk.evaluate("window.makerhubLoadedOnce === undefined"), "loaded again"
        )


def test_an_idle_page_that_refuses_shows_the_built_in_one(page_server: PageServer) -> None:
    assert reachable(f"{page_server.url}/api/makerhub/display/idle?display=x&sig=y")
    assert not reachable(f"{page_server.url}/api/makerhub/display/missing")  # 404
    page_server.stop()
    assert not reachable(f"{page_server.url}/api/makerhub/display/idle")
