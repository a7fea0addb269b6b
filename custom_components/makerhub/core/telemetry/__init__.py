"""Telemetry: every variable value in PostgreSQL, aggregates, and nothing lost.

Pure Python over asyncpg (no Home Assistant imports). The glue holds one
:class:`TelemetryStore`; see ``docs/telemetry.md`` for the design and its limits.
"""

from __future__ import annotations

from .backup import backup_database
from .catalog import DEFAULT_RETENTION_CLASS, VariableInfo, sample_variable, schema_variables
from .dsn import DEFAULT_ADDON_DSN, Dsn, ServerInfo, validate_dsn
from .errors import (
    BackupError,
    DsnError,
    DsnErrorKind,
    QueryError,
    TelemetryError,
    TelemetryUnavailableError,
)
from .migrations import LATEST_VERSION, StorageMode
from .query import Aggregation, History, HistoryPoint
from .retention import RetentionPolicy, RetentionReport
from .rollups import RollupReport
from .samples import WrongTypePolicy
from .store import TelemetryConfig, TelemetryStore
from .writer import TelemetryWriter, WriterCounters, WriterSettings

__all__ = [
    "DEFAULT_ADDON_DSN",
    "DEFAULT_RETENTION_CLASS",
    "LATEST_VERSION",
    "Aggregation",
    "BackupError",
    "Dsn",
    "DsnError",
    "DsnErrorKind",
    "History",
    "HistoryPoint",
    "QueryError",
    "RetentionPolicy",
    "RetentionReport",
    "RollupReport",
    "ServerInfo",
    "StorageMode",
    "TelemetryConfig",
    "TelemetryError",
    "TelemetryStore",
    "TelemetryUnavailableError",
    "TelemetryWriter",
    "VariableInfo",
    "WriterCounters",
    "WriterSettings",
    "WrongTypePolicy",
    "backup_database",
    "sample_variable",
    "schema_variables",
    "validate_dsn",
]
