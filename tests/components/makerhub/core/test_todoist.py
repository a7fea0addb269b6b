"""The Todoist API v1 client against a fake Todoist over real HTTP: every call and error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from custom_components.makerhub.core.todoist import (
    EPOCH,
    Task,
    TodoistAuthError,
    TodoistClient,
    TodoistConnectionError,
    TodoistError,
    TodoistNotFoundError,
    TodoistRateLimitError,
    _retry_at,
)
from dev.processes.ports import free_port
from tests.helpers.fake_todoist import TOKEN, USER, FakeTodoist

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


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
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session, closed at the end."""
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def client(fake: FakeTodoist, session: aiohttp.ClientSession) -> TodoistClient:
    """A client of the fake with a valid token."""
    return TodoistClient(session, TOKEN, fake.url)


async def test_user_name_validates_the_token(
    fake: FakeTodoist, session: aiohttp.ClientSession, client: TodoistClient
) -> None:
    """A good token names its user; a wrong one is 401, a forbidden one 403, neither shown."""
    assert await client.user_name() == USER
    assert fake.requests[-1].path == "/user"
    assert TOKEN not in repr(client)

    with pytest.raises(TodoistAuthError) as caught:
        await TodoistClient(session, "wrong-token-42", fake.url).user_name()
    assert caught.value.status == 401
    assert "Invalid token" in str(caught.value)
    assert "wrong-token-42" not in str(caught.value)

    fake.forbidden.add(TOKEN)
    with pytest.raises(TodoistAuthError) as caught:
        await client.user_name()
    assert caught.value.status == 403
    assert TOKEN not in str(caught.value)


async def test_create_project(fake: FakeTodoist, client: TodoistClient) -> None:
    """POST /projects returns the new id; a refused name raises with the API's text."""
    project_id = await client.create_project("Robot arm")
    assert fake.projects == {project_id: "Robot arm"}
    assert fake.requests[-1].body == {"name": "Robot arm"}
    with pytest.raises(TodoistError) as caught:
        await client.create_project(" ")
    assert type(caught.value) is TodoistError
    assert caught.value.status == 400
    assert "Required argument is missing: name" in str(caught.value)


async def test_tasks_follow_every_page(fake: FakeTodoist, client: TodoistClient) -> None:
    """All open tasks over several pages, in order; completed and deleted ones left out."""
    project = fake.add_project("P")
    other = fake.add_project("Other")
    tasks = [fake.add_task(project, f"step {i}", at=AT + timedelta(minutes=i)) for i in range(6)]
    fake.add_task(other, "elsewhere")
    fake.close(tasks[1].id)
    fake.delete(tasks[4].id)
    fake.requests.clear()

    found = await client.tasks(project)
    assert [t.content for t in found] == ["step 0", "step 2", "step 3", "step 5"]
    assert found[0] == Task(tasks[0].id, "step 0", checked=False, updated=AT, order=1)
    assert [r.query.get("cursor") for r in fake.requests] == [None, "c2"]
    assert all(r.query["project_id"] == project for r in fake.requests)
    assert all(r.query["limit"] == "200" for r in fake.requests)
    assert await client.tasks(fake.add_project("Empty")) == []

    with pytest.raises(TodoistNotFoundError, match="Project not found"):
        await client.tasks("no-such-project")


async def test_small_pages_asked_for(fake: FakeTodoist, session: aiohttp.ClientSession) -> None:
    """``page_size`` is the ``limit`` sent."""
    project = fake.add_project("P")
    for i in range(3):
        fake.add_task(project, f"step {i}")
    client = TodoistClient(session, TOKEN, fake.url + "/", page_size=1)
    assert len(await client.tasks(project)) == 3
    assert [r.query["limit"] for r in fake.requests] == ["1", "1", "1"]


async def test_task_open_completed_deleted(fake: FakeTodoist, client: TodoistClient) -> None:
    """GET /tasks/{id}: an open task, a completed one (checked), None when deleted or unknown."""
    project = fake.add_project("P")
    open_task = fake.add_task(project, "open", at=AT)
    done = fake.add_task(project, "done", at=AT)
    fake.close(done.id, at=AT + timedelta(hours=1))
    gone = fake.add_task(project, "gone")
    fake.delete(gone.id)

    assert await client.task(open_task.id) == Task(open_task.id, "open", False, AT, 1)
    completed = await client.task(done.id)
    assert completed is not None
    assert completed.checked
    assert completed.updated == AT + timedelta(hours=1)
    assert await client.task(gone.id) is None
    assert await client.task("t999999") is None

    # As Todoist's SDKs document it: only active tasks answer, a completed one is a 404.
    fake.get_returns_completed = False
    assert await client.task(done.id) is None
    assert await client.task(open_task.id) is not None

    # Should Todoist answer a deleted task rather than 404, it says so.
    fake.reply(1, 200, f'{{"id": "{gone.id}", "content": "gone", "is_deleted": true}}')
    flagged = await client.task(gone.id)
    assert flagged is not None
    assert flagged.deleted


async def test_completed_tasks_windows_and_pages(
    fake: FakeTodoist, session: aiohttp.ClientSession, client: TodoistClient
) -> None:
    """Completed tasks of a project: long windows split, every page, each task once."""
    project = fake.add_project("P")
    other = fake.add_project("Other")

    def completed(content: str, ago: timedelta, project_id: str = project) -> str:
        task = fake.add_task(project_id, content, at=AT - timedelta(days=200))
        fake.close(task.id, at=AT - ago)
        return task.id

    recent = [completed(f"recent {i}", timedelta(hours=i + 1)) for i in range(3)]
    boundary = completed("on the boundary", timedelta(days=50))
    completed("too old", timedelta(days=100))
    completed("elsewhere", timedelta(days=1), other)
    fake.delete(completed("deleted", timedelta(days=1)))
    fake.reopen(completed("reopened", timedelta(days=1)), at=AT)
    fake.add_task(project, "open")
    fake.requests.clear()

    found = await client.completed_tasks(project, AT - timedelta(days=95), AT)
    assert sorted(t.id for t in found) == sorted([*recent, boundary])
    assert all(t.checked and not t.deleted for t in found)
    assert next(t for t in found if t.id == recent[0]).updated == AT - timedelta(hours=1)

    def stamp(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    # 95 days: windows of at most 45 days (the API allows about 3 months); pages of two.
    assert [(r.query["since"], r.query["until"], r.query.get("cursor")) for r in fake.requests] == [
        (stamp(AT - timedelta(days=95)), stamp(AT - timedelta(days=50)), None),
        (stamp(AT - timedelta(days=50)), stamp(AT - timedelta(days=5)), None),
        (stamp(AT - timedelta(days=5)), stamp(AT), None),
        (stamp(AT - timedelta(days=5)), stamp(AT), "c2"),
    ]
    assert {r.path for r in fake.requests} == {"/tasks/completed/by_completion_date"}
    assert all(r.query["project_id"] == project for r in fake.requests)
    assert all(r.query["limit"] == "200" for r in fake.requests)

    # Naive times are UTC; the end of a window is rounded up to the second, its start down.
    fake.requests.clear()
    since = (AT - timedelta(minutes=90, microseconds=5)).replace(tzinfo=None)
    found = await client.completed_tasks(project, since, AT + timedelta(microseconds=1))
    assert [t.id for t in found] == [recent[0]]
    assert fake.requests[0].query["since"] == stamp(AT - timedelta(minutes=90, seconds=1))
    assert fake.requests[0].query["until"] == stamp(AT + timedelta(seconds=1))

    # An empty window asks nothing; an unknown project is a 404.
    fake.requests.clear()
    assert await client.completed_tasks(project, AT, AT - timedelta(days=1)) == []
    assert fake.requests == []
    with pytest.raises(TodoistNotFoundError, match="Project not found"):
        await client.completed_tasks("no-such-project", AT - timedelta(days=1), AT)

    # The fake, like Todoist, refuses a window of more than about 3 months.
    async with session.get(
        f"{fake.url}/tasks/completed/by_completion_date",
        params={"since": stamp(AT - timedelta(days=91)), "until": stamp(AT)},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 400


async def test_completed_items_odd_shapes(fake: FakeTodoist, client: TodoistClient) -> None:
    """A completed item is checked whatever it says; ``task_id`` names the task; deleted flagged."""
    project = fake.add_project("P")
    fake.reply(
        1,
        200,
        '{"items": [{"id": "e1", "task_id": "7", "content": "x"},'
        ' {"id": "8", "content": "y", "checked": true, "is_deleted": true}],'
        ' "next_cursor": null}',
    )
    assert await client.completed_tasks(project, AT, AT) == [
        Task("7", "x", True, EPOCH, 0),
        Task("8", "y", True, EPOCH, 0, deleted=True),
    ]


async def test_add_rename_close_reopen_delete(fake: FakeTodoist, client: TodoistClient) -> None:
    """Each change reaches the fake and moves ``updated`` forward."""
    project = fake.add_project("P")
    task = await client.add_task(project, "Print the base")
    assert fake.requests[-1].body == {"content": "Print the base", "project_id": project}
    assert (task.content, task.checked, task.order) == ("Print the base", False, 1)

    renamed = await client.rename_task(task.id, "Print the base plate")
    assert renamed is not None
    assert renamed.content == fake.tasks[task.id].content == "Print the base plate"
    assert renamed.updated > task.updated

    await client.close_task(task.id)
    assert fake.tasks[task.id].checked
    assert fake.requests[-1].status == 204
    await client.reopen_task(task.id)
    assert not fake.tasks[task.id].checked

    await client.delete_task(task.id)
    assert fake.tasks[task.id].is_deleted
    await client.delete_task(task.id)  # already gone: fine
    assert fake.requests[-1].status == 404
    assert await client.rename_task(task.id, "again") is None
    with pytest.raises(TodoistNotFoundError, match="Task not found"):
        await client.close_task(task.id)
    with pytest.raises(TodoistNotFoundError):
        await client.reopen_task(task.id)
    with pytest.raises(TodoistError, match="Content is too long"):
        await client.add_task(project, "x" * 501)


@pytest.mark.parametrize("in_body", [False, True])
async def test_rate_limit(fake: FakeTodoist, client: TodoistClient, in_body: bool) -> None:
    """429 raises TodoistRateLimitError with when to retry, from the header or the body."""
    fake.rate_limit(1, retry_after=30, in_body=in_body)
    before = datetime.now(UTC)
    with pytest.raises(TodoistRateLimitError) as caught:
        await client.user_name()
    assert caught.value.status == 429
    assert "Too many requests" in str(caught.value)
    retry_at = caught.value.retry_at
    assert retry_at is not None
    assert before + timedelta(seconds=29) < retry_at < datetime.now(UTC) + timedelta(seconds=31)
    assert await client.user_name() == USER

    fake.rate_limit(1, retry_after=None)
    with pytest.raises(TodoistRateLimitError) as caught:
        await client.user_name()
    assert caught.value.retry_at is None


def test_retry_after_forms() -> None:
    """Retry-After as seconds or an HTTP date; nonsense is ignored."""
    when = _retry_at("Mon, 30 Nov 2026 12:00:00 GMT", {})
    assert when == AT
    assert _retry_at("garbage", {"retry_after": "also garbage"}) is None
    assert _retry_at("", {"retry_after": [1]}) is None
    soon = _retry_at(None, {"retry_after": -5})
    assert soon is not None
    assert soon <= datetime.now(UTC)
    naive = _retry_at("Mon, 30 Nov 2026 12:00:00 -0000", {})
    assert naive == AT


async def test_server_errors_and_drops_are_retryable(
    fake: FakeTodoist, client: TodoistClient
) -> None:
    """A 5xx or a dropped connection raises TodoistConnectionError; the next call works."""
    project = fake.add_project("P")
    fake.fail(1, status=503)
    with pytest.raises(TodoistConnectionError) as caught:
        await client.add_task(project, "a")
    assert caught.value.status == 503
    assert "Service unavailable" in str(caught.value)
    assert fake.live(project) == []

    fake.fail(1, drop=True)
    with pytest.raises(TodoistConnectionError, match="cannot reach Todoist for POST /tasks"):
        await client.add_task(project, "b")
    assert fake.live(project) == []

    fake.fail(1, drop=True, after=True)  # made, but the answer is lost
    with pytest.raises(TodoistConnectionError):
        await client.add_task(project, "c")
    assert [t.content for t in fake.live(project)] == ["c"]

    fake.fail(1, drop=True)  # aiohttp retries a GET once on a dropped keep-alive connection
    assert await client.tasks(project) != []
    fake.fail(1, drop=True, times=2)
    with pytest.raises(TodoistConnectionError):
        await client.tasks(project)
    assert [r.status for r in fake.requests[-2:]] == [0, 0]


async def test_timeout_and_unreachable(
    fake: FakeTodoist, session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    """A slow answer times out; a closed port cannot be reached: both retryable."""
    client = TodoistClient(session, TOKEN, fake.url, timeout=0.2)
    fake.slow(1, seconds=1.0)
    with pytest.raises(TodoistConnectionError, match=r"did not answer GET /user within 0\.2 s"):
        await client.user_name()

    nowhere = TodoistClient(session, TOKEN, f"http://127.0.0.1:{free_port()}/api/v1")
    with pytest.raises(TodoistConnectionError) as caught:
        await nowhere.user_name()
    assert "cannot reach Todoist for GET /user" in str(caught.value)
    assert caught.value.status is None


async def test_odd_answers(fake: FakeTodoist, client: TodoistClient) -> None:
    """Bodies that are not what the API promises raise TodoistError, never crash."""
    project = fake.add_project("P")
    cases = [
        (client.user_name, 200, "[]", "unexpected answer from Todoist to GET /user"),
        (lambda: client.create_project("x"), 200, "{}", "to POST /projects"),
        (lambda: client.tasks(project), 200, '{"results": 3}', "to GET /tasks"),
        (lambda: client.task("t1"), 200, "[1]", "to GET /tasks/t1"),
        (
            lambda: client.completed_tasks(project, AT, AT),
            200,
            '{"results": []}',
            "to GET /tasks/completed/by_completion_date",
        ),
        (
            lambda: client.completed_tasks(project, AT, AT),
            200,
            '{"items": [1]}',
            "to GET /tasks/completed/by_completion_date",
        ),
        (lambda: client.add_task(project, "x"), 200, "not json", "invalid JSON"),
        (lambda: client.add_task(project, "x"), 200, "", "to POST /tasks"),
        (lambda: client.task("t1"), 200, '{"content": "no id"}', "unexpected task"),
        (
            lambda: client.task("t1"),
            200,
            '{"id": "t1", "content": "x", "added_at": "soon"}',
            "unexpected task",
        ),
        (client.user_name, 418, "I'm a teapot", "HTTP 418): I'm a teapot"),
        (client.user_name, 400, "", "HTTP 400): no details"),
        (client.user_name, 400, '{"error_tag": "ODD"}', "HTTP 400): ODD"),
        (client.user_name, 400, '{"error": 5}', 'HTTP 400): {"error": 5}'),
        (client.user_name, 400, f'{{"error": "bad {TOKEN}"}}', "HTTP 400): bad ***"),
    ]
    for call, status, body, fragment in cases:
        fake.reply(1, status, body)
        with pytest.raises(TodoistError) as caught:
            await call()
        assert fragment in str(caught.value)
        assert TOKEN not in str(caught.value)


async def test_repeated_cursor_stops(fake: FakeTodoist, client: TodoistClient) -> None:
    """A server repeating a cursor cannot make the client loop forever."""
    project = fake.add_project("P")
    page = '{"results": [], "next_cursor": "again"}'
    fake.reply(1, 200, page)
    fake.reply(2, 200, page)
    with pytest.raises(TodoistError, match="repeated a page cursor of GET /tasks"):
        await client.tasks(project)
    page = '{"items": [], "next_cursor": 5}'
    fake.reply(1, 200, page)
    fake.reply(2, 200, page)
    with pytest.raises(TodoistError, match="cursor of GET /tasks/completed/by_completion_date"):
        await client.completed_tasks(project, AT, AT)


async def test_list_skips_closed_and_deleted(fake: FakeTodoist, client: TodoistClient) -> None:
    """Should the list endpoint ever include completed or deleted tasks, they are left out."""
    project = fake.add_project("P")
    fake.reply(
        1,
        200,
        '{"results": [{"id": "1", "content": "a", "checked": true},'
        ' {"id": "2", "content": "b", "is_deleted": true}, {"id": "3", "content": "c"}],'
        ' "next_cursor": null}',
    )
    assert [t.id for t in await client.tasks(project)] == ["3"]


def test_task_timestamps() -> None:
    """``updated`` falls back to completed_at, then added_at, then the epoch; naive is UTC."""
    base = {"id": 7, "content": "x"}
    assert Task.from_json(base) == Task("7", "x", False, EPOCH, 0)
    assert Task.from_json({**base, "added_at": "2026-11-30T12:00:00"}).updated == AT
    completed = Task.from_json(
        {**base, "added_at": "2026-01-01T00:00:00Z", "completed_at": "2026-11-30T13:00:00+01:00"}
    )
    assert completed.updated == AT
    assert completed.updated.tzinfo is UTC
    deleted = Task.from_json({**base, "is_deleted": True, "child_order": 3})
    assert (deleted.deleted, deleted.order) == (True, 3)
