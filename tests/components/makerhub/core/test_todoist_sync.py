"""Two-way step/task sync against a fake Todoist over real HTTP, and the pure merge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json

import aiohttp
import pytest

from custom_components.makerhub.core.todoist import Task, TodoistAuthError, TodoistClient
from custom_components.makerhub.core.todoist_sync import (
    CreateStep,
    CreateTask,
    DeleteStep,
    DeleteTask,
    Item,
    LocalOp,
    Pair,
    SyncResult,
    UpdateStep,
    UpdateTask,
    plan,
    state_from_json,
    state_to_json,
    sync,
)
from tests.helpers.fake_todoist import TOKEN, FakeTodoist

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Steps:
    """The local side: a project's ordered steps and its sync snapshot."""

    def __init__(self) -> None:
        """Start with no steps and an empty snapshot."""
        self.items: dict[str, Item] = {}
        self.state: dict[str, Pair] = {}
        self._ids = 0

    def new_id(self) -> str:
        """Return the next step id."""
        self._ids += 1
        return f"s{self._ids}"

    def add(self, text: str, done: bool = False, at: datetime | None = None) -> str:
        """Add a step, as a person would."""
        step_id = self.new_id()
        self.items[step_id] = Item(text, done, at or datetime.now(UTC))
        return step_id

    def edit(
        self,
        step_id: str,
        text: str | None = None,
        done: bool | None = None,
        at: datetime | None = None,
    ) -> None:
        """Change a step, as a person would."""
        item = self.items[step_id]
        self.items[step_id] = Item(
            item.text if text is None else text,
            item.done if done is None else done,
            at or datetime.now(UTC),
        )

    def apply(self, ops: list[LocalOp]) -> None:
        """Apply the sync's local changes, as the integration would."""
        now = datetime.now(UTC)
        for op in ops:
            if isinstance(op, DeleteStep):
                del self.items[op.step_id]
            else:
                self.items[op.step_id] = Item(op.text, op.done, now)

    async def sync(self, client: TodoistClient, project_id: str) -> SyncResult:
        """Sync, apply the result and keep the new snapshot (through its JSON form)."""
        result = await sync(client, project_id, self.items, self.state, self.new_id)
        self.apply(result.local_ops)
        self.state = state_from_json(json.loads(json.dumps(state_to_json(result.state))))
        assert self.state == result.state
        return result

    def values(self) -> list[tuple[str, bool]]:
        """Return (text, done) of every step, in order."""
        return [(item.text, item.done) for item in self.items.values()]


@pytest.fixture
async def fake(socket_enabled: None) -> AsyncIterator[FakeTodoist]:
    """A running fake Todoist with pages of two tasks."""
    server = FakeTodoist(page_size=2)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def client(fake: FakeTodoist) -> AsyncIterator[TodoistClient]:
    """A client of the fake with a valid token."""
    async with aiohttp.ClientSession() as session:
        yield TodoistClient(session, TOKEN, fake.url)


@pytest.fixture
def project(fake: FakeTodoist) -> str:
    """The Todoist project the steps sync with."""
    return fake.add_project("Robot arm")


def remote(fake: FakeTodoist, project: str) -> list[tuple[str, bool]]:
    """Return (content, checked) of the project's tasks that are not deleted, in order."""
    return [(task.content, task.checked) for task in fake.live(project)]


def assert_in_sync(fake: FakeTodoist, project: str, steps: Steps) -> None:
    """Both sides hold the same steps, and the snapshot pairs each step with its task."""
    assert sorted(steps.values()) == sorted(remote(fake, project))
    assert steps.state.keys() == steps.items.keys()
    for step_id, pair in steps.state.items():
        task = fake.tasks[pair.task_id]
        item = steps.items[step_id]
        assert (pair.text, pair.done) == (item.text, item.done) == (task.content, task.checked)


async def settle(steps: Steps, fake: FakeTodoist, client: TodoistClient, project: str) -> None:
    """Sync, then check a second sync changes nothing anywhere (idempotence)."""
    await steps.sync(client, project)
    assert_in_sync(fake, project, steps)
    fake.requests.clear()
    again = await steps.sync(client, project)
    assert (again.local_ops, again.remote_changes, again.errors) == ([], 0, [])
    assert fake.changes() == []


async def test_create_both_ways(fake: FakeTodoist, client: TodoistClient, project: str) -> None:
    """New steps become tasks (done ones closed), new tasks become steps; then nothing moves."""
    steps = Steps()
    steps.add("Print the base")
    steps.add("Order servos", done=True)
    result = await steps.sync(client, project)
    assert result.local_ops == []
    assert result.remote_changes == 3  # two tasks added, one closed
    assert remote(fake, project) == [("Print the base", False), ("Order servos", True)]
    assert_in_sync(fake, project, steps)

    fake.add_task(project, "Wire the servos")
    fake.add_task(project, "Calibrate")
    result = await steps.sync(client, project)
    assert result.local_ops == [
        CreateStep("s3", "Wire the servos", False),
        CreateStep("s4", "Calibrate", False),
    ]
    assert result.remote_changes == 0
    await settle(steps, fake, client, project)
    # The idle sync read every page of open tasks and each completed task, nothing more.
    assert {(r.method, r.path) for r in fake.requests} == {
        ("GET", "/tasks"),
        ("GET", f"/tasks/{steps.state['s2'].task_id}"),
    }


@pytest.mark.parametrize("get_returns_completed", [True, False])
async def test_complete_and_reopen_both_ways(
    fake: FakeTodoist, client: TodoistClient, project: str, get_returns_completed: bool
) -> None:
    """Done and undone travel both ways, whether GET /tasks/{id} answers completed tasks."""
    fake.get_returns_completed = get_returns_completed
    steps = Steps()
    first = steps.add("Print the base")
    second = steps.add("Order servos")
    await settle(steps, fake, client, project)
    task_of = {step_id: pair.task_id for step_id, pair in steps.state.items()}

    steps.edit(first, done=True)
    fake.close(task_of[second])
    result = await steps.sync(client, project)
    assert result.local_ops == [UpdateStep(second, "Order servos", True)]
    assert result.remote_changes == 1
    assert fake.tasks[task_of[first]].checked
    await settle(steps, fake, client, project)

    steps.edit(first, done=False)
    fake.reopen(task_of[second])
    result = await steps.sync(client, project)
    assert result.local_ops == [UpdateStep(second, "Order servos", False)]
    assert not fake.tasks[task_of[first]].checked
    await settle(steps, fake, client, project)


@pytest.mark.parametrize("get_returns_completed", [True, False])
async def test_rename_both_ways(
    fake: FakeTodoist, client: TodoistClient, project: str, get_returns_completed: bool
) -> None:
    """A renamed step renames its task and a renamed task its step, completed ones too."""
    fake.get_returns_completed = get_returns_completed
    steps = Steps()
    first = steps.add("Print the base")
    second = steps.add("Order servos", done=True)
    await settle(steps, fake, client, project)

    steps.edit(first, text="Print the base plate")
    fake.rename(steps.state[second].task_id, "Order 6 servos")
    result = await steps.sync(client, project)
    assert result.local_ops == [UpdateStep(second, "Order 6 servos", True)]
    assert fake.tasks[steps.state[first].task_id].content == "Print the base plate"
    await settle(steps, fake, client, project)

    steps.edit(second, text="Order 7 servos", done=False)  # reopened, then renamed
    result = await steps.sync(client, project)
    assert result.remote_changes == 2
    assert remote(fake, project) == [("Print the base plate", False), ("Order 7 servos", False)]
    await settle(steps, fake, client, project)


@pytest.mark.parametrize("get_returns_completed", [True, False])
async def test_delete_both_ways(
    fake: FakeTodoist, client: TodoistClient, project: str, get_returns_completed: bool
) -> None:
    """A removed step deletes its task; a task deleted in Todoist removes its step, one
    completed and deleted since the last sync too."""
    fake.get_returns_completed = get_returns_completed
    steps = Steps()
    ids = [steps.add(text) for text in ("a", "b", "c", "d")]
    await settle(steps, fake, client, project)
    task_of = {step_id: pair.task_id for step_id, pair in steps.state.items()}

    del steps.items[ids[0]]
    fake.delete(task_of[ids[1]])
    fake.close(task_of[ids[3]])
    fake.delete(task_of[ids[3]])  # completed, then deleted
    result = await steps.sync(client, project)
    assert result.local_ops == [DeleteStep(ids[1]), DeleteStep(ids[3])]
    assert fake.tasks[task_of[ids[0]]].is_deleted
    assert steps.values() == [("c", False)]
    await settle(steps, fake, client, project)

    # Gone on both sides: the pair is simply forgotten.
    del steps.items[ids[2]]
    fake.delete(task_of[ids[2]])
    fake.requests.clear()
    result = await steps.sync(client, project)
    assert (result.local_ops, result.state, result.remote_changes) == ([], {}, 0)
    assert fake.changes() == []


COMPLETED = "/tasks/completed/by_completion_date"


async def test_completion_seen_although_get_answers_404(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """GET /tasks/{id} answering 404 for completed tasks: the completed listing (read once per
    sync, 90 days back) marks their steps done, with a rename made meanwhile; none deleted."""
    fake.get_returns_completed = False
    steps = Steps()
    first = steps.add("Print the base")
    second = steps.add("Order servos")
    steps.add("Wire")
    await settle(steps, fake, client, project)
    task_of = {step_id: pair.task_id for step_id, pair in steps.state.items()}

    fake.rename(task_of[second], "Order 6 servos")
    fake.close(task_of[first])
    fake.close(task_of[second])
    fake.requests.clear()
    result = await steps.sync(client, project)
    assert result.local_ops == [
        UpdateStep(first, "Print the base", True),
        UpdateStep(second, "Order 6 servos", True),
    ]
    assert (result.errors, result.remote_changes) == ([], 0)
    assert [r.status for r in fake.requests if r.path.startswith("/tasks/t")] == [404, 404]
    listing = [r for r in fake.requests if r.path == COMPLETED]
    assert len(listing) == 2  # 90 days in windows of at most 45, one page each
    assert all(r.query["project_id"] == project for r in listing)
    since = datetime.fromisoformat(listing[0].query["since"])
    until = datetime.fromisoformat(listing[-1].query["until"])
    assert timedelta(days=90) <= until - since <= timedelta(days=90, seconds=2)
    assert until >= datetime.now(UTC) - timedelta(seconds=5)
    await settle(steps, fake, client, project)

    fake.reopen(task_of[first])
    result = await steps.sync(client, project)
    assert result.local_ops == [UpdateStep(first, "Print the base", False)]
    await settle(steps, fake, client, project)


async def test_completed_listing_pages(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """Every page of the completed listing is read: all five completions arrive."""
    fake.get_returns_completed = False
    steps = Steps()
    ids = [steps.add(f"step {i}") for i in range(5)]
    await settle(steps, fake, client, project)
    for step_id in ids:
        fake.close(steps.state[step_id].task_id)
    fake.requests.clear()
    result = await steps.sync(client, project)
    assert result.local_ops == [
        UpdateStep(step_id, steps.items[step_id].text, True) for step_id in ids
    ]
    listing = [r.query.get("cursor") for r in fake.requests if r.path == COMPLETED]
    assert listing == [None, None, "c2", "c4"]  # the older window empty, the recent in 3 pages
    await settle(steps, fake, client, project)


async def test_completed_listing_failure_loses_nothing(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A failure reading completed tasks stops the sync before deciding anything."""
    fake.get_returns_completed = False
    steps = Steps()
    done = steps.add("a")
    steps.add("b")
    await settle(steps, fake, client, project)
    fake.close(steps.state[done].task_id)
    steps.add("c")  # a local change waiting too
    before = dict(steps.state)

    # Each sync reads: the open tasks (1 page), GET a (404), the listing's two windows (3, 4).
    for inject in (
        lambda: fake.fail(3, status=503),
        lambda: fake.fail(4, drop=True, times=2),  # a GET: aiohttp retries once
        lambda: fake.rate_limit(1, retry_after=30, nth=4),
    ):
        inject()
        result = await steps.sync(client, project)
        assert result.interrupted is not None
        assert (result.local_ops, result.state, result.remote_changes) == ([], before, 0)
        assert fake.changes() == []
    assert result.retry_at is not None

    fake.reply(3, 400, '{"error": "Invalid argument value", "error_tag": "INVALID_ARGUMENT"}')
    result = await steps.sync(client, project)
    assert result.interrupted is None
    assert "Invalid argument value" in result.errors[0]
    assert (result.local_ops, result.state) == ([], before)

    fake.reply(3, 403, '{"error": "Forbidden"}')
    with pytest.raises(TodoistAuthError):
        await steps.sync(client, project)

    result = await steps.sync(client, project)
    assert (result.interrupted, result.errors) == (None, [])
    assert result.local_ops == [UpdateStep(done, "a", True)]
    await settle(steps, fake, client, project)


async def test_completed_step_is_not_deleted_on_a_guess(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A step done at the last sync whose task is found nowhere (completed before the 90 days
    looked at, or deleted since: it cannot be told) stays; an edit of it then settles which."""
    fake.get_returns_completed = False
    steps = Steps()
    old = steps.add("Old", done=True)
    gone = steps.add("Gone", done=True)
    await settle(steps, fake, client, project)
    task_of = {step_id: pair.task_id for step_id, pair in steps.state.items()}
    fake.close(task_of[old], at=datetime.now(UTC) - timedelta(days=200))
    fake.delete(task_of[gone])
    before = dict(steps.state)

    result = await steps.sync(client, project)
    assert (result.local_ops, result.state, result.errors) == ([], before, [])
    assert steps.values() == [("Old", True), ("Gone", True)]

    # Reopened here: the old task is reopened; the gone one answers 404, so the step is
    # unpaired and the next sync gives it a new task.
    steps.edit(old, done=False)
    steps.edit(gone, done=False)
    result = await steps.sync(client, project)
    assert (result.remote_changes, result.errors) == (1, [])
    assert not fake.tasks[task_of[old]].checked
    assert gone not in result.state
    result = await steps.sync(client, project)
    assert result.remote_changes == 1
    assert steps.state[gone].task_id != task_of[gone]
    assert remote(fake, project) == [("Old", False), ("Gone", False)]
    await settle(steps, fake, client, project)


async def test_deleted_flag_deletes_a_completed_step(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """Should Todoist answer a deleted task with ``is_deleted`` instead of 404, a done step goes."""
    steps = Steps()
    step = steps.add("x", done=True)
    await settle(steps, fake, client, project)
    task_id = steps.state[step].task_id
    fake.delete(task_id)
    # The open tasks (one empty page), then GET of the task.
    fake.reply(
        2, 200, f'{{"id": "{task_id}", "content": "x", "checked": true, "is_deleted": true}}'
    )
    result = await steps.sync(client, project)
    assert result.local_ops == [DeleteStep(step)]
    assert not any(r.path == COMPLETED for r in fake.requests)
    await settle(steps, fake, client, project)


async def test_conflicts_last_writer_wins(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """Both sides changed the same field: the later change wins, in either direction."""
    steps = Steps()
    ours = steps.add("a")
    theirs = steps.add("b")
    await settle(steps, fake, client, project)

    steps.edit(ours, text="a (local)", at=T0 + timedelta(minutes=2))
    fake.rename(steps.state[ours].task_id, "a (remote)", at=T0 + timedelta(minutes=1))
    steps.edit(theirs, text="b (local)", done=True, at=T0 + timedelta(minutes=1))
    fake.rename(steps.state[theirs].task_id, "b (remote)", at=T0 + timedelta(minutes=2))
    result = await steps.sync(client, project)
    # The step edited first keeps its own field the other side did not touch (done).
    assert result.local_ops == [UpdateStep(theirs, "b (remote)", True)]
    assert remote(fake, project) == [("a (local)", False), ("b (remote)", True)]
    await settle(steps, fake, client, project)


async def test_changes_to_different_fields_merge(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """Renamed here and completed there: both survive, whoever was last."""
    steps = Steps()
    step = steps.add("Print the base")
    await settle(steps, fake, client, project)
    steps.edit(step, text="Print the base plate", at=T0)
    fake.close(steps.state[step].task_id, at=T0 + timedelta(hours=1))
    result = await steps.sync(client, project)
    assert result.local_ops == [UpdateStep(step, "Print the base plate", True)]
    assert remote(fake, project) == [("Print the base plate", True)]
    await settle(steps, fake, client, project)


async def test_local_edit_beats_remote_delete(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A step edited since the last sync whose task was deleted gets a new task."""
    steps = Steps()
    step = steps.add("Print the base")
    await settle(steps, fake, client, project)
    old_task = steps.state[step].task_id
    steps.edit(step, text="Print the base plate", done=True)
    fake.delete(old_task)
    result = await steps.sync(client, project)
    assert result.local_ops == []
    assert steps.state[step].task_id != old_task
    assert remote(fake, project) == [("Print the base plate", True)]
    await settle(steps, fake, client, project)


async def test_network_failure_part_way_loses_nothing(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A sync cut off part-way keeps what it did; the next one finishes, with no duplicates."""
    steps = Steps()
    kept = steps.add("kept")
    renamed = steps.add("renamed")
    await settle(steps, fake, client, project)
    fake.rename(steps.state[kept].task_id, "kept (remote)")
    steps.edit(renamed, text="renamed (local)")
    steps.add("new 1", done=True)
    steps.add("new 2")

    # Reads: one page of 2 tasks. Then: rename (1), add "new 1" (2), close it (3): fails.
    fake.fail(1 + 3, status=503)
    result = await steps.sync(client, project)
    assert result.interrupted is not None
    assert result.interrupted.status == 503
    assert result.errors == [str(result.interrupted)]
    assert result.remote_changes == 2
    assert result.local_ops == [UpdateStep(kept, "kept (remote)", False)]  # no call needed
    assert remote(fake, project) == [
        ("kept (remote)", False),
        ("renamed (local)", False),
        ("new 1", False),
    ]

    result = await steps.sync(client, project)
    assert (result.interrupted, result.errors, result.remote_changes) == (None, [], 2)
    assert remote(fake, project) == [
        ("kept (remote)", False),
        ("renamed (local)", False),
        ("new 1", True),
        ("new 2", False),
    ]
    await settle(steps, fake, client, project)


async def test_lost_answer_adopts_the_task(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A task created whose answer was lost is paired by its text next time, not duplicated."""
    steps = Steps()
    steps.add("Print the base", done=True)
    fake.fail(2, drop=True, after=True)  # the list, then POST /tasks: made, answer lost
    result = await steps.sync(client, project)
    assert result.interrupted is not None
    assert result.state == {}
    assert remote(fake, project) == [("Print the base", False)]

    result = await steps.sync(client, project)
    assert result.local_ops == []
    assert result.remote_changes == 1  # only the close
    assert remote(fake, project) == [("Print the base", True)]
    await settle(steps, fake, client, project)


async def test_failure_while_reading_changes_nothing(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A failure before any change returns the old snapshot and no local change."""
    steps = Steps()
    step = steps.add("a")
    await settle(steps, fake, client, project)
    fake.close(steps.state[step].task_id)
    before = dict(steps.state)

    fake.fail(2, status=502)  # the list works, reading the completed task fails
    result = await steps.sync(client, project)
    assert (result.local_ops, result.state, result.remote_changes) == ([], before, 0)
    assert result.interrupted is not None

    result = await sync(client, "no-such-project", steps.items, steps.state, steps.new_id)
    assert result.interrupted is None  # not worth retrying as it is
    assert result.state == before
    assert "Project not found" in result.errors[0]


async def test_rate_limit_stops_and_says_when(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A 429 at the start or part-way stops the sync with ``retry_at``; a retry finishes."""
    steps = Steps()
    steps.add("a")
    steps.add("b")
    fake.rate_limit(1, retry_after=60)
    result = await steps.sync(client, project)
    assert result.retry_at is not None
    assert result.retry_at > datetime.now(UTC) + timedelta(seconds=50)
    assert (result.state, result.remote_changes) == ({}, 0)

    result = await steps.sync(client, project)
    assert (result.retry_at, result.interrupted) == (None, None)
    await settle(steps, fake, client, project)

    steps.add("c")
    steps.add("d")
    fake.rate_limit(1, retry_after=5, nth=3)  # the list, "c" added, then 429 for "d"
    result = await steps.sync(client, project)
    assert result.retry_at is not None
    assert result.remote_changes == 1
    assert "c" in [content for content, _ in remote(fake, project)]
    await settle(steps, fake, client, project)


async def test_auth_error_propagates(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A refused token raises, wherever it happens."""
    steps = Steps()
    steps.add("a")
    fake.tokens.clear()
    with pytest.raises(TodoistAuthError):
        await steps.sync(client, project)
    fake.tokens[TOKEN] = "Ada"
    fake.forbidden.add(TOKEN)
    real = client.tasks

    async def tasks(project_id: str) -> list[Task]:
        fake.forbidden.clear()
        found = await real(project_id)
        fake.forbidden.add(TOKEN)
        return found

    client.tasks = tasks
    with pytest.raises(TodoistAuthError):
        await steps.sync(client, project)


async def test_refused_step_is_reported_and_retried(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A step Todoist refuses (too long) is an error; the others sync; it is tried again."""
    steps = Steps()
    long = steps.add("x" * 501)
    steps.add("fine")
    result = await steps.sync(client, project)
    assert result.errors == [
        f"step {long}: Todoist refused POST /tasks (HTTP 400): Content is too long"
    ]
    assert result.interrupted is None
    assert remote(fake, project) == [("fine", False)]
    assert long not in result.state

    steps.edit(long, text="short now")
    await settle(steps, fake, client, project)


async def test_task_vanishing_mid_sync(
    fake: FakeTodoist, client: TodoistClient, project: str
) -> None:
    """A task deleted between the read and the change is left for the next sync to see."""
    steps = Steps()
    renamed = steps.add("renamed")
    closed = steps.add("closed")
    await settle(steps, fake, client, project)
    steps.edit(renamed, text="renamed again")
    steps.edit(closed, done=True)
    real_list = client.tasks

    async def tasks(project_id: str) -> list[Task]:
        found = await real_list(project_id)
        for pair in steps.state.values():
            fake.delete(pair.task_id)
        return found

    client.tasks = tasks
    result = await steps.sync(client, project)
    del client.tasks
    assert (result.remote_changes, result.errors, result.local_ops) == (0, [], [])
    assert result.state == {}  # both unpaired: their tasks answered 404
    # Both steps changed locally: the next sync recreates their tasks.
    await settle(steps, fake, client, project)
    assert remote(fake, project) == [("renamed again", False), ("closed", True)]


def test_state_json_round_trip_skips_malformed() -> None:
    """The stored snapshot round-trips; malformed entries are dropped, not fatal."""
    state = {"s1": Pair("t1", "a", True), "s2": Pair("t2", "b", False)}
    assert state_from_json(state_to_json(state)) == state
    stored = {
        **state_to_json(state),
        "s3": {"task_id": 3, "text": "c", "done": False},
        "s4": "nonsense",
        "s5": {"task_id": "t5", "text": "e"},
    }
    assert state_from_json(stored) == state
    assert state_from_json(["not", "a", "mapping"]) == {}


def task(
    task_id: str, content: str, checked: bool = False, updated: datetime = T0, order: int = 0
) -> Task:
    """Return a task as the client would."""
    return Task(task_id, content, checked, updated, order)


def test_plan_pairs_existing_tasks_by_text() -> None:
    """Linking steps to a project that has tasks pairs equal texts instead of duplicating."""
    local = {
        "s1": Item("Print the base", True, T0),
        "s2": Item("Wire", False, T0),
        "s3": Item("Wire", False, T0),
    }
    remote_tasks = {
        "t9": task("t9", "Something else", order=1),
        "t1": task("t1", "Print the base", order=2),
        "t2": task("t2", "Wire", order=3),
    }
    ids = iter(["s4"])
    decided = plan(local, {}, remote_tasks, lambda: next(ids))
    assert decided.local_ops == [CreateStep("s4", "Something else", False)]
    assert decided.state == {
        "s1": Pair("t1", "Print the base", False),
        "s2": Pair("t2", "Wire", False),
        "s4": Pair("t9", "Something else", False),
    }
    assert decided.remote == [
        UpdateTask("s1", Pair("t1", "Print the base", False), "Print the base", True),
        CreateTask("s3", "Wire", False),
    ]


def test_plan_ties_and_naive_times_favour_local() -> None:
    """Equal times: the local step wins; naive local times are taken as UTC."""
    state = {"s1": Pair("t1", "a", False), "s2": Pair("t2", "b", False)}
    local = {
        "s1": Item("a local", False, T0),
        "s2": Item("b local", False, T0.replace(tzinfo=None)),
    }
    remote_tasks = {
        "t1": task("t1", "a remote", updated=T0),
        "t2": task("t2", "b remote", updated=T0 + timedelta(seconds=1)),
    }
    decided = plan(local, state, remote_tasks, lambda: "unused")
    assert decided.remote == [UpdateTask("s1", Pair("t1", "a remote", False), "a local", False)]
    assert decided.local_ops == [UpdateStep("s2", "b remote", False)]


def test_plan_deleted_and_missing_tasks() -> None:
    """A deleted task counts as gone; a step gone locally deletes a task that still exists."""
    state = {"s1": Pair("t1", "a", False), "s2": Pair("t2", "b", True)}
    deleted = Task("t1", "a", False, T0, 0, deleted=True)
    decided = plan(
        {"s1": Item("a", False, T0)},
        state,
        {"t1": deleted, "t2": task("t2", "b", True)},
        lambda: "unused",
    )
    assert decided.local_ops == [DeleteStep("s1")]
    assert decided.remote == [DeleteTask("s2", "t2")]
    assert decided.state == {"s2": Pair("t2", "b", True)}  # kept until the delete succeeds
