"""The telemetry writer: samples in, batched ``COPY`` out, nothing lost on the way.

``submit`` runs on the event loop for every value (10,000+/s): it builds one tuple,
appends it to a deque and, when a batch is full, sets an event. One task does the rest:

* Rows leave in batches of ``batch_size``, or whatever is there every ``flush_interval``,
  through ``copy_records_to_table`` in a transaction that also registers new units and
  variables and, with rollups on, marks the minutes the batch touched.
* The queue is, in order: the batch being written, the spill file, the memory buffer.
  When the database is away the memory buffer grows to ``buffer_limit`` rows; past that
  its oldest rows (the batch in flight first) are appended to the spill file, which is
  older than everything still in memory, so replaying the file first and then the memory
  keeps submission order.
* A batch the server refuses for its *data* (never expected: ``submit`` checks types) is
  split in halves until the offending rows are found; those alone are dropped and counted.
  Any other error means the connection is gone: the batch stays in flight, the writer
  reconnects with exponential backoff and retries it.
* ``stop`` writes what it can in the time it is given and spills the rest; ``start``
  replays a spill file left by a previous run before anything newer.

``dropped`` stays 0 unless the spill file reaches ``spill_limit_bytes`` (or the disk fails),
a spill line is damaged (checksum mismatch), or the server refuses a row's data.
Rows still in memory are lost if the process is killed without ``stop`` (SIGKILL, power
cut): at most ``buffer_limit`` rows plus what arrived since the last flush.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
import logging
from pathlib import Path
import sys
from time import time_ns
from typing import Any, Final

import asyncpg

from custom_components.makerhub.core.schema import VarType

from .catalog import Catalog
from .dsn import Dsn, connect
from .errors import DsnError
from .migrations import SchemaState, migrate
from .rollups import dirty_minutes, mark_dirty
from .samples import (
    COLUMNS,
    REFUSED,
    Row,
    SampleIssue,
    WrongTypePolicy,
    convert,
    install_time_codec,
    to_micros,
)
from .spill import Chunk, SpillFile

_LOGGER = logging.getLogger(__name__)

_FAST_TYPES: Final = frozenset({None, VarType.FLOAT, VarType.INT})
DATA_ERROR_CLASSES: Final = ("22", "23")
"""SQLSTATE classes that blame a row, not the connection: data exception, constraint."""


@dataclass(frozen=True, slots=True)
class WriterSettings:
    """Tunables of the writer; the defaults suit a Raspberry Pi-class Home Assistant."""

    batch_size: int = 10_000
    """Rows per ``COPY``."""
    flush_interval: float = 1.0
    """Seconds a partial batch may wait."""
    buffer_limit: int = 100_000
    """Rows held in memory (about 150 bytes each) before the oldest go to the spill file."""
    spill_limit_bytes: int = 1 << 30
    """Largest spill file (about 100 bytes a row: some 10 million rows)."""
    wrong_type: WrongTypePolicy = WrongTypePolicy.STORE_AS_TEXT
    rollups: bool = False
    """Mark touched minutes for :func:`.rollups.refresh_rollups`."""
    connect_timeout: float = 10.0
    write_timeout: float = 60.0
    retry_min: float = 0.5
    retry_max: float = 30.0
    fsync: bool = True
    """``fsync`` the spill file after each append."""


@dataclass(frozen=True, slots=True)
class WriterCounters:
    """A snapshot of the writer's state for diagnostics and sensors."""

    buffered: int
    """Rows in memory, waiting for the database."""
    spilled: int
    """Rows in the spill file, waiting for the database."""
    written: int
    """Rows committed to the database since start."""
    dropped: int
    """Rows accepted but lost (see the module docstring for when)."""
    rejected: int
    """Values refused by ``submit`` (wrong type under ``reject``, no value, bad text)."""
    stored_as_text: int
    """Values of the wrong type kept as text."""
    spilled_total: int
    """Rows ever appended to the spill file since start."""
    connected: bool
    last_error: str | None
    last_error_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """Return the counters for diagnostics."""
        return {
            "buffered": self.buffered,
            "spilled": self.spilled,
            "written": self.written,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "stored_as_text": self.stored_as_text,
            "spilled_total": self.spilled_total,
            "connected": self.connected,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
        }


@dataclass(slots=True)
class _Inflight:
    rows: list[Row]
    chunk: Chunk | None = None
    """Set when the rows came from the spill file (committed there once written)."""


@dataclass(slots=True)
class _Tally:
    written: int = 0
    dropped: int = 0
    rejected: int = 0
    stored_as_text: int = 0
    spilled_total: int = 0
    rejected_by_issue: dict[str, int] = field(default_factory=dict)


def _is_data_error(err: BaseException) -> bool:
    if isinstance(err, asyncpg.PostgresError):
        return str(getattr(err, "sqlstate", ""))[:2] in DATA_ERROR_CLASSES
    return isinstance(err, ValueError | TypeError)


class TelemetryWriter:
    """Buffers samples and writes them to PostgreSQL in batches (see the module docstring)."""

    def __init__(
        self,
        dsn: Dsn,
        spill_path: Path,
        *,
        schema: str = "public",
        settings: WriterSettings | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        """Prepare; nothing connects or touches the disk before :meth:`start`."""
        self._dsn = dsn
        self._schema = schema
        self._settings = settings = settings or WriterSettings()
        self.catalog = catalog or Catalog()
        self._types = self.catalog.types
        self._policy = settings.wrong_type
        self._spill = SpillFile(
            spill_path, limit_bytes=settings.spill_limit_bytes, fsync=settings.fsync
        )
        self._memory: deque[Row] = deque()
        self.accepted = 0
        """Rows ever queued by :meth:`submit`; the n-th queued row is durable once
        :attr:`durable` >= n."""
        self.durable = 0
        """Rows queued by :meth:`submit` that are committed, fsynced to the spill file or
        dropped for good: always the oldest ones, so one number says which."""
        self.on_durable: Callable[[int], None] | None = None
        """Called on the event loop with :attr:`durable` whenever it grows."""
        self._inflight: _Inflight | None = None
        self._tally = _Tally()
        self._wakeup = asyncio.Event()
        self._progress = asyncio.Condition()
        self._wake_at = settings.buffer_limit + 1
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._stopping = False
        self._closed = False
        self._flush_requested = False
        self._retry_delay = settings.retry_min
        self._retry_at = 0.0
        self._next_flush_at = 0.0
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self.schema_state: SchemaState | None = None
        """The schema as of the last connection (None before the first)."""

    def __repr__(self) -> str:
        """Name the database without its password."""
        return f"TelemetryWriter({self._dsn.redacted!r}, schema={self._schema!r})"

    # -- the hot path -------------------------------------------------------------------

    def submit(self, unit: str, variable: str, value: object, time: datetime | None = None) -> None:
        """Queue one value; O(1), never blocks, never raises for a bad value.

        Call from the event loop thread. ``time`` defaults to now; a naive ``time`` is
        taken as UTC. The value is converted for the variable's registered type (see
        :func:`.samples.convert`); refused values are counted in ``rejected``.
        """
        micros = time_ns() // 1000 if time is None else to_micros(time)
        var_type = self._types.get((unit, variable))
        row: Row
        if type(value) is float and var_type in _FAST_TYPES and value - value == 0.0:
            row = (micros, unit, variable, value, None)
        else:
            number, text, issue = convert(value, var_type, self._policy)
            if issue is not None:
                self._count_issue(issue, unit, variable)
                if issue in REFUSED:
                    return
            row = (micros, unit, variable, number, text)
        if self._closed:
            self._tally.dropped += 1
            self._error(f"{unit}/{variable}: submitted after the writer stopped")
            return
        memory = self._memory
        memory.append(row)
        self.accepted += 1
        if len(memory) >= self._wake_at:
            self._wake_at = sys.maxsize  # once is enough: re-armed when the task waits
            self._wakeup.set()

    def _count_issue(self, issue: SampleIssue, unit: str, variable: str) -> None:
        tally = self._tally
        if issue is SampleIssue.STORED_AS_TEXT:
            tally.stored_as_text += 1
            return
        tally.rejected += 1
        tally.rejected_by_issue[issue.value] = tally.rejected_by_issue.get(issue.value, 0) + 1
        self._error(f"{unit}/{variable}: value refused ({issue.value})", log=False)

    # -- state --------------------------------------------------------------------------

    @property
    def counters(self) -> WriterCounters:
        """Return a snapshot of the counters."""
        inflight = self._inflight
        buffered = len(self._memory)
        if inflight is not None and inflight.chunk is None:
            buffered += len(inflight.rows)
        tally = self._tally
        return WriterCounters(
            buffered=buffered,
            spilled=self._spill.pending,
            written=tally.written,
            dropped=tally.dropped,
            rejected=tally.rejected,
            stored_as_text=tally.stored_as_text,
            spilled_total=tally.spilled_total,
            connected=self._conn is not None,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
        )

    @property
    def rejected_by_issue(self) -> dict[str, int]:
        """Return refused values per reason."""
        return dict(self._tally.rejected_by_issue)

    @property
    def idle(self) -> bool:
        """Return whether nothing waits to be written."""
        return not self._memory and self._inflight is None and self._spill.pending == 0

    def _error(self, message: str, *, log: bool = True) -> None:
        message = self._dsn.redact(message)
        self._last_error = message
        self._last_error_at = datetime.now(UTC)
        if log:
            _LOGGER.warning("Telemetry: %s", message)

    # -- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Recover the spill file and start writing; the database may be down."""
        if self._task is not None:
            return
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="makerhub-telemetry-io")
        recovery = await self._io(self._spill.open)
        if recovery.records:
            _LOGGER.info("Telemetry: replaying %d spilled samples", recovery.records)
        if recovery.torn_bytes:
            self._tally.dropped += 1
            self._error(
                f"cut {recovery.torn_bytes} bytes of a sample half-written to the spill "
                "file before a crash"
            )
        loop = asyncio.get_running_loop()
        self._next_flush_at = loop.time() + self._settings.flush_interval
        self._task = loop.create_task(self._run(), name="makerhub telemetry writer")

    async def stop(self, grace: float = 10.0) -> None:
        """Write what can be written within ``grace`` s, spill the rest, and close."""
        if self._task is None:
            self._closed = True
            return
        self._stopping = True
        self._wakeup.set()
        try:
            async with asyncio.timeout(grace):
                await asyncio.shield(self._task)
        except TimeoutError:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        await self._spill_leftovers()
        self._closed = True
        await self._disconnect(graceful=True)
        assert self._executor is not None
        self._executor.shutdown(wait=True)
        self._executor = None

    async def flush(self, within: float = 10.0) -> bool:
        """Wait until nothing is buffered or spilled; return False on timeout."""
        try:
            async with asyncio.timeout(within):
                while not self.idle:
                    self._flush_requested = True
                    self._wakeup.set()
                    async with self._progress:
                        await self._progress.wait()
        except TimeoutError:
            return False
        return True

    async def _io[T](self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    # -- the writing task ---------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                if self._stopping:
                    await self._drain()
                    return
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a bug must not end ingest
                _LOGGER.exception("Telemetry writer error")
                self._error(f"unexpected {type(err).__name__}: {err}", log=False)
                await self._connection_lost(None)
                await self._pause(self._settings.retry_min)

    async def _step(self) -> None:
        await self._relieve_memory()
        loop = asyncio.get_running_loop()
        if self._conn is None:
            if loop.time() < self._retry_at:
                await self._pause(self._retry_at - loop.time())
                return
            if not await self._connect():
                return
        if not await self._write_next(force=self._flush_requested):
            if self._memory:
                await self._pause(self._next_flush_at - loop.time())
            else:
                await self._pause(self._settings.flush_interval)

    def _arm_wakeup(self) -> None:
        settings = self._settings
        self._wake_at = settings.batch_size if self._conn else settings.buffer_limit + 1

    async def _pause(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when ``submit``, ``flush`` or ``stop`` call.

        Always yields to the event loop at least once.
        """
        self._arm_wakeup()
        if len(self._memory) >= self._wake_at:
            self._wakeup.set()
        if seconds > 0 and not self._wakeup.is_set():
            with suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._wakeup.wait()
        else:
            await asyncio.sleep(0)
        self._wakeup.clear()

    async def _drain(self) -> None:
        """On stop: write everything while the database takes it."""
        while self._conn is not None and (
            self._inflight is not None or self._memory or self._spill.unread
        ):
            await self._write_next(force=True)

    async def _connect(self) -> bool:
        settings = self._settings
        try:
            conn = await connect(
                self._dsn, schema=self._schema, connect_timeout=settings.connect_timeout
            )
        except DsnError as err:
            self._schedule_retry(f"cannot connect: {err}")
            return False
        try:
            self.schema_state = await migrate(conn, self._schema)
            await install_time_codec(conn)
        except (DsnError, asyncpg.PostgresError, OSError) as err:
            conn.terminate()
            self._schedule_retry(f"cannot prepare the tables: {err}")
            return False
        self._conn = conn
        self._retry_delay = settings.retry_min
        self._arm_wakeup()
        self.catalog.connection_changed()
        _LOGGER.info(
            "Telemetry: connected to %s (%s)", self._dsn.target, self.schema_state.storage_mode
        )
        return True

    def _schedule_retry(self, message: str) -> None:
        loop = asyncio.get_running_loop()
        self._error(f"{message}; retrying in {self._retry_delay:.1f} s", log=False)
        _LOGGER.debug("Telemetry: %s", self._last_error)
        self._retry_at = loop.time() + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, self._settings.retry_max)

    async def _connection_lost(self, err: BaseException | None) -> None:
        if err is not None:
            self._error(f"lost the database ({type(err).__name__}: {err})")
        await self._disconnect(graceful=False)
        self._schedule_retry(self._last_error or "lost the database")

    async def _disconnect(self, *, graceful: bool) -> None:
        conn, self._conn = self._conn, None
        self._arm_wakeup()
        if conn is None:
            return
        if graceful:
            with suppress(Exception):
                await conn.close(timeout=2)
                return
        conn.terminate()

    async def _relieve_memory(self) -> None:
        """Move the oldest rows to the spill file when memory holds too many."""
        limit = self._settings.buffer_limit
        inflight = self._inflight
        from_memory = inflight is not None and inflight.chunk is None
        held = len(self._memory) + (len(inflight.rows) if inflight and from_memory else 0)
        if held <= limit:
            return
        rows: list[Row] = []
        if inflight is not None and from_memory:
            rows.extend(inflight.rows)
            self._inflight = None
        memory = self._memory
        rows.extend(memory.popleft() for _ in range(max(0, len(memory) - limit // 2)))
        await self._to_spill(rows)

    async def _spill_leftovers(self) -> None:
        rows: list[Row] = []
        if self._inflight is not None and self._inflight.chunk is None:
            rows.extend(self._inflight.rows)
        self._inflight = None
        rows.extend(self._memory)
        self._memory.clear()
        if rows:
            await self._to_spill(rows)
            _LOGGER.info(
                "Telemetry: %d samples kept in %s for the next start", len(rows), self._spill.path
            )

    async def _to_spill(self, rows: list[Row]) -> None:
        try:
            appended = await self._io(self._spill.append, rows)
        except OSError as err:
            appended = 0
            self._error(f"cannot write the spill file {self._spill.path}: {err}")
        self._tally.spilled_total += appended
        self._made_durable(len(rows))  # on disk, or counted as dropped
        if lost := len(rows) - appended:
            self._tally.dropped += lost
            self._error(
                f"dropped {lost} samples: the spill file is full "
                f"({self._settings.spill_limit_bytes} bytes) or failing"
            )

    async def _next_batch(self, force: bool) -> _Inflight | None:
        settings = self._settings
        if self._spill.unread:
            chunk = await self._io(self._spill.read, settings.batch_size)
            if chunk.damaged:
                self._tally.dropped += chunk.damaged
                self._error(f"skipped {chunk.damaged} damaged lines of the spill file")
            return _Inflight(chunk.rows, chunk)
        memory = self._memory
        if not memory:
            self._flush_requested = False
            return None
        loop = asyncio.get_running_loop()
        if len(memory) < settings.batch_size and not force and loop.time() < self._next_flush_at:
            return None
        self._next_flush_at = loop.time() + settings.flush_interval
        if len(memory) <= settings.batch_size:
            self._memory = deque()
            return _Inflight(list(memory))
        return _Inflight([memory.popleft() for _ in range(settings.batch_size)])

    async def _write_next(self, *, force: bool) -> bool:
        """Write one batch; return True when another is ready right away."""
        if self._inflight is None:
            self._inflight = await self._next_batch(force)
            if self._inflight is None:
                return False
        if not await self._write_inflight():
            return False
        async with self._progress:
            self._progress.notify_all()
        return bool(self._spill.unread or len(self._memory) >= self._settings.batch_size)

    async def _write_inflight(self) -> bool:
        inflight = self._inflight
        assert inflight is not None
        parts: deque[list[Row]] = deque([inflight.rows])
        while parts:
            part = parts[0]
            try:
                if part:
                    await self._copy(part)
            except asyncio.CancelledError:
                inflight.rows = [row for chunk in parts for row in chunk]
                raise
            except Exception as err:  # noqa: BLE001  (classified right below)
                if not _is_data_error(err):
                    inflight.rows = [row for chunk in parts for row in chunk]
                    await self._connection_lost(err)
                    return False
                parts.popleft()
                if len(part) == 1:
                    self._tally.dropped += 1
                    if inflight.chunk is None:
                        self._made_durable(1)
                    self._error(
                        f"the database refused a sample of {part[0][1]}/{part[0][2]}: {err}"
                    )
                else:
                    middle = len(part) // 2
                    parts.extendleft((part[middle:], part[:middle]))
                continue
            parts.popleft()
            self._tally.written += len(part)
            if inflight.chunk is None:  # parts[0] is always the oldest row left
                self._made_durable(len(part))
        if inflight.chunk is not None:
            await self._io(self._spill.commit, inflight.chunk)
        self._inflight = None
        return True

    def _made_durable(self, rows: int) -> None:
        """Count ``rows`` submitted rows as committed, spilled or dropped for good."""
        self.durable += rows
        if self.on_durable is not None and rows:
            self.on_durable(self.durable)

    async def _copy(self, rows: list[Row]) -> None:
        conn = self._conn
        assert conn is not None
        timeout = self._settings.write_timeout
        catalog = self.catalog
        try:
            async with conn.transaction():
                await catalog.write(conn, rows)
                await conn.copy_records_to_table(
                    "samples", records=rows, columns=COLUMNS, timeout=timeout
                )
                if self._settings.rollups:
                    await mark_dirty(conn, dirty_minutes(rows))
        except BaseException:
            catalog.failed()
            raise
        catalog.written()
