"""What the display is allowed to show: http/https only, dashboard paths, idle."""

from __future__ import annotations

import pytest

from makerhub_display.targets import (
    Show,
    Sources,
    TargetError,
    check_url,
    hub_page,
    hub_page_url,
    idle_url,
    resolve,
)

HA = Sources(ha_url="http://ha.local:8123/")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("javascript:alert(1)", "target scheme javascript: is not allowed"),
        ("JavaScript:alert(1)", "target scheme javascript: is not allowed"),
        ("file:///etc/passwd", "target scheme file: is not allowed"),
        ("data:text/html,<h1>x</h1>", "target scheme data: is not allowed"),
        ("chrome://settings", "target scheme chrome: is not allowed"),
        ("about:blank", "target scheme about: is not allowed"),
        ("ws://host/x", "target scheme ws: is not allowed"),
        ("example.org/page", "target scheme no scheme is not allowed"),
        ("http://", "has no host"),
        ("http://[::1", "is not an address"),
        ("   ", "target is empty"),
    ],
)
def test_forbidden_targets_are_refused_precisely(target: str, message: str) -> None:
    with pytest.raises(TargetError, match=message.replace("(", r"\(").replace("[", r"\[")):
        resolve("url", target, HA)
    with pytest.raises(TargetError):
        resolve("desktop", target, HA)


def test_allowed_addresses_pass_unchanged() -> None:
    assert (
        check_url(" https://desk.local/desktop?token=abc ")
        == "https://desk.local/desktop?token=abc"
    )
    assert resolve("url", "http://10.0.0.5:8080/x", HA) == "http://10.0.0.5:8080/x"
    assert resolve("desktop", "https://ha.local/d?token=t", HA) == "https://ha.local/d?token=t"


def test_dashboards_are_paths_under_home_assistant() -> None:
    assert resolve("dashboard", "lovelace/0", HA) == "http://ha.local:8123/lovelace/0"
    assert resolve("dashboard", "/dashboard-space/bench?kiosk", HA) == (
        "http://ha.local:8123/dashboard-space/bench?kiosk"
    )
    for bad in ("", "https://evil.example/x", "javascript:alert(1)", "lovelace/../auth"):
        with pytest.raises(TargetError, match="is not a dashboard path"):
            resolve("dashboard", bad, HA)
    with pytest.raises(TargetError, match="a dashboard needs ha_url"):
        resolve("dashboard", "lovelace/0", Sources())


def test_idle_ignores_the_target_and_unknown_modes_are_refused() -> None:
    assert resolve("idle", "javascript:alert(1)", HA) is None
    with pytest.raises(TargetError, match="show 'movie' is not one of idle, desktop"):
        resolve("movie", "", HA)


SIGNED_IDLE = "/api/makerhub/display/idle?display=0123456789ab&sig=00ff"
SIGNED_DESKTOP = "/api/makerhub/display/desktop?display=0123456789ab&project=p1&role=viewer&sig=aa"


def test_home_assistant_pages_are_paths_put_under_ha_url() -> None:
    assert hub_page(SIGNED_IDLE) is Show.IDLE
    assert hub_page(f" {SIGNED_DESKTOP} ") is Show.DESKTOP
    assert hub_page("/api/makerhub/display/other?x") is None
    assert hub_page("lovelace/0") is None
    assert idle_url(HA, SIGNED_IDLE) == f"http://ha.local:8123{SIGNED_IDLE}"
    # Any other target leaves the default idle page; without ha_url the built-in one.
    assert idle_url(HA, SIGNED_DESKTOP) == "http://ha.local:8123/api/makerhub/display/idle"
    assert idle_url(HA, "javascript:alert(1)") == "http://ha.local:8123/api/makerhub/display/idle"
    assert idle_url(Sources(), SIGNED_IDLE) is None
    assert resolve("desktop", SIGNED_DESKTOP, HA) == f"http://ha.local:8123{SIGNED_DESKTOP}"
    with pytest.raises(TargetError, match="needs ha_url"):
        resolve("desktop", SIGNED_DESKTOP, Sources())
    # A hub path is a desktop's only; under url (and a desktop's other paths) it has no host.
    with pytest.raises(TargetError, match="no scheme"):
        resolve("url", SIGNED_DESKTOP, HA)
    with pytest.raises(TargetError, match="no scheme"):
        resolve("desktop", "/api/other", HA)
    with pytest.raises(TargetError, match="no host"):
        hub_page_url(Sources(ha_url="http://"), SIGNED_IDLE)
    assert idle_url(Sources(ha_url="http://"), SIGNED_IDLE) == "http:/api/makerhub/display/idle"
