"""Fleet rollouts: batches, pauses, the failure limit, offline units, the window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time

import pytest

from custom_components.makerhub.core import rollout as rollout_module
from custom_components.makerhub.core.rollout import (
    Rollout,
    RolloutPlan,
    RolloutState,
    UpdateResult,
    in_window,
)

UNITS = tuple(f"u{n}" for n in range(7))


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """Poll every few milliseconds."""
    monkeypatch.setattr(rollout_module, "POLL", 0.005)


class Fleet:
    """Units that update (some fail) and record how many ran at once."""

    def __init__(self, failing: set[str] = frozenset(), offline: set[str] = frozenset()) -> None:
        self.failing = set(failing)
        self.offline = set(offline)
        self.order: list[str] = []
        self.running = 0
        self.peak = 0

    async def update(self, uid: str) -> UpdateResult:
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.order.append(uid)
        await asyncio.sleep(0.01)
        self.running -= 1
        if uid == "boom":
            raise RuntimeError("archive refused")
        return UpdateResult.FAILED if uid in self.failing else UpdateResult.SUCCESS

    def is_online(self, uid: str) -> bool:
        return uid not in self.offline


async def test_batches_in_order_with_pause() -> None:
    fleet = Fleet()
    changes: list[str] = []
    rollout = Rollout(
        RolloutPlan(UNITS, batch_size=3, pause=0.01),
        fleet.update,
        fleet.is_online,
        on_change=lambda r: changes.append(r.state.value),
    )
    assert await rollout.run() is RolloutState.FINISHED
    assert fleet.order == list(UNITS)
    assert fleet.peak == 3
    summary = rollout.summary()
    assert summary["succeeded"] == 7
    assert summary["failed"] == 0
    assert changes[0] == "running"
    assert changes[-1] == "finished"


async def test_all_at_once() -> None:
    fleet = Fleet()
    rollout = Rollout(RolloutPlan(UNITS), fleet.update, fleet.is_online)
    assert await rollout.run() is RolloutState.FINISHED
    assert fleet.peak == len(UNITS)


async def test_failure_limit_stops_new_updates() -> None:
    fleet = Fleet(failing={"u0", "u1"})
    rollout = Rollout(
        RolloutPlan((*UNITS, "boom"), batch_size=2, max_failures=2), fleet.update, fleet.is_online
    )
    assert await rollout.run() is RolloutState.STOPPED
    assert fleet.order == ["u0", "u1"]
    assert rollout.results["u6"] is UpdateResult.SKIPPED
    assert rollout.summary()["skipped"] == 6


async def test_exceptions_are_failures() -> None:
    fleet = Fleet()
    rollout = Rollout(RolloutPlan(("boom", "u1")), fleet.update, fleet.is_online)
    assert await rollout.run() is RolloutState.FINISHED
    assert rollout.results == {"boom": UpdateResult.FAILED, "u1": UpdateResult.SUCCESS}
    assert rollout.errors == {"boom": "archive refused"}


async def test_offline_units_wait_until_they_come_back() -> None:
    fleet = Fleet(offline={"u1"})
    rollout = Rollout(RolloutPlan(("u0", "u1", "u2"), batch_size=1), fleet.update, fleet.is_online)
    task = asyncio.create_task(rollout.run())
    while rollout.done < 2:
        await asyncio.sleep(0.005)
    assert rollout.queued == ["u1"]
    fleet.offline.clear()  # it wakes up
    assert await task is RolloutState.FINISHED
    assert fleet.order == ["u0", "u2", "u1"]


async def test_offline_units_are_skipped_after_the_wait() -> None:
    fleet = Fleet(offline={"u1"})
    rollout = Rollout(RolloutPlan(("u0", "u1"), offline_wait=0.02), fleet.update, fleet.is_online)
    assert await rollout.run() is RolloutState.FINISHED
    assert rollout.results["u1"] is UpdateResult.SKIPPED


async def test_window_holds_batches_and_cancel() -> None:
    clock = {"now": datetime(2026, 11, 30, 21, 0, tzinfo=UTC)}
    fleet = Fleet()
    rollout = Rollout(
        RolloutPlan(("u0",), window_start=time(2, 0), window_end=time(5, 0)),
        fleet.update,
        fleet.is_online,
        now=lambda: clock["now"],
    )
    task = asyncio.create_task(rollout.run())
    await asyncio.sleep(0.03)
    assert rollout.state is RolloutState.WAITING
    assert fleet.order == []
    clock["now"] = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    assert await task is RolloutState.FINISHED
    assert fleet.order == ["u0"]

    waiting = Rollout(
        RolloutPlan(("u0",), window_start=time(2, 0), window_end=time(5, 0)),
        fleet.update,
        fleet.is_online,
        now=lambda: datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    )
    task = asyncio.create_task(waiting.run())
    await asyncio.sleep(0.02)
    waiting.cancel()
    assert await task is RolloutState.STOPPED
    assert waiting.results == {"u0": UpdateResult.SKIPPED}


def test_windows_and_bad_plans() -> None:
    assert in_window(time(12), None, None)
    assert in_window(time(3), time(2), time(5))
    assert not in_window(time(5), time(2), time(5))
    assert in_window(time(23), time(22), time(4))
    assert in_window(time(1), time(22), time(4))
    assert not in_window(time(12), time(22), time(4))
    with pytest.raises(ValueError, match="negative"):
        RolloutPlan(("a",), batch_size=-1)
    with pytest.raises(ValueError, match="both ends"):
        RolloutPlan(("a",), window_start=time(1))
    with pytest.raises(ValueError, match="twice"):
        RolloutPlan(("a", "a"))
