"""The ``units`` and ``variables`` tables: names and types Grafana joins samples with.

Registrations are kept in memory and written by the writer on its own connection, before
the next batch, so they wait out a database outage like samples do. Every (unit,
variable) pair a batch carries is also inserted if it is new, so ``variables`` lists all
stored series (retention walks it) even for variables nobody registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import asyncpg

from custom_components.makerhub.core.schema import Direction, UnitSchema, VarType

from .samples import Row

DEFAULT_RETENTION_CLASS: Final = "default"


@dataclass(frozen=True, slots=True)
class VariableInfo:
    """What the ``variables`` table holds about one series."""

    unit: str
    variable: str
    type: VarType | None = None
    direction: Direction | None = None
    unit_of_measurement: str | None = None
    device_class: str | None = None
    retention_class: str = DEFAULT_RETENTION_CLASS


def sample_variable(schema: UnitSchema, direction: Direction, name: str) -> str:
    """Return the ``variable`` column value for one of a unit's inputs or outputs.

    Outputs are stored under their name. Inputs too, unless an output has the same name:
    then the input is ``<name>.in``, so the two series never mix.
    """
    if direction is Direction.INPUT and name in schema.outputs:
        return f"{name}.in"
    return name


def schema_variables(
    uid: str, schema: UnitSchema, retention_classes: Mapping[str, str] | None = None
) -> list[VariableInfo]:
    """Return the rows of ``variables`` for a unit's schema (outputs, then inputs).

    ``retention_classes`` maps a stored variable name to its class (default ``default``).
    """
    classes = retention_classes or {}
    infos: list[VariableInfo] = []
    for direction, variables in (
        (Direction.OUTPUT, schema.outputs),
        (Direction.INPUT, schema.inputs),
    ):
        for name, variable in variables.items():
            stored = sample_variable(schema, direction, name)
            infos.append(
                VariableInfo(
                    unit=uid,
                    variable=stored,
                    type=variable.type,
                    direction=direction,
                    unit_of_measurement=variable.unit,
                    device_class=variable.device_class,
                    retention_class=classes.get(stored, DEFAULT_RETENTION_CLASS),
                )
            )
    return infos


class Catalog:
    """Registered units and variables, the type map, and what still has to be written."""

    def __init__(self) -> None:
        """Start empty."""
        self.types: dict[tuple[str, str], VarType] = {}
        """(unit, variable) → declared type; read by ``submit`` for every sample."""
        self._units: dict[str, tuple[str | None, str | None]] = {}
        self._variables: dict[tuple[str, str], VariableInfo] = {}
        self._pending_units: set[str] = set()
        self._pending_variables: set[tuple[str, str]] = set()
        self._stored_pairs: set[tuple[str, str]] = set()
        """Pairs known to be in ``variables`` on the current connection."""
        self._writing: tuple[set[str], set[tuple[str, str]], set[tuple[str, str]]] = (
            set(),
            set(),
            set(),
        )

    def register_unit(self, uid: str, name: str | None, model: str | None = None) -> None:
        """Record a unit's display name (written before the next batch)."""
        self._units[uid] = (name, model)
        self._pending_units.add(uid)

    def register_variable(self, info: VariableInfo) -> None:
        """Record a variable's type and metadata; its type applies to the next ``submit``."""
        key = (info.unit, info.variable)
        self._variables[key] = info
        self._pending_variables.add(key)
        if info.type is None:
            self.types.pop(key, None)
        else:
            self.types[key] = info.type

    def forget_unit(self, uid: str) -> None:
        """Stop applying a unit's types (its stored rows stay)."""
        for key in [key for key in self._variables if key[0] == uid]:
            del self._variables[key]
            self.types.pop(key, None)
            self._pending_variables.discard(key)
        self._units.pop(uid, None)
        self._pending_units.discard(uid)

    def connection_changed(self) -> None:
        """Re-check pairs against the database after a reconnect (it may be a new one)."""
        self._stored_pairs.clear()
        self._pending_units.update(self._units)
        self._pending_variables.update(self._variables)

    async def write(self, conn: asyncpg.Connection, rows: Iterable[Row]) -> None:
        """Upsert pending registrations and insert the batch's new pairs.

        Call inside the batch's transaction, then :meth:`written` after it commits or
        :meth:`failed` after it does not.
        """
        units, self._pending_units = self._pending_units, set()
        variables, self._pending_variables = self._pending_variables, set()
        pairs = {(row[1], row[2]) for row in rows}
        self._writing = (units, variables, pairs)
        if units:
            await conn.executemany(
                """
                INSERT INTO units (unit, name, model) VALUES ($1, $2, $3)
                ON CONFLICT (unit) DO UPDATE
                SET name = excluded.name, model = excluded.model, updated_at = now()
                """,
                [(uid, *self._units[uid]) for uid in sorted(units) if uid in self._units],
            )
        if variables:
            await conn.executemany(
                """
                INSERT INTO variables (unit, variable, type, direction, unit_of_measurement,
                                       device_class, retention_class)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (unit, variable) DO UPDATE
                SET type = excluded.type, direction = excluded.direction,
                    unit_of_measurement = excluded.unit_of_measurement,
                    device_class = excluded.device_class,
                    retention_class = excluded.retention_class, updated_at = now()
                """,
                [
                    _variable_args(self._variables[key])
                    for key in sorted(variables)
                    if key in self._variables
                ],
            )
        new_pairs = sorted(pairs - self._stored_pairs - variables)
        if new_pairs:
            await conn.executemany(
                "INSERT INTO units (unit) VALUES ($1) ON CONFLICT DO NOTHING",
                sorted({(unit,) for unit, _ in new_pairs}),
            )
            await conn.executemany(
                "INSERT INTO variables (unit, variable) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                new_pairs,
            )

    def written(self) -> None:
        """Mark what the last :meth:`write` sent as stored (its transaction committed)."""
        _, variables, pairs = self._writing
        self._stored_pairs |= variables | pairs
        self._writing = (set(), set(), set())

    def failed(self) -> None:
        """Queue what the last :meth:`write` sent again (its transaction rolled back)."""
        units, variables, _ = self._writing
        self._pending_units |= {uid for uid in units if uid in self._units}
        self._pending_variables |= {key for key in variables if key in self._variables}
        self._writing = (set(), set(), set())


def _variable_args(info: VariableInfo) -> tuple[object, ...]:
    return (
        info.unit,
        info.variable,
        info.type.value if info.type else None,
        info.direction.value if info.direction else None,
        info.unit_of_measurement,
        info.device_class,
        info.retention_class,
    )
