"""Displays without Home Assistant: which units are displays, targets, signed pages."""

from __future__ import annotations

import pytest

from custom_components.makerhub.core.displays import (
    PagePurpose,
    TargetRefusedError,
    check_dashboard_path,
    check_web_address,
    desktop_page_path,
    desktop_subject,
    idle_page_path,
    is_display,
    redact_address_secrets,
    signature,
    signature_valid,
)
from custom_components.makerhub.core.schema import parse_makerhub_json
from makerhub_display.agent import MAKERHUB_JSON

KEY = b"k" * 32


def schema(inputs: dict[str, object]) -> object:
    return parse_makerhub_json({"name": "x", "inputs": inputs, "outputs": {}})


def test_a_display_has_the_agents_show_and_target_inputs() -> None:
    assert is_display(parse_makerhub_json(MAKERHUB_JSON))
    show = {"type": "enum", "options": ["idle", "desktop", "dashboard", "url"]}
    assert is_display(schema({"show": show, "target": {"type": "str"}}))  # type: ignore[arg-type]
    for inputs in (
        {"target": {"type": "str"}},
        {"show": show},
        {"show": {"type": "enum", "options": ["idle", "url"]}, "target": {"type": "str"}},
        {"show": {"type": "str"}, "target": {"type": "str"}},
        {"show": show, "target": {"type": "float"}},
    ):
        assert not is_display(schema(inputs)), inputs  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("javascript:alert(1)", "scheme javascript: is not allowed"),
        ("FILE:///etc/passwd", "scheme file: is not allowed"),
        ("data:text/html,x", "scheme data: is not allowed"),
        ("example.org", "scheme no scheme is not allowed"),
        ("https://", "has no host"),
        ("http://[::1", "is not an address"),
    ],
)
def test_only_web_addresses_with_a_host(target: str, reason: str) -> None:
    with pytest.raises(TargetRefusedError, match=reason.replace("[", r"\[")):
        check_web_address(target)


def test_addresses_and_dashboard_paths_pass_cleaned() -> None:
    assert check_web_address(" http://a.b/c?d ") == "http://a.b/c?d"
    assert check_dashboard_path("/lovelace/0") == "lovelace/0"
    for bad in ("", "https://e.x/y", "lovelace/../auth", "a\\b", "javascript:x"):
        with pytest.raises(TargetRefusedError, match="is not a dashboard path"):
            check_dashboard_path(bad)


def test_signed_pages_are_bound_to_display_purpose_project_and_role() -> None:
    idle = idle_page_path(KEY, "aaaaaaaaaaa1")
    sig = idle.rsplit("sig=", 1)[1]
    assert idle == f"/api/makerhub/display/idle?display=aaaaaaaaaaa1&sig={sig}"
    assert len(sig) == 32
    assert signature_valid(KEY, PagePurpose.IDLE, "aaaaaaaaaaa1", "", sig)
    assert not signature_valid(KEY, PagePurpose.IDLE, "aaaaaaaaaaa2", "", sig)
    assert not signature_valid(KEY, PagePurpose.DESKTOP, "aaaaaaaaaaa1", "", sig)
    assert not signature_valid(b"other", PagePurpose.IDLE, "aaaaaaaaaaa1", "", sig)
    desktop = desktop_page_path(KEY, "aaaaaaaaaaa1", "0123456789ab", "viewer")
    viewer = signature(
        KEY, PagePurpose.DESKTOP, "aaaaaaaaaaa1", desktop_subject("0123456789ab", "viewer")
    )
    assert desktop == (
        "/api/makerhub/display/desktop?display=aaaaaaaaaaa1&project=0123456789ab"
        f"&role=viewer&sig={viewer}"
    )
    controller = desktop_subject("0123456789ab", "controller")
    assert not signature_valid(KEY, PagePurpose.DESKTOP, "aaaaaaaaaaa1", controller, viewer)
    assert len(desktop) < 255  # fits the agent's target input


def test_diagnostics_redact_signatures_and_tokens_in_addresses() -> None:
    assert redact_address_secrets(
        {"target": "/p?display=a&sig=abc&x=1", "url": "https://h/d?TOKEN=t#f", "level": 3}
    ) == {
        "target": "/p?display=a&sig=**REDACTED**&x=1",
        "url": "https://h/d?TOKEN=**REDACTED**#f",
        "level": 3,
    }
