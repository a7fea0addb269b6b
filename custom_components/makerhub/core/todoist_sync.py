"""Two-way sync between a project's steps and the tasks of a Todoist project.

Pure Python (no Home Assistant imports) and independent of the project model: the caller
passes its steps as :class:`Item` (ordered, by step id), the snapshot of the last sync
(:class:`Pair` per step, stored with :func:`state_to_json`), and gets back the local
changes to apply (:class:`CreateStep`, :class:`UpdateStep`, :class:`DeleteStep`) and the
new snapshot.

It is a three-way merge of each step and its task against their last synced snapshot:

- A change on one side only is copied to the other.
- A change on both sides is merged field by field (text, done): a field only one side
  changed takes that side's value; a field both changed to different values goes to the
  last writer (``Item.updated`` against ``Task.updated``; the local step wins a tie).
- A new step gets a task (closed when the step is done); a new open task gets a step. A
  new step whose text equals an open task nobody is paired with is paired with that task
  instead: this links an existing Todoist project without duplicates, and recovers a task
  whose creation succeeded although its answer was lost.
- A step deleted locally deletes its task. A task deleted in Todoist deletes its step,
  unless the step changed since the last sync: a local edit wins over a remote delete, and
  the task is created again.

Telling a completed task from a deleted one: a paired task missing from the open tasks is
read by id (``GET tasks/{id}``). Whether that answers for completed tasks is not confirmed
(Todoist's SDKs say it returns active tasks only), so a 404 is not taken for a delete: the
sync then reads, once, the tasks of the project completed in the last
:data:`COMPLETED_LOOKBACK` and takes the task from there. Only then does a task that was
open at the last sync count as deleted. A task that was already completed at the last sync
may have been completed long before the lookback, so without a positive sign (an answer
``is_deleted``) it counts as unchanged: its step stays (done). A deletion in Todoist of
a completed task thus reaches its step only when Todoist says so, never by guess. Should
such a step be edited while its task is in fact gone, the call on the task answers 404:
the pair is dropped, and the next sync creates the task again (the local edit wins).

:func:`plan` decides all this from snapshots alone (no I/O); :func:`sync` reads Todoist,
plans, then makes the remote calls one by one, updating the snapshot after each. A network
failure or rate limit stops the remote calls part-way: every call made is in the returned
snapshot and whatever was not made stays a difference the next sync finds again, so no
local change is lost (this includes a failure while reading completed tasks: nothing is
decided then). Local changes decided from remote ones need no call and are always
returned. An auth error propagates. With nothing changed on either side, a sync only
reads: the open tasks, and each paired task that is not open (plus the completed listing
when those reads answer 404).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from .todoist import (
    EPOCH,
    Task,
    TodoistAuthError,
    TodoistConnectionError,
    TodoistError,
    TodoistNotFoundError,
    TodoistRateLimitError,
)

COMPLETED_LOOKBACK: Final = timedelta(days=90)
"""How far back a sync looks for completed tasks that ``GET tasks/{id}`` did not answer."""


@dataclass(frozen=True, slots=True)
class Item:
    """A local step as the sync sees it."""

    text: str
    done: bool
    updated: datetime
    """When the step last changed (for last-writer-wins)."""


@dataclass(frozen=True, slots=True)
class Pair:
    """The last synced snapshot of a step and its task: both sides held these values."""

    task_id: str
    text: str
    done: bool


type SyncState = Mapping[str, Pair]
"""Step id → the snapshot of that step and its task."""


@dataclass(frozen=True, slots=True)
class CreateStep:
    """Add a step (from a new task) at the end."""

    step_id: str
    text: str
    done: bool


@dataclass(frozen=True, slots=True)
class UpdateStep:
    """Set a step's text and done flag (from a task changed in Todoist)."""

    step_id: str
    text: str
    done: bool


@dataclass(frozen=True, slots=True)
class DeleteStep:
    """Remove a step (its task was deleted in Todoist)."""

    step_id: str


type LocalOp = CreateStep | UpdateStep | DeleteStep


@dataclass(frozen=True, slots=True)
class CreateTask:
    """Remote call: create a task for a step (and close it when done)."""

    step_id: str
    text: str
    done: bool


@dataclass(frozen=True, slots=True)
class UpdateTask:
    """Remote call: bring a task from ``current`` to ``text``/``done``."""

    step_id: str
    current: Pair
    text: str
    done: bool


@dataclass(frozen=True, slots=True)
class DeleteTask:
    """Remote call: delete the task of a step deleted locally."""

    step_id: str
    task_id: str


type RemoteOp = CreateTask | UpdateTask | DeleteTask


@dataclass(slots=True)
class Plan:
    """What a sync will do: local ops and snapshot need no call; ``remote`` ops do."""

    local_ops: list[LocalOp] = field(default_factory=list)
    state: dict[str, Pair] = field(default_factory=dict)
    """The snapshot once the local ops are applied, before any remote op."""
    remote: list[RemoteOp] = field(default_factory=list)


@dataclass(slots=True)
class SyncResult:
    """The outcome of one sync: apply ``local_ops``, then store ``state``.

    A :class:`CreateStep` the caller cannot apply must also leave ``state`` (drop its step
    id), or the next sync would take the missing step for a deleted one and delete the
    task. An update or delete not applied needs nothing: the next sync sees the difference.
    """

    local_ops: list[LocalOp]
    state: dict[str, Pair]
    remote_changes: int = 0
    """Remote calls that changed something and succeeded."""
    errors: list[str] = field(default_factory=list)
    interrupted: TodoistError | None = None
    """The network or rate-limit error that stopped the sync part-way, if any."""

    @property
    def retry_at(self) -> datetime | None:
        """When Todoist said to come back, after a rate limit."""
        if isinstance(self.interrupted, TodoistRateLimitError):
            return self.interrupted.retry_at
        return None


class TodoistApi(Protocol):
    """The part of :class:`~.todoist.TodoistClient` the sync uses."""

    async def tasks(self, project_id: str) -> list[Task]:
        """Return the open tasks of a project."""

    async def task(self, task_id: str) -> Task | None:
        """Return a task (open, maybe completed, maybe flagged deleted); None on a 404."""

    async def completed_tasks(
        self, project_id: str, since: datetime, until: datetime
    ) -> list[Task]:
        """Return the project's tasks completed between ``since`` and ``until``."""

    async def add_task(self, project_id: str, content: str) -> Task:
        """Create a task."""

    async def rename_task(self, task_id: str, content: str) -> Task | None:
        """Change a task's content; None when gone."""

    async def close_task(self, task_id: str) -> None:
        """Complete a task."""

    async def reopen_task(self, task_id: str) -> None:
        """Uncomplete a task."""

    async def delete_task(self, task_id: str) -> None:
        """Delete a task."""


_RETRY_LATER = (TodoistConnectionError, TodoistRateLimitError)


def state_to_json(state: SyncState) -> dict[str, dict[str, Any]]:
    """Return the stored form of a snapshot."""
    return {
        step_id: {"task_id": pair.task_id, "text": pair.text, "done": pair.done}
        for step_id, pair in state.items()
    }


def state_from_json(data: Any) -> dict[str, Pair]:
    """Return a snapshot from its stored form, skipping malformed entries.

    A skipped entry only makes its step look new: the next sync pairs it again with the
    task of the same text.
    """
    state: dict[str, Pair] = {}
    if not isinstance(data, Mapping):
        return state
    for step_id, raw in data.items():
        if (
            isinstance(step_id, str)
            and isinstance(raw, Mapping)
            and isinstance(raw.get("task_id"), str)
            and isinstance(raw.get("text"), str)
            and isinstance(raw.get("done"), bool)
        ):
            state[step_id] = Pair(raw["task_id"], raw["text"], raw["done"])
    return state


def plan(
    local: Mapping[str, Item],
    state: SyncState,
    remote: Mapping[str, Task | None],
    new_id: Callable[[], str],
) -> Plan:
    """Decide a sync from snapshots alone.

    ``remote`` holds every open task of the project and, for each paired task that is not
    open, the task as found (completed, or flagged deleted) or None (deleted).
    """
    result = Plan()
    paired = {pair.task_id for pair in state.values()}
    unknown = [
        task
        for task in sorted((t for t in remote.values() if t is not None), key=_order)
        if task.id not in paired and not task.checked and not task.deleted
    ]
    for step_id, pair in state.items():
        item = local.get(step_id)
        task = remote.get(pair.task_id)
        if task is not None and task.deleted:
            task = None
        if item is None:
            if task is not None:
                result.state[step_id] = pair  # dropped once the task is deleted
                result.remote.append(DeleteTask(step_id, pair.task_id))
        elif task is None:
            if (item.text, item.done) == (pair.text, pair.done):
                result.local_ops.append(DeleteStep(step_id))
            else:  # a local edit wins over a remote delete
                result.remote.append(CreateTask(step_id, item.text, item.done))
        else:
            _merge(result, step_id, item, pair, task)
    for step_id, item in local.items():
        if step_id in state:
            continue
        match = next((task for task in unknown if task.content == item.text), None)
        if match is None:
            result.remote.append(CreateTask(step_id, item.text, item.done))
            continue
        unknown.remove(match)
        current = Pair(match.id, match.content, match.checked)
        result.state[step_id] = current
        if item.done != match.checked:
            result.remote.append(UpdateTask(step_id, current, item.text, item.done))
    for task in unknown:
        step_id = new_id()
        result.local_ops.append(CreateStep(step_id, task.content, task.checked))
        result.state[step_id] = Pair(task.id, task.content, task.checked)
    return result


def _order(task: Task) -> int:
    return task.order


def _merge(result: Plan, step_id: str, item: Item, pair: Pair, task: Task) -> None:
    """Three-way merge of one paired step and task into ``result``."""
    local_newer = _utc(item.updated) >= _utc(task.updated)
    text = _pick(pair.text, item.text, task.content, local_newer)
    done = _pick(pair.done, item.done, task.checked, local_newer)
    current = Pair(task.id, task.content, task.checked)
    result.state[step_id] = current
    if (item.text, item.done) != (text, done):
        result.local_ops.append(UpdateStep(step_id, text, done))
    if (task.content, task.checked) != (text, done):
        result.remote.append(UpdateTask(step_id, current, text, done))


def _pick[T](base: T, mine: T, theirs: T, mine_newer: bool) -> T:
    """Three-way merge of one value: the side that changed it, or the newer one if both."""
    if mine == base:
        return theirs
    if theirs in (base, mine):
        return mine
    return mine if mine_newer else theirs


def _utc(when: datetime) -> datetime:
    """Return an aware datetime (naive ones are taken as UTC)."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


async def sync(
    client: TodoistApi,
    project_id: str,
    local: Mapping[str, Item],
    state: SyncState,
    new_id: Callable[[], str],
) -> SyncResult:
    """Sync the steps ``local`` with the tasks of ``project_id``, from snapshot ``state``.

    Raises :class:`~.todoist.TodoistAuthError` when the token is refused; any other
    failure is reported in the result.
    """
    try:
        remote = await _read(client, project_id, state)
    except TodoistAuthError:
        raise
    except TodoistError as err:
        stopped = err if isinstance(err, _RETRY_LATER) else None
        return SyncResult([], dict(state), errors=[str(err)], interrupted=stopped)
    decided = plan(local, state, remote, new_id)
    result = SyncResult(decided.local_ops, decided.state)
    for op in decided.remote:
        try:
            await _apply(client, project_id, op, result)
        except TodoistAuthError:
            raise
        except _RETRY_LATER as err:
            result.errors.append(str(err))
            result.interrupted = err
            break
        except TodoistNotFoundError:
            # The task is gone (deleted meanwhile, or before, when only taken for completed):
            # unpaired, the step is new to the next sync, which gives it a task again.
            result.state.pop(op.step_id, None)
        except TodoistError as err:
            result.errors.append(f"step {op.step_id}: {err}")
    return result


async def _read(client: TodoistApi, project_id: str, state: SyncState) -> dict[str, Task | None]:
    """Return the open tasks and, for each paired task that is not open, what became of it.

    ``GET tasks/{id}`` first; on a 404 the tasks completed lately (read once, when first
    needed); else None (deleted) for a task open at the last sync, and the snapshot itself
    (unchanged) for one already completed then.
    """
    remote: dict[str, Task | None] = {t.id: t for t in await client.tasks(project_id)}
    completed: dict[str, Task] | None = None
    for pair in state.values():
        if pair.task_id in remote:
            continue
        task = await client.task(pair.task_id)
        if task is None:
            if completed is None:
                until = datetime.now(UTC)
                found = await client.completed_tasks(project_id, until - COMPLETED_LOOKBACK, until)
                completed = {t.id: t for t in found}
            task = completed.get(pair.task_id)
        if task is None and pair.done:
            # Completed before the lookback, or deleted since: it cannot be told, so
            # nothing is deleted on a guess.
            task = Task(pair.task_id, pair.text, checked=True, updated=EPOCH, order=0)
        remote[pair.task_id] = task
    return remote


async def _apply(client: TodoistApi, project_id: str, op: RemoteOp, result: SyncResult) -> None:
    """Make the calls of one remote op, recording the snapshot after each success."""
    state = result.state
    if isinstance(op, DeleteTask):
        await client.delete_task(op.task_id)
        result.remote_changes += 1
        state.pop(op.step_id, None)
        return
    if isinstance(op, CreateTask):
        task = await client.add_task(project_id, op.text)
        result.remote_changes += 1
        # The text sent, not the one stored: should Todoist store it differently, the next
        # sync copies its version to the step instead of renaming the task again.
        current = state[op.step_id] = Pair(task.id, op.text, task.checked)
    else:
        current = op.current
    task_id = current.task_id
    if current.done and not op.done:
        await client.reopen_task(task_id)
        result.remote_changes += 1
        current = state[op.step_id] = Pair(task_id, current.text, False)
    if current.text != op.text:
        renamed = await client.rename_task(task_id, op.text)
        if renamed is None:
            state.pop(op.step_id, None)  # gone: see the TodoistNotFoundError in sync()
            return
        result.remote_changes += 1
        current = state[op.step_id] = Pair(task_id, op.text, current.done)
    if op.done and not current.done:
        await client.close_task(task_id)
        result.remote_changes += 1
        state[op.step_id] = Pair(task_id, current.text, True)
