"""The project model: creation, changes, steps, expenses, validation and storage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from custom_components.makerhub.core.projects import (
    ProjectNotFoundError,
    ProjectRegistry,
    ProjectStatus,
    ProjectValidationError,
    slugify,
)

OWNER = "user-alice"
HTTPS = "must be an https:// URL"
RANGE = "must be more than 0 and less than 1,000,000,000"
DATE = "must be a date like 2026-11-30"


def errors_of(call: Any) -> dict[str, str]:
    """Return the field errors a call raises."""
    with pytest.raises(ProjectValidationError) as err:
        call()
    return err.value.errors


def test_create_with_steps_and_unique_slugs() -> None:
    registry = ProjectRegistry()
    project = registry.create(
        {
            "name": "  Robot arm v2 ",
            "description": "A six-axis arm",
            "space_use": "3D printer, soldering bench",
            "github_url": "https://github.com/alice/robot-arm",
            "steps": ["Print the base", " ", "Wire the servos"],
        },
        OWNER,
    )
    assert project.name == "Robot arm v2"
    assert project.slug == "robot-arm-v2"
    assert [s.text for s in project.steps] == ["Print the base", "Wire the servos"]
    assert project.status is ProjectStatus.ACTIVE
    assert project.owner == OWNER
    again = registry.create({"name": "Robot ARM v2"}, "user-bob")
    assert again.slug == "robot-arm-v2-2"
    assert slugify("!!!") == "project"
    assert [p.id for p in registry.find()] == [again.id, project.id]
    assert registry.find(owner=OWNER) == [project]
    assert registry.find(status="archived") == []
    assert len(registry) == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, {"name": "required"}),
        ({"name": "  "}, {"name": "must not be empty"}),
        ({"name": 5}, {"name": "must be a string"}),
        ({"name": "x" * 101}, {"name": "at most 100 characters"}),
        ({"name": "x", "colour": "red"}, {"colour": "unknown field"}),
        ({"name": "x", "status": "done"}, {"status": "one of active, paused, archived"}),
        (
            {"name": "x", "github_url": "http://github.com/a"},
            {"github_url": "must be an https:// URL"},
        ),
        ({"name": "x", "steps": "one"}, {"steps": "must be a list of texts"}),
        ({"name": "x", "steps": ["s"] * 501}, {"steps": "at most 500 steps"}),
        ({"name": "x", "steps": ["s" * 2001]}, {"steps": "each step at most 2000 characters"}),
    ],
)
def test_create_refuses_with_field_errors(data: dict[str, Any], expected: dict[str, str]) -> None:
    registry = ProjectRegistry()
    assert errors_of(lambda: registry.create(data, OWNER)) == expected
    assert len(registry) == 0


def test_update_archive_delete() -> None:
    registry = ProjectRegistry()
    project = registry.create({"name": "Lamp"}, OWNER)
    changed = registry.update(
        project.id, {"description": "Desk lamp", "status": "paused", "todoist_project_id": "42"}
    )
    assert changed.description == "Desk lamp"
    assert changed.status is ProjectStatus.PAUSED
    assert changed.todoist_project_id == "42"
    assert changed.name == "Lamp"
    assert changed.updated >= project.updated
    renamed = registry.update(project.id, {"name": "Desk lamp", "github_url": ""})
    assert renamed.name == "Desk lamp"
    assert renamed.github_url is None
    assert errors_of(lambda: registry.update(project.id, {"name": ""})) == {
        "name": "must not be empty"
    }
    assert errors_of(lambda: registry.update(project.id, {"steps": []})) == {
        "steps": "unknown field"
    }
    assert registry.archive(project.id).status is ProjectStatus.ARCHIVED
    assert registry.delete(project.id).id == project.id
    with pytest.raises(ProjectNotFoundError):
        registry.get(project.id)
    assert errors_of(lambda: registry.find(status="gone")) == {
        "status": "one of active, paused, archived"
    }
    assert errors_of(lambda: registry.create([], OWNER)) == {"body": "must be a JSON object"}  # type: ignore[arg-type]


def test_steps() -> None:
    registry = ProjectRegistry()
    project = registry.create({"name": "Clock", "steps": ["a", "b"]}, OWNER)
    project = registry.add_step(project.id, "c")
    project = registry.add_step(project.id, "first", position=0)
    assert [s.text for s in project.steps] == ["first", "a", "b", "c"]
    first, a, b, c = (s.id for s in project.steps)
    project = registry.complete_step(project.id, a)
    assert [s.done for s in project.steps] == [False, True, False, False]
    project = registry.edit_step(project.id, b, text="B", done=True)
    assert project.steps[2].text == "B"
    assert project.steps[2].done is True
    project = registry.move_step(project.id, c, 0)
    assert [s.id for s in project.steps] == [c, first, a, b]
    project = registry.reorder_steps(project.id, [a, b, c, first])
    assert [s.id for s in project.steps] == [a, b, c, first]
    project = registry.remove_step(project.id, first)
    assert len(project.steps) == 3
    assert errors_of(lambda: registry.add_step(project.id, "")) == {"text": "must not be empty"}
    assert errors_of(lambda: registry.add_step(project.id, "x", position=-1)) == {
        "position": "must be a whole number from 0"
    }
    assert errors_of(lambda: registry.edit_step(project.id, a, done="yes")) == {
        "done": "must be true or false"
    }
    assert errors_of(lambda: registry.reorder_steps(project.id, [a, a, b])) == {
        "order": "must list every step id exactly once"
    }
    assert errors_of(lambda: registry.move_step(project.id, a, "top")) == {
        "position": "must be a whole number from 0"
    }
    with pytest.raises(ProjectNotFoundError):
        registry.complete_step(project.id, "nope")


def test_step_limit() -> None:
    registry = ProjectRegistry()
    project = registry.create({"name": "Big", "steps": ["s"] * 500}, OWNER)
    assert errors_of(lambda: registry.add_step(project.id, "one more")) == {
        "steps": "at most 500 steps"
    }


def test_expenses_and_costs() -> None:
    registry = ProjectRegistry()
    project = registry.create({"name": "Drone"}, OWNER)
    today = date(2026, 11, 30)
    project, motor = registry.add_expense(
        project.id, {"amount": "19.99", "currency": "EUR", "note": "motors"}, today=today
    )
    assert motor.date == today
    assert motor.amount == Decimal("19.99")
    project, frame = registry.add_expense(
        project.id, {"amount": 5, "currency": "EUR", "date": "2026-10-02"}, today=today
    )
    project, _ = registry.add_expense(project.id, {"amount": 3.5, "currency": "USD"}, today=today)
    assert project.total_cost() == {"EUR": Decimal("24.99"), "USD": Decimal("3.5")}
    assert project.total_cost("EUR") == {"EUR": Decimal("24.99")}
    assert project.month_cost(2026, 11) == {"EUR": Decimal("19.99"), "USD": Decimal("3.5")}
    assert frame.to_json()["date"] == "2026-10-02"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"currency": "EUR"}, {"amount": "required"}),
        ({"amount": True, "currency": "EUR"}, {"amount": "must be a number"}),
        ({"amount": "ten", "currency": "EUR"}, {"amount": "must be a number"}),
        (
            {"amount": -1, "currency": "EUR"},
            {"amount": "must be more than 0 and less than 1,000,000,000"},
        ),
        (
            {"amount": "NaN", "currency": "EUR"},
            {"amount": "must be more than 0 and less than 1,000,000,000"},
        ),
        ({"amount": "1.234", "currency": "EUR"}, {"amount": "at most 2 decimals"}),
        ({"amount": 1, "currency": "eur"}, {"currency": "an ISO 4217 code such as EUR"}),
        ({"amount": 1}, {"currency": "required"}),
        (
            {"amount": 1, "currency": "EUR", "date": "yesterday"},
            {"date": "must be a date like 2026-11-30"},
        ),
        ({"amount": 1, "currency": "EUR", "vat": 1}, {"vat": "unknown field"}),
    ],
)
def test_expense_refused(data: dict[str, Any], expected: dict[str, str]) -> None:
    registry = ProjectRegistry()
    project = registry.create({"name": "Drone"}, OWNER)
    assert errors_of(lambda: registry.add_expense(project.id, data)) == expected
    assert registry.get(project.id).expenses == ()


def test_storage_round_trip() -> None:
    registry = ProjectRegistry()
    project = registry.create({"name": "Clock", "steps": ["a"]}, OWNER)
    registry.complete_step(project.id, project.steps[0].id)
    registry.add_expense(project.id, {"amount": "2.50", "currency": "EUR"})
    again = ProjectRegistry.from_json(registry.to_json())
    assert again.get(project.id) == registry.get(project.id)
    assert len(ProjectRegistry.from_json(None)) == 0


def test_steps_keep_when_they_were_completed(freezer: Any) -> None:
    """Done stamps ``completed``; a text edit keeps it; undone clears it; a synced step
    added done is completed when added; the stored form keeps it."""
    freezer.move_to("2026-12-07T10:00:00+00:00")
    registry = ProjectRegistry()
    project = registry.create({"name": "Clock", "steps": ["Cut"]}, "u1")
    step = project.steps[0]
    assert step.completed is None
    freezer.move_to("2026-12-08T09:00:00+00:00")
    done = registry.complete_step(project.id, step.id).steps[0]
    assert done.completed is not None
    assert done.completed.isoformat() == "2026-12-08T09:00:00+00:00"
    freezer.move_to("2026-12-09T09:00:00+00:00")
    renamed = registry.edit_step(project.id, step.id, text="Cut the case").steps[0]
    assert renamed.completed == done.completed
    again = registry.edit_step(project.id, step.id, done=True).steps[0]
    assert again.completed == done.completed  # already done: still when it was done
    assert registry.edit_step(project.id, step.id, done=False).steps[0].completed is None
    synced = registry.add_step(project.id, "Paint", step_id="s2", done=True).steps[-1]
    assert synced.completed is not None
    assert synced.completed.isoformat() == "2026-12-09T09:00:00+00:00"

    stored = registry.to_json()
    assert stored["projects"][0]["steps"][1]["completed"] == "2026-12-09T09:00:00+00:00"
    restored = ProjectRegistry.from_json(stored).get(project.id)
    assert restored.steps[1].completed == synced.completed
    # A step stored before completion times were kept has none.
    del stored["projects"][0]["steps"][1]["completed"]
    assert ProjectRegistry.from_json(stored).get(project.id).steps[1].completed is None


def test_projects_keep_when_they_were_finished(freezer: Any) -> None:
    """Archiving stamps ``finished`` once; making it active again clears it."""
    freezer.move_to("2026-12-07T10:00:00+00:00")
    registry = ProjectRegistry()
    project = registry.create({"name": "Clock"}, "u1")
    assert project.finished is None
    freezer.move_to("2026-12-20T10:00:00+00:00")
    archived = registry.archive(project.id)
    assert archived.finished is not None
    assert archived.finished.isoformat() == "2026-12-20T10:00:00+00:00"
    freezer.move_to("2026-12-21T10:00:00+00:00")
    assert registry.update(project.id, {"description": "Done"}).finished == archived.finished
    restored = ProjectRegistry.from_json(registry.to_json()).get(project.id)
    assert restored.finished == archived.finished
    assert registry.update(project.id, {"status": "active"}).finished is None
    assert registry.to_json()["projects"][0]["finished"] is None
