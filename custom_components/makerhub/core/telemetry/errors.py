"""Errors of the telemetry store; every message is free of secrets."""

from __future__ import annotations

from enum import StrEnum


class TelemetryError(Exception):
    """Base class of the telemetry store's errors."""


class DsnErrorKind(StrEnum):
    """Why a PostgreSQL DSN cannot be used; the keys of the options flow's errors."""

    INVALID = "invalid_dsn"
    """Not a ``postgresql://`` URL, or a part of it is malformed."""
    HOST_NOT_FOUND = "host_not_found"
    """The host name does not resolve."""
    CANNOT_CONNECT = "cannot_connect"
    """Nothing accepts connections at host:port (wrong port, server down, firewall)."""
    TIMEOUT = "timeout"
    """The server did not answer in time."""
    AUTH_FAILED = "auth_failed"
    """Wrong password, unknown role, or the server's pg_hba.conf refuses the role."""
    DATABASE_MISSING = "database_missing"
    """The server runs but has no database of that name."""
    PERMISSION_DENIED = "permission_denied"
    """The role may not connect to the database, or may not create or write the tables."""
    TLS_FAILED = "tls_failed"
    """TLS could not be set up: a certificate file, verification, or no TLS on the server."""
    UNSUPPORTED_SERVER = "unsupported_server"
    """The server is older than PostgreSQL 14 (``date_bin`` is needed)."""
    SCHEMA_TOO_NEW = "schema_too_new"
    """The tables were migrated by a newer Makerhub than this one."""
    UNKNOWN = "unknown"
    """Any other server error; the message carries its SQLSTATE."""


class DsnError(TelemetryError):
    """A DSN that does not lead to a usable database; ``kind`` says why."""

    def __init__(self, kind: DsnErrorKind, message: str) -> None:
        """Keep the kind next to a message that never contains the password."""
        super().__init__(message)
        self.kind = kind


class TelemetryUnavailableError(TelemetryError):
    """The database cannot be reached right now (reads only; writes are buffered)."""


class QueryError(TelemetryError, ValueError):
    """A history query with arguments that do not make sense."""


class BackupError(TelemetryError):
    """``pg_dump`` failed or could not be run."""
