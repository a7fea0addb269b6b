"""The telemetry store: the one object the Home Assistant glue holds.

It owns the :class:`.writer.TelemetryWriter` (ingest, on its own connection), a small
connection pool for reads and maintenance, and, when intervals are configured, a task
that refreshes rollups and enforces retention periodically.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
from typing import Any, Final

import asyncpg

from custom_components.makerhub.core.schema import UnitSchema

from .backup import backup_database
from .catalog import VariableInfo, schema_variables
from .dsn import Dsn, connect_error, pool_connector, server_settings, validate_schema_name
from .errors import TelemetryUnavailableError
from .migrations import LATEST_VERSION, SchemaState, migrate, read_state
from .query import MAX_POINTS, Aggregation, History, get_history
from .retention import RetentionPolicy, RetentionReport, enforce_retention
from .rollups import RollupReport, refresh_rollups
from .writer import TelemetryWriter, WriterCounters, WriterSettings

_LOGGER = logging.getLogger(__name__)

POOL_SIZE: Final = 2
_OUTAGES: Final = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)
"""Errors that mean the database went away during a read."""


@dataclass(frozen=True, slots=True)
class TelemetryConfig:
    """Everything the store needs; the DSN's ``repr`` hides its password."""

    dsn: Dsn
    spill_path: Path
    """The spill file (e.g. ``<config>/.storage/makerhub_telemetry.spill``)."""
    schema: str = "public"
    writer: WriterSettings = field(default_factory=WriterSettings)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    rollup_interval: float | None = 60.0
    """Seconds between rollup refreshes (only with ``writer.rollups``); None: never."""
    retention_interval: float | None = 6 * 3600.0
    """Seconds between retention runs; None: only when :meth:`enforce_retention` is called."""
    query_timeout: float = 30.0


class TelemetryStore:
    """Write, read, maintain and back up the telemetry database."""

    def __init__(self, config: TelemetryConfig) -> None:
        """Prepare; nothing connects before :meth:`start`."""
        validate_schema_name(config.schema)
        self.config = config
        self.writer = TelemetryWriter(
            config.dsn, config.spill_path, schema=config.schema, settings=config.writer
        )
        self.submit = self.writer.submit
        """``submit(unit, variable, value, time=None)``: see :meth:`TelemetryWriter.submit`."""
        self._pool: asyncpg.Pool | None = None
        self._maintenance: asyncio.Task[None] | None = None
        self.last_retention: RetentionReport | None = None
        self.last_rollups: RollupReport | None = None

    def __repr__(self) -> str:
        """Name the database without its password."""
        return f"TelemetryStore({self.config.dsn.redacted!r}, schema={self.config.schema!r})"

    async def start(self) -> None:
        """Start ingest and maintenance; succeeds with the database down (it buffers)."""
        await self.writer.start()
        config = self.config
        self._pool = await asyncpg.create_pool(
            connect=pool_connector(config.dsn),
            min_size=0,
            max_size=POOL_SIZE,
            max_inactive_connection_lifetime=60.0,
            timeout=config.writer.connect_timeout,
            command_timeout=config.query_timeout,
            server_settings=server_settings(config.schema),
        )
        if self._maintenance_intervals():
            self._maintenance = asyncio.get_running_loop().create_task(
                self._maintain(), name="makerhub telemetry maintenance"
            )

    async def stop(self, grace: float = 10.0) -> None:
        """Stop maintenance, flush the writer (spilling what it cannot write), close."""
        if self._maintenance is not None:
            self._maintenance.cancel()
            with suppress(asyncio.CancelledError):
                await self._maintenance
            self._maintenance = None
        await self.writer.stop(grace)
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                async with asyncio.timeout(2):
                    await pool.close()
            except TimeoutError:
                pool.terminate()

    # -- registration and state -------------------------------------------------------

    def register_unit(
        self,
        uid: str,
        name: str | None,
        schema: UnitSchema | None = None,
        *,
        model: str | None = None,
        retention_classes: dict[str, str] | None = None,
    ) -> None:
        """Record a unit's name and, from its schema, its variables' types and classes."""
        self.writer.catalog.register_unit(uid, name, model)
        if schema is not None:
            for info in schema_variables(uid, schema, retention_classes):
                self.writer.catalog.register_variable(info)

    def register_variable(self, info: VariableInfo) -> None:
        """Record one variable's type, metadata and retention class."""
        self.writer.catalog.register_variable(info)

    def forget_unit(self, uid: str) -> None:
        """Stop applying a removed unit's types; its history stays."""
        self.writer.catalog.forget_unit(uid)

    @property
    def counters(self) -> WriterCounters:
        """Return the writer's counters."""
        return self.writer.counters

    async def flush(self, within: float = 10.0) -> bool:
        """Wait until everything submitted is written; False on timeout."""
        return await self.writer.flush(within)

    def diagnostics(self) -> dict[str, Any]:
        """Return state for Home Assistant diagnostics, without secrets."""
        state = self.writer.schema_state
        return {
            "database": self.config.dsn.redacted,
            "schema": self.config.schema,
            "schema_version": state.version if state else None,
            "storage_mode": state.storage_mode if state else None,
            "counters": self.counters.as_dict(),
            "rejected_by_reason": self.writer.rejected_by_issue,
            "last_retention": (
                None
                if self.last_retention is None
                else {
                    "deleted": self.last_retention.deleted,
                    "by_class": self.last_retention.by_class,
                    "rollups_deleted": self.last_retention.rollups_deleted,
                }
            ),
        }

    # -- reads and maintenance -------------------------------------------------------

    async def _state(self, conn: asyncpg.Connection) -> SchemaState:
        state = await read_state(conn, self.config.schema)
        if state.version < LATEST_VERSION:
            state = await migrate(conn, self.config.schema)
        return state

    async def _run[T](self, operation: str, job: Any) -> T:
        """Run ``job(conn, state)`` on a pooled connection, mapping outages to one error."""
        if self._pool is None:
            raise TelemetryUnavailableError(f"the telemetry store is not running ({operation})")
        dsn = self.config.dsn
        try:
            conn = await self._pool.acquire()
        except Exception as err:  # noqa: BLE001  (every way of not connecting is an outage)
            raise TelemetryUnavailableError(f"{operation}: {connect_error(dsn, err)}") from None
        try:
            result: T = await job(conn, await self._state(conn))
        except _OUTAGES as err:
            raise TelemetryUnavailableError(
                f"{operation}: lost the database ({dsn.redact(str(err))})"
            ) from None
        finally:
            await self._pool.release(conn)
        return result

    async def get_history(
        self,
        unit: str,
        variable: str,
        start: datetime,
        end: datetime,
        *,
        aggregation: Aggregation | str = Aggregation.RAW,
        bucket: timedelta | None = None,
        limit: int = MAX_POINTS,
    ) -> History:
        """Return one variable's history (see :func:`.query.get_history`)."""

        async def job(conn: asyncpg.Connection, state: SchemaState) -> History:
            return await get_history(
                conn,
                unit,
                variable,
                start,
                end,
                aggregation=aggregation,
                bucket=bucket,
                timescaledb_schema=state.timescaledb_schema if state.timescaledb else None,
                limit=limit,
            )

        return await self._run("history", job)

    async def enforce_retention(self, now: datetime | None = None) -> RetentionReport:
        """Delete what the retention policy no longer keeps."""

        async def job(conn: asyncpg.Connection, _: SchemaState) -> RetentionReport:
            return await enforce_retention(conn, self.config.retention, now=now)

        report: RetentionReport = await self._run("retention", job)
        self.last_retention = report
        return report

    async def refresh_rollups(self, now: datetime | None = None) -> RollupReport:
        """Recompute the rollup buckets written to since the last refresh."""
        horizon = (now or datetime.now(UTC)) - timedelta(days=self.config.retention.shortest_days)

        async def job(conn: asyncpg.Connection, _: SchemaState) -> RollupReport:
            return await refresh_rollups(conn, horizon=horizon)

        report: RollupReport = await self._run("rollups", job)
        self.last_rollups = report
        return report

    async def backup(self, directory: Path) -> Path:
        """Write a ``pg_dump`` of the database into ``directory``; return the file."""
        return await backup_database(self.config.dsn, directory)

    def _maintenance_intervals(self) -> list[tuple[float, str]]:
        config = self.config
        jobs: list[tuple[float, str]] = []
        if config.writer.rollups and config.rollup_interval:
            jobs.append((config.rollup_interval, "rollups"))
        if config.retention_interval:
            jobs.append((config.retention_interval, "retention"))
        return jobs

    async def _maintain(self) -> None:
        loop = asyncio.get_running_loop()
        jobs = self._maintenance_intervals()
        due = {name: loop.time() + interval for interval, name in jobs}
        while True:
            name = min(due, key=due.__getitem__)
            await asyncio.sleep(max(0.0, due[name] - loop.time()))
            interval = next(i for i, n in jobs if n == name)
            due[name] = loop.time() + interval
            try:
                if name == "rollups":
                    await self.refresh_rollups()
                else:
                    await self.enforce_retention()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001  (the next run tries again)
                _LOGGER.warning("Telemetry %s failed: %s", name, self.config.dsn.redact(str(err)))
