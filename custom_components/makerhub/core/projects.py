"""Maker projects: what a project is, its steps and costs, and the rules for changing them.

Pure Python (no Home Assistant imports). :class:`ProjectRegistry` holds every project,
validates every change with field-level messages (:class:`ProjectValidationError`), and
serialises to plain JSON for Home Assistant's storage. Who may change what (owners and
admins) is decided by the caller, which knows the user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
import re
import secrets
from typing import Any, Final
from urllib.parse import urlsplit

MAX_NAME: Final = 100
MAX_TEXT: Final = 10_000
MAX_STEP: Final = 2_000
MAX_NOTE: Final = 500
MAX_STEPS: Final = 500
MAX_EXPENSES: Final = 5_000
CURRENCY_RE: Final = re.compile(r"[A-Z]{3}")
SLUG_RE: Final = re.compile(r"[^a-z0-9]+")
MAX_AMOUNT: Final = Decimal("1000000000")


class ProjectStatus(StrEnum):
    """Where a project stands."""

    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class ProjectValidationError(ValueError):
    """A change refused; ``errors`` maps each offending field to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        """Keep the field-level messages."""
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.errors.items()))


class ProjectNotFoundError(KeyError):
    """No project (or step) with that id."""


@dataclass(frozen=True, slots=True)
class Step:
    """One instruction of a project, in order."""

    id: str
    text: str
    done: bool = False
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When its text or done state last changed (the tie-breaker of a two-way sync)."""
    completed: datetime | None = None
    """When it was last marked done (None while not done; steps done before Makerhub
    0.3 kept no time)."""

    def to_json(self) -> dict[str, Any]:
        """Return the stored (and API) form."""
        return {
            "id": self.id,
            "text": self.text,
            "done": self.done,
            "updated": self.updated.isoformat(),
            "completed": None if self.completed is None else self.completed.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Expense:
    """One dated cost of a project."""

    id: str
    date: date
    amount: Decimal
    currency: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the stored form (the amount as a decimal string: no float rounding)."""
        return {
            "id": self.id,
            "date": self.date.isoformat(),
            "amount": str(self.amount),
            "currency": self.currency,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Project:
    """A maker project: at its core a git repository, plus how it uses the space."""

    id: str
    slug: str
    name: str
    owner: str
    """The Home Assistant user id of the owner."""
    description: str = ""
    space_use: str = ""
    """How the project uses the space (machines, benches, materials)."""
    status: ProjectStatus = ProjectStatus.ACTIVE
    github_url: str | None = None
    todoist_project_id: str | None = None
    steps: tuple[Step, ...] = ()
    expenses: tuple[Expense, ...] = ()
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime | None = None
    """When it was archived (finished); None while it is not."""

    def total_cost(self, currency: str | None = None) -> dict[str, Decimal]:
        """Return the total per currency (only ``currency`` when given)."""
        totals: dict[str, Decimal] = {}
        for expense in self.expenses:
            if currency is None or expense.currency == currency:
                totals[expense.currency] = totals.get(expense.currency, Decimal(0)) + expense.amount
        return totals

    def month_cost(self, year: int, month: int) -> dict[str, Decimal]:
        """Return the total per currency of one calendar month."""
        totals: dict[str, Decimal] = {}
        for expense in self.expenses:
            if (expense.date.year, expense.date.month) == (year, month):
                totals[expense.currency] = totals.get(expense.currency, Decimal(0)) + expense.amount
        return totals

    def to_json(self) -> dict[str, Any]:
        """Return the stored (and API) form."""
        return {
            "id": self.id,
            "slug": self.slug,
            "name": self.name,
            "owner": self.owner,
            "description": self.description,
            "space_use": self.space_use,
            "status": self.status.value,
            "github_url": self.github_url,
            "todoist_project_id": self.todoist_project_id,
            "steps": [step.to_json() for step in self.steps],
            "expenses": [expense.to_json() for expense in self.expenses],
            "created": self.created.isoformat(),
            "updated": self.updated.isoformat(),
            "finished": None if self.finished is None else self.finished.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Project:
        """Return a project from its stored form."""
        updated = datetime.fromisoformat(data["updated"])
        return cls(
            id=data["id"],
            slug=data["slug"],
            name=data["name"],
            owner=data["owner"],
            description=data.get("description", ""),
            space_use=data.get("space_use", ""),
            status=ProjectStatus(data.get("status", ProjectStatus.ACTIVE)),
            github_url=data.get("github_url"),
            todoist_project_id=data.get("todoist_project_id"),
            steps=tuple(
                Step(
                    s["id"],
                    s["text"],
                    bool(s.get("done")),
                    datetime.fromisoformat(s["updated"]) if "updated" in s else updated,
                    _time_or_none(s.get("completed")) if s.get("done") else None,
                )
                for s in data["steps"]
            ),
            expenses=tuple(
                Expense(
                    e["id"],
                    date.fromisoformat(e["date"]),
                    Decimal(e["amount"]),
                    e["currency"],
                    e.get("note", ""),
                )
                for e in data.get("expenses", ())
            ),
            created=datetime.fromisoformat(data["created"]),
            updated=updated,
            finished=(
                _time_or_none(data.get("finished"))
                if data.get("status") == ProjectStatus.ARCHIVED
                else None
            ),
        )


def _time_or_none(value: object) -> datetime | None:
    """Return a stored time (None when there is none)."""
    return None if value is None else datetime.fromisoformat(str(value))


def new_id() -> str:
    """Return a short random id."""
    return secrets.token_hex(6)


def slugify(name: str) -> str:
    """Return the URL-safe form of a name: ``"Robot arm v2"`` → ``robot-arm-v2``."""
    return SLUG_RE.sub("-", name.casefold()).strip("-")[:60] or "project"


class _Checker:
    """Collects field-level errors; raises them all at once."""

    def __init__(self, data: Mapping[str, Any], allowed: Iterable[str]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}
        if not isinstance(data, Mapping):
            raise ProjectValidationError({"body": "must be a JSON object"})
        for key in sorted(set(data) - set(allowed)):
            self.errors[key] = "unknown field"

    def text(self, key: str, limit: int, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.errors[key] = "required"
            return None
        if not isinstance(value, str):
            self.errors[key] = "must be a string"
            return None
        value = value.strip()
        if required and not value:
            self.errors[key] = "must not be empty"
        elif len(value) > limit:
            self.errors[key] = f"at most {limit} characters"
        return value

    def url(self, key: str) -> str | None:
        value = self.text(key, 300)
        if value:
            parts = urlsplit(value)
            if parts.scheme != "https" or not parts.netloc:
                self.errors[key] = "must be an https:// URL"
        return value or None

    def done(self) -> None:
        if self.errors:
            raise ProjectValidationError(self.errors)


PROJECT_FIELDS: Final = (
    "name",
    "description",
    "space_use",
    "status",
    "github_url",
    "todoist_project_id",
    "steps",
)


class ProjectRegistry:
    """Every project, by id; each change validated, stamped and returned."""

    def __init__(self, projects: Iterable[Project] = ()) -> None:
        """Start with stored projects."""
        self._projects = {project.id: project for project in projects}

    def __len__(self) -> int:
        """Return how many projects there are."""
        return len(self._projects)

    def get(self, project_id: str) -> Project:
        """Return a project; raise ProjectNotFoundError."""
        try:
            return self._projects[project_id]
        except KeyError:
            raise ProjectNotFoundError(project_id) from None

    def lookup(self, ref: str) -> Project:
        """Return a project by id or slug; raise ProjectNotFoundError."""
        if ref in self._projects:
            return self._projects[ref]
        for project in self._projects.values():
            if project.slug == ref:
                return project
        raise ProjectNotFoundError(ref)

    def find(self, owner: str | None = None, status: str | None = None) -> list[Project]:
        """Return the projects (of one owner, in one status), newest first."""
        if status is not None and status not in set(ProjectStatus):
            raise ProjectValidationError({"status": f"one of {', '.join(ProjectStatus)}"})
        return sorted(
            (
                p
                for p in self._projects.values()
                if (owner is None or p.owner == owner) and (status is None or p.status == status)
            ),
            key=lambda p: p.created,
            reverse=True,
        )

    def create(self, data: Mapping[str, Any], owner: str, now: datetime | None = None) -> Project:
        """Create a project from API/service data (name required; steps as texts)."""
        check = _Checker(data, PROJECT_FIELDS)
        name = check.text("name", MAX_NAME, required=True)
        fields = self._common(check)
        steps = self._step_texts(check)
        check.done()
        assert name is not None
        now = now or datetime.now(UTC)
        project = Project(
            id=new_id(),
            slug=self._unique_slug(slugify(name)),
            name=name,
            owner=owner,
            steps=tuple(Step(new_id(), text, updated=now) for text in steps),
            created=now,
            updated=now,
            **fields,
        )
        self._projects[project.id] = project
        return project

    def update(self, project_id: str, data: Mapping[str, Any]) -> Project:
        """Change a project's fields (only those given; steps have their own calls)."""
        project = self.get(project_id)
        check = _Checker(data, set(PROJECT_FIELDS) - {"steps"})
        name = check.text("name", MAX_NAME, required="name" in data)
        fields = self._common(check)
        check.done()
        changes: dict[str, Any] = {k: v for k, v in fields.items() if k in data}
        if name is not None:
            changes["name"] = name
        return self._store(replace(project, **changes))

    def archive(self, project_id: str) -> Project:
        """Archive a project (it keeps everything)."""
        return self._store(replace(self.get(project_id), status=ProjectStatus.ARCHIVED))

    def delete(self, project_id: str) -> Project:
        """Delete a project for good; return it."""
        project = self.get(project_id)
        del self._projects[project_id]
        return project

    # -- steps -----------------------------------------------------------------------

    def add_step(
        self,
        project_id: str,
        text: object,
        position: object = None,
        *,
        step_id: str | None = None,
        done: bool = False,
    ) -> Project:
        """Add a step (at the end, or at ``position``); a sync passes the id it chose."""
        project = self.get(project_id)
        check = _Checker({"text": text}, ("text",))
        value = check.text("text", MAX_STEP, required=True)
        steps = list(project.steps)
        if len(steps) >= MAX_STEPS:
            check.errors["steps"] = f"at most {MAX_STEPS} steps"
        index = self._position(check, position, len(steps))
        check.done()
        assert value is not None
        now = datetime.now(UTC)
        steps.insert(
            index, Step(step_id or new_id(), value, done, now, completed=now if done else None)
        )
        return self._store(replace(project, steps=tuple(steps)))

    def edit_step(
        self, project_id: str, step_id: str, text: object = None, done: object = None
    ) -> Project:
        """Change a step's text and/or done state."""
        project = self.get(project_id)
        step = self._step(project, step_id)
        check = _Checker({"text": text} if text is not None else {}, ("text",))
        value = check.text("text", MAX_STEP, required=text is not None)
        if done is not None and not isinstance(done, bool):
            check.errors["done"] = "must be true or false"
        check.done()
        now = datetime.now(UTC)
        is_done = step.done if done is None else bool(done)
        new = replace(
            step,
            text=value if value is not None else step.text,
            done=is_done,
            updated=now,
            completed=(step.completed if step.done else now) if is_done else None,
        )
        steps = tuple(new if s.id == step_id else s for s in project.steps)
        return self._store(replace(project, steps=steps))

    def complete_step(self, project_id: str, step_id: str) -> Project:
        """Mark a step done."""
        return self.edit_step(project_id, step_id, done=True)

    def remove_step(self, project_id: str, step_id: str) -> Project:
        """Remove a step."""
        project = self.get(project_id)
        self._step(project, step_id)
        steps = tuple(s for s in project.steps if s.id != step_id)
        return self._store(replace(project, steps=steps))

    def move_step(self, project_id: str, step_id: str, position: object) -> Project:
        """Move a step to ``position`` (0 = first)."""
        project = self.get(project_id)
        step = self._step(project, step_id)
        steps = [s for s in project.steps if s.id != step_id]
        check = _Checker({}, ())
        index = self._position(check, position, len(steps))
        check.done()
        steps.insert(index, step)
        return self._store(replace(project, steps=tuple(steps)))

    def reorder_steps(self, project_id: str, order: object) -> Project:
        """Put the steps in the order of ``order`` (every step id exactly once)."""
        project = self.get(project_id)
        by_id = {s.id: s for s in project.steps}
        if (
            not isinstance(order, list)
            or sorted(map(str, order)) != sorted(by_id)
            or len(order) != len(by_id)
        ):
            raise ProjectValidationError({"order": "must list every step id exactly once"})
        return self._store(replace(project, steps=tuple(by_id[str(i)] for i in order)))

    # -- expenses --------------------------------------------------------------------

    def add_expense(
        self, project_id: str, data: Mapping[str, Any], today: date | None = None
    ) -> tuple[Project, Expense]:
        """Log an expense: ``date`` (ISO, default ``today``), ``amount`` > 0, ``currency``,
        ``note``."""
        project = self.get(project_id)
        check = _Checker(data, ("date", "amount", "currency", "note"))
        when = today or datetime.now(UTC).date()
        if (raw_date := data.get("date")) is not None:
            try:
                when = date.fromisoformat(str(raw_date))
            except ValueError:
                check.errors["date"] = "must be a date like 2026-11-30"
        amount = Decimal(0)
        raw_amount = data.get("amount")
        if raw_amount is None:
            check.errors["amount"] = "required"
        elif isinstance(raw_amount, bool) or not isinstance(raw_amount, int | float | str):
            check.errors["amount"] = "must be a number"
        else:
            try:
                amount = Decimal(str(raw_amount))
            except InvalidOperation:
                check.errors["amount"] = "must be a number"
            else:
                if not amount.is_finite() or not 0 < amount < MAX_AMOUNT:
                    check.errors["amount"] = "must be more than 0 and less than 1,000,000,000"
                elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
                    check.errors["amount"] = "at most 2 decimals"
        currency = check.text("currency", 3, required=True)
        if currency is not None and CURRENCY_RE.fullmatch(currency) is None:
            check.errors["currency"] = "an ISO 4217 code such as EUR"
        note = check.text("note", MAX_NOTE) or ""
        if len(project.expenses) >= MAX_EXPENSES:
            check.errors["expenses"] = f"at most {MAX_EXPENSES} expenses"
        check.done()
        assert currency is not None
        expense = Expense(new_id(), when, amount, currency, note)
        updated = self._store(replace(project, expenses=(*project.expenses, expense)))
        return updated, expense

    # -- storage ---------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Return the stored form of every project."""
        return {"projects": [p.to_json() for p in self._projects.values()]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ProjectRegistry:
        """Return the registry stored by :meth:`to_json` (empty for None)."""
        return cls(Project.from_json(p) for p in (data or {}).get("projects", ()))

    # -- internals -------------------------------------------------------------------

    def _store(self, project: Project) -> Project:
        now = datetime.now(UTC)
        finished = None
        if project.status is ProjectStatus.ARCHIVED:
            finished = project.finished or now
        project = replace(project, updated=now, finished=finished)
        self._projects[project.id] = project
        return project

    def _unique_slug(self, slug: str) -> str:
        taken = {p.slug for p in self._projects.values()}
        candidate, n = slug, 2
        while candidate in taken:
            candidate, n = f"{slug}-{n}", n + 1
        return candidate

    @staticmethod
    def _common(check: _Checker) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key, limit in (("description", MAX_TEXT), ("space_use", MAX_TEXT)):
            value = check.text(key, limit)
            if value is not None:
                fields[key] = value
        if (status := check.data.get("status")) is not None:
            if status not in set(ProjectStatus):
                check.errors["status"] = f"one of {', '.join(ProjectStatus)}"
            else:
                fields["status"] = ProjectStatus(status)
        if "github_url" in check.data:
            fields["github_url"] = check.url("github_url")
        if "todoist_project_id" in check.data:
            fields["todoist_project_id"] = check.text("todoist_project_id", 64) or None
        return fields

    @staticmethod
    def _step_texts(check: _Checker) -> list[str]:
        raw = check.data.get("steps", [])
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            check.errors["steps"] = "must be a list of texts"
            return []
        texts = [t.strip() for t in raw if t.strip()]
        if len(texts) > MAX_STEPS:
            check.errors["steps"] = f"at most {MAX_STEPS} steps"
        elif any(len(t) > MAX_STEP for t in texts):
            check.errors["steps"] = f"each step at most {MAX_STEP} characters"
        return texts

    @staticmethod
    def _position(check: _Checker, position: object, length: int) -> int:
        if position is None:
            return length
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            check.errors["position"] = "must be a whole number from 0"
            return length
        return min(position, length)

    @staticmethod
    def _step(project: Project, step_id: str) -> Step:
        for step in project.steps:
            if step.id == step_id:
                return step
        raise ProjectNotFoundError(step_id)
