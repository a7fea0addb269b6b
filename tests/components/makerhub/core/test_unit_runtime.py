"""A unit's availability rules and listeners."""

from __future__ import annotations

from custom_components.makerhub.core.protocol import LogRecord, UnitTopics
from custom_components.makerhub.core.schema import Direction, parse_makerhub_json
from custom_components.makerhub.core.unit import AVAILABILITY, LOG_BUFFER, UnitIdentity, UnitRuntime


def make_unit() -> UnitRuntime:
    """Return a unit watched since t=100."""
    schema = parse_makerhub_json({"name": "x", "outputs": {"t": {"type": "float"}}})
    return UnitRuntime(
        identity=UnitIdentity("0123456789ab", "X", None, None, schema),
        topics=UnitTopics("m", "0123456789ab"),
        watch_started=100.0,
    )


def test_availability_rules() -> None:
    """Offline status, no news, or a late state make a unit unavailable."""
    unit = make_unit()
    assert not unit.compute_available(101, timeout=90)  # nothing heard yet
    unit.status = "online"
    assert unit.compute_available(189, timeout=90)  # online, waiting for a first state
    assert not unit.compute_available(191, timeout=90)
    unit.last_state_at = 200
    assert unit.compute_available(290, timeout=90)
    assert not unit.compute_available(291, timeout=90)
    unit.status = "offline"
    assert not unit.compute_available(201, timeout=90)
    unit.status = None  # no retained status, but states arrive
    assert unit.compute_available(201, timeout=90)


def test_listeners() -> None:
    """Listeners hear their key only, and can be removed."""
    unit = make_unit()
    heard: list[str] = []
    stop = unit.add_listener((Direction.OUTPUT, "t"), lambda: heard.append("t"))
    unit.add_listener(AVAILABILITY, lambda: heard.append("availability"))
    unit.set_value(Direction.OUTPUT, "t", 1.0)
    unit.set_value(Direction.INPUT, "t", 2.0)
    unit.status = "online"
    assert unit.refresh_availability(101, 90)
    assert not unit.refresh_availability(102, 90)  # no change, no notification
    stop()
    unit.set_value(Direction.OUTPUT, "t", 3.0)
    assert heard == ["t", "availability"]
    assert unit.outputs == {"t": 3.0}
    assert unit.inputs == {"t": 2.0}


def test_logs_bounded() -> None:
    """A unit keeps its newest LOG_BUFFER log records, none until the first arrives."""
    unit = make_unit()
    assert list(unit.logs) == []
    unit.add_logs(LogRecord("info", f"line {n}", None) for n in range(LOG_BUFFER + 5))
    assert len(unit.logs) == LOG_BUFFER
    assert unit.logs[0].text == "line 5"
    assert unit.logs[-1].text == f"line {LOG_BUFFER + 4}"
