"""What the display is allowed to show: http/https only, dashboard paths, idle."""

from __future__ import annotations

import pytest

from makerhub_display.targets import Sources, TargetError, check_url, resolve

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
