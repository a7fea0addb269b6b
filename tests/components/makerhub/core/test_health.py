"""The health monitor: deadlines, root causes, recovery, restarts, with injected time."""

from __future__ import annotations

import time

import pytest

from custom_components.makerhub.core.health import (
    LEARNED_MAX,
    LEARNED_MIN,
    HealthEventKind,
    HealthMonitor,
    HealthStatus,
    IntervalLearner,
    ItemSpec,
)

BROKER = ItemSpec("broker", "Broker", "broker")


def unit(
    n: int, *, period: float = 30.0, grace: float = 10.0, restartable: bool = False
) -> ItemSpec:
    """Return unit ``n``, depending on the broker."""
    return ItemSpec(
        f"unit:{n}", f"Unit {n}", "unit", period, grace, parent="broker", restartable=restartable
    )


def kinds(changes: object) -> list[tuple[str, str, str]]:
    """Return (kind, item, root cause) of each event."""
    return [(e.kind, e.item, e.root_cause) for e in changes.events]  # type: ignore[attr-defined]


def test_spec_refuses_nonsense() -> None:
    """A period must be positive, a grace not negative, a parent not itself."""
    with pytest.raises(ValueError, match="period"):
        ItemSpec("a", "A", "unit", period=0)
    with pytest.raises(ValueError, match="grace"):
        ItemSpec("a", "A", "unit", period=1, grace=-1)
    with pytest.raises(ValueError, match="itself"):
        ItemSpec("a", "A", "unit", parent="a")


def test_late_heartbeat_is_one_problem_then_recovery() -> None:
    """A missed heartbeat past its grace is a problem, announced once; the next one
    recovers it."""
    monitor = HealthMonitor()
    monitor.register(BROKER, 0)
    monitor.report("broker", True, 0)
    monitor.register(unit(1), 0)
    assert monitor.health("unit:1").status is HealthStatus.PENDING
    monitor.heartbeat("unit:1", 5)
    assert monitor.health("unit:1").status is HealthStatus.HEALTHY
    assert monitor.next_deadline() is not None
    assert not monitor.tick(44.9).events
    changes = monitor.tick(45.0)
    assert kinds(changes) == [(HealthEventKind.PROBLEM, "unit:1", "unit:1")]
    assert changes.changed == {"unit:1"}
    health = monitor.health("unit:1")
    assert health.problem
    assert health.message == "Unit 1: no heartbeat for 40 s (expected every 30 s)"
    assert health.last_failure == 45.0
    assert not monitor.tick(1000).events  # announced once
    recovered = monitor.heartbeat("unit:1", 1001)
    assert kinds(recovered) == [(HealthEventKind.RECOVERED, "unit:1", "unit:1")]
    assert recovered.events[0].since == 45.0
    assert "down for 956 s" in recovered.events[0].message
    assert monitor.health("unit:1").up_since == 1001


def test_heartbeats_keep_it_healthy_and_the_heap_small() -> None:
    """Regular heartbeats never raise a problem, and the heap holds one entry per item."""
    monitor = HealthMonitor()
    monitor.register(unit(1, period=10, grace=5), 0)
    for t in range(0, 1000, 10):
        monitor.heartbeat("unit:1", t)
        assert not monitor.tick(t + 1).events
    assert len(monitor._heap) == 1
    assert monitor.health("unit:1").status is HealthStatus.HEALTHY


def test_never_heard_from_is_a_problem_after_its_first_deadline() -> None:
    """An item that never reports fails one period and grace after it was registered."""
    monitor = HealthMonitor()
    monitor.register(unit(1), 100)
    assert kinds(monitor.tick(140)) == [(HealthEventKind.PROBLEM, "unit:1", "unit:1")]


def test_parent_down_raises_one_root_cause_alert() -> None:
    """The broker going down is the one alert; its units are down because of it and
    raise none, also when their own heartbeats go late; when it recovers, they are
    judged afresh and recover without events."""
    monitor = HealthMonitor()
    monitor.register(BROKER, 0)
    monitor.report("broker", True, 0)
    for n in range(100):
        monitor.register(unit(n), 0)
        monitor.heartbeat(f"unit:{n}", 1)
    down = monitor.report("broker", False, 10, "connection lost")
    assert kinds(down) == [(HealthEventKind.PROBLEM, "broker", "broker")]
    assert down.events[0].message == "Broker: connection lost"
    assert len(down.changed) == 101
    health = monitor.health("unit:7")
    assert health.status is HealthStatus.DOWN_BECAUSE
    assert health.root_cause == "broker"
    assert health.message == "Unit 7 is down because Broker is down"
    assert not monitor.tick(200).events  # their heartbeats are late: tracked, not alerted
    summary = monitor.summary()
    assert (summary.healthy, summary.total, summary.root_causes) == (0, 101, ("broker",))
    assert len(summary.down_because) == 100
    up = monitor.report("broker", True, 300)
    assert kinds(up) == [(HealthEventKind.RECOVERED, "broker", "broker")]
    assert monitor.health("unit:7").status is HealthStatus.PENDING
    for n in range(99):
        monitor.heartbeat(f"unit:{n}", 310)
        monitor.heartbeat(f"unit:{n}", 340)
    assert not monitor.tick(359).events  # they get a minute to reconnect
    late = monitor.tick(360)
    assert kinds(late) == [(HealthEventKind.PROBLEM, "unit:99", "unit:99")]
    assert monitor.summary().healthy == 100


def test_an_open_problem_still_resolves_while_its_parent_is_down() -> None:
    """A unit announced before the broker went down recovers with its own event."""
    monitor = HealthMonitor()
    monitor.register(BROKER, 0)
    monitor.report("broker", True, 0)
    monitor.register(unit(1), 0)
    assert kinds(monitor.tick(40)) == [(HealthEventKind.PROBLEM, "unit:1", "unit:1")]
    assert not monitor.report("broker", False, 50).events[1:]
    assert monitor.health("unit:1").status is HealthStatus.DOWN_BECAUSE
    recovered = monitor.heartbeat("unit:1", 60)
    assert kinds(recovered) == [(HealthEventKind.RECOVERED, "unit:1", "unit:1")]
    assert monitor.health("unit:1").status is HealthStatus.DOWN_BECAUSE


def test_grandparent_is_the_root_cause() -> None:
    """A camera behind the recorder behind the broker: the topmost down ancestor is the
    root cause; an unregistered parent is depended on by nobody."""
    monitor = HealthMonitor()
    monitor.register(BROKER, 0)
    monitor.register(ItemSpec("recorder", "Recorder", "service", parent="broker"), 0)
    monitor.register(ItemSpec("camera:1", "Camera", "camera", parent="recorder"), 0)
    for item in ("broker", "recorder", "camera:1"):
        monitor.report(item, True, 0)
    assert kinds(monitor.report("recorder", False, 1)) == [
        (HealthEventKind.PROBLEM, "recorder", "recorder")
    ]
    assert monitor.health("camera:1").root_cause == "recorder"
    monitor.report("broker", False, 2)
    assert monitor.health("camera:1").root_cause == "broker"
    assert monitor.health("recorder").root_cause == "broker"
    unregistered = monitor.unregister("recorder", 3)
    assert "camera:1" in unregistered.changed
    assert monitor.health("camera:1").status is HealthStatus.HEALTHY
    assert not monitor.unregister("recorder", 4).changed
    assert "recorder" not in monitor
    assert len(monitor) == 2


def test_restarts_with_backoff_and_a_limit() -> None:
    """A restartable problem gets restart requests at the backoff's delays, then none."""
    monitor = HealthMonitor(restart_delays=(0, 60, 300))
    monitor.register(unit(1, restartable=True), 0)
    first = monitor.tick(40)
    assert [(r.item, r.attempt, r.limit) for r in first.restarts] == [("unit:1", 1, 3)]
    assert monitor.health("unit:1").next_restart == 100
    assert not monitor.tick(99).restarts
    assert [r.attempt for r in monitor.tick(100).restarts] == [2]
    assert [r.attempt for r in monitor.tick(400).restarts] == [3]
    assert monitor.health("unit:1").next_restart is None
    assert not monitor.tick(10_000).restarts
    assert monitor.health("unit:1").restarts == 3
    monitor.heartbeat("unit:1", 10_001)
    assert monitor.health("unit:1").restarts == 0  # recovered: the next failure starts over


def test_no_restart_while_the_parent_is_down() -> None:
    """A unit down because of the broker is not restarted."""
    monitor = HealthMonitor()
    monitor.register(BROKER, 0)
    monitor.report("broker", False, 0)
    monitor.register(unit(1, restartable=True), 0)
    assert not monitor.tick(1000).restarts


def test_crash_loop_keeps_the_backoff() -> None:
    """Three failures within an hour is crash-looping: the restart count is kept."""
    monitor = HealthMonitor(restart_delays=(0, 60))
    monitor.register(ItemSpec("svc", "Service", "service", restartable=True), 0)
    for t in (0, 100, 200):
        monitor.report("svc", False, t)
        monitor.report("svc", True, t + 10)
    health = monitor.health("svc")
    assert health.crash_looping
    assert health.restarts == 1  # reset after the first two recoveries, kept after the third
    monitor.report("svc", False, 300)
    assert [r.attempt for r in monitor.tick(1000).restarts] == [2]
    assert not monitor.tick(2000).restarts  # its limit is used up
    monitor.restart_done("svc")
    assert monitor.health("svc").restarts == 0


def test_timing_per_item_and_unknown_items() -> None:
    """A per-item period and grace move the deadline; unknown items are ignored."""
    monitor = HealthMonitor()
    monitor.register(unit(1), 0)
    monitor.heartbeat("unit:1", 0)
    monitor.set_timing("unit:1", 100, 50, 1)
    assert not monitor.tick(149).events
    assert monitor.tick(150).events
    assert not monitor.heartbeat("nope", 1).changed
    assert not monitor.report("nope", True, 1).changed
    assert [h.id for h in monitor] == ["unit:1"]
    assert monitor.ids() == ["unit:1"]


def test_test_event_is_flagged() -> None:
    """The test alert is a problem event with ``test`` set."""
    event = HealthMonitor().test_event(5)
    assert event.as_dict()["test"] is True
    assert event.kind is HealthEventKind.PROBLEM


def test_a_thousand_units_cost_little() -> None:
    """1,000 units reporting every 30 s for an hour of injected time: each late unit is
    found at its deadline, and the work stays well under a second."""
    monitor = HealthMonitor()
    monitor.register(BROKER, 0)
    monitor.report("broker", True, 0)
    for n in range(1000):
        monitor.register(unit(n, period=30, grace=10), 0)
    started = time.process_time()
    events = 0
    for second in range(3600):
        for n in range(second % 30, 1000, 30):
            if not (n == 500 and second > 1800):
                monitor.heartbeat(f"unit:{n}", second)
        events += len(monitor.tick(second).events)
    spent = time.process_time() - started
    assert events == 1
    assert monitor.health("unit:500").last_failure is not None
    assert monitor.health("unit:500").last_failure <= 1800 + 30 + 10 + 1  # type: ignore[operator]
    assert len(monitor._heap) <= 1001
    assert spent < 5, spent


def test_a_new_parent_and_explicit_reports() -> None:
    """An item moved to another parent follows that one; an explicit good report moves
    its deadline like a heartbeat; a restart due after recovery is dropped."""
    monitor = HealthMonitor(restart_delays=(0, 60))
    monitor.register(BROKER, 0)
    monitor.register(ItemSpec("hub2", "Second broker", "broker"), 0)
    monitor.register(unit(1, restartable=True), 0)
    monitor.report("broker", False, 1)
    assert monitor.health("unit:1").root_cause == "broker"
    monitor.register(
        ItemSpec("unit:1", "Unit 1", "unit", 30, 10, parent="hub2", restartable=True), 2
    )
    assert monitor.health("unit:1").status is HealthStatus.PENDING
    monitor.report("unit:1", True, 3)
    assert monitor.health("unit:1").last_seen == 3
    assert not monitor.tick(42).events
    assert [r.attempt for r in monitor.tick(43).restarts] == [1]
    monitor.report("hub2", False, 50)  # its parent fails before the second restart
    assert not monitor.tick(200).restarts
    assert monitor.health("unit:1").next_restart is None


def test_a_restored_problem_is_not_announced_again() -> None:
    """A unit already dead before a restart: no second problem event, its start and last
    failure kept; its recovery is announced against the original start."""
    before = HealthMonitor()
    before.register(BROKER, 0)
    before.report("broker", True, 0)
    before.register(unit(1, restartable=True), 0)
    before.tick(40)
    before.tick(100)
    saved = before.snapshot()
    assert saved["unit:1"] == {
        "last_failure": 40,
        "failed_since": 40,
        "announced": True,
        "restarts": 2,
    }
    assert "broker" not in saved  # never failed: nothing to keep

    after = HealthMonitor()
    after.register(BROKER, 5000)
    after.report("broker", True, 5000)
    after.register(unit(1, restartable=True), 5000)
    after.restore("unit:1", saved["unit:1"])
    assert after.health("unit:1").status is HealthStatus.PENDING
    assert after.health("unit:1").last_failure == 40
    changes = after.tick(5040)
    assert not changes.events
    assert not changes.restarts  # its restarts were made before
    health = after.health("unit:1")
    assert health.status is HealthStatus.PROBLEM
    assert (health.failed_since, health.last_failure, health.restarts) == (40, 40, 2)
    assert not after.report("unit:1", False, 5050, "it reported offline").events
    assert after.snapshot()["unit:1"]["failed_since"] == 40
    recovered = after.heartbeat("unit:1", 6000)
    assert kinds(recovered) == [(HealthEventKind.RECOVERED, "unit:1", "unit:1")]
    assert recovered.events[0].since == 40
    # Failing again later is a new problem.
    changes = after.tick(6040)
    assert kinds(changes) == [(HealthEventKind.PROBLEM, "unit:1", "unit:1")]
    assert after.health("unit:1").failed_since == 6040


def test_restore_keeps_a_healthy_items_last_failure_and_ignores_junk() -> None:
    """A recovered item keeps only its last failure; a restore after the item was heard
    from, for an unknown item, or with junk values changes nothing."""
    monitor = HealthMonitor()
    monitor.register(unit(1), 0)
    monitor.restore("unit:1", {"last_failure": 12.0, "announced": False})
    assert monitor.health("unit:1").last_failure == 12.0
    assert monitor.health("unit:1").status is HealthStatus.PENDING
    monitor.restore("nothing", {"last_failure": 1.0})
    monitor.register(unit(2), 0)
    monitor.restore(
        "unit:2", {"last_failure": "x", "announced": True, "failed_since": 3, "restarts": -1}
    )
    assert monitor.health("unit:2").last_failure is None
    assert monitor.health("unit:2").restarts == 0
    monitor.heartbeat("unit:2", 1)
    assert monitor.snapshot() == {
        "unit:1": {"last_failure": 12.0, "failed_since": None, "announced": False, "restarts": 0}
    }
    monitor.restore("unit:2", {"last_failure": 9.0})  # heard from: ignored
    assert monitor.health("unit:2").last_failure is None
    # A restored problem whose item works at once is recovered.
    monitor.register(unit(3), 0)
    monitor.restore("unit:3", {"last_failure": 2, "failed_since": 2, "announced": True})
    assert kinds(monitor.heartbeat("unit:3", 10)) == [
        (HealthEventKind.RECOVERED, "unit:3", "unit:3")
    ]


def test_interval_learner_takes_the_median_within_bounds() -> None:
    """The interval is learned from the gaps' median once three are known, changes only
    beyond 20 %, is bounded, and starts over after ``forget``."""
    learner = IntervalLearner()
    assert learner.interval is None
    assert learner.observe(0, 30) is None
    assert learner.observe(10, 30) is None
    assert learner.observe(20, 30) is None
    assert learner.observe(20, 30) is None  # the same instant: no gap
    assert learner.observe(31, 30) == 10  # gaps 10, 10, 11
    assert learner.observe(41, 10) is None  # within 20 %
    assert learner.observe(200, 10) is None  # one long gap does not move the median
    learner.forget()
    assert learner.observe(5000, 10) is None
    assert learner.interval == 10
    fast = IntervalLearner()
    for t in (0, 0.1, 0.2, 0.3):
        fast.observe(t, None)
    assert fast.interval == LEARNED_MIN
    slow = IntervalLearner()
    for t in (0, 1e5, 2e5, 3e5):
        slow.observe(t, None)
    assert slow.interval == LEARNED_MAX
    assert slow.observe(4e5, None) == LEARNED_MAX  # nothing in use yet: always returned
