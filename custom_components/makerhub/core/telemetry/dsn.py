"""PostgreSQL connection strings: parsing, redaction, connecting with precise errors.

A :class:`Dsn` never shows its password: ``repr``, ``str`` and every error message built
here use the redacted form, and :meth:`Dsn.redact` scrubs text that came from elsewhere
(server messages, ``pg_dump`` output) before it is shown or logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import re
import socket
import ssl
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

import asyncpg

from .errors import DsnError, DsnErrorKind
from .migrations import LATEST_VERSION, SchemaState, read_state
from .tls import TlsFilesError, TlsSettings, TlsSettingsError, open_connection

SCHEMES: Final = ("postgresql", "postgres")
DEFAULT_PORT: Final = 5432
MIN_SERVER_VERSION: Final = 140000
"""PostgreSQL 14: ``date_bin`` appeared there."""
SECRET_PARAMS: Final = frozenset({"password", "sslpassword"})
REDACTED: Final = "***"
APPLICATION_NAME: Final = "makerhub-telemetry"
SCHEMA_NAME_RE: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")

DEFAULT_ADDON_DSN: Final = "postgresql://postgres:homeassistant@77b2833f-timescaledb:5432/makerhub"
"""The community TimescaleDB add-on: its hostname, its default superuser and password.

Add ``makerhub`` to the add-on's ``databases`` option (and to ``timescale_enabled`` for
hypertables) so the database exists; change the password to the one you set there.
"""


def validate_schema_name(schema: str) -> str:
    """Return ``schema`` if it is a plain lowercase SQL identifier, else raise ValueError."""
    if SCHEMA_NAME_RE.fullmatch(schema) is None:
        raise ValueError(f"schema name {schema!r} must match {SCHEMA_NAME_RE.pattern}")
    return schema


class Dsn:
    """A ``postgresql://user:password@host:port/database?params`` URL that hides its secrets."""

    __slots__ = ("_secrets", "_url", "database", "host", "port", "redacted", "tls", "user")

    def __init__(self, url: str) -> None:
        """Parse ``url``; raise :class:`DsnError` (``INVALID``) saying what is wrong."""
        url = url.strip()
        parts = urlsplit(url)
        secrets: list[str] = []
        if parts.password:
            secrets += [parts.password, unquote(parts.password)]
        params = parse_qsl(parts.query, keep_blank_values=True)
        secrets += [value for key, value in params if key in SECRET_PARAMS and value]
        self._url = url
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self.redacted = self.redact(url)
        if parts.scheme not in SCHEMES:
            raise DsnError(
                DsnErrorKind.INVALID,
                "the DSN must be a URL like postgresql://user:password@host:5432/database",
            )
        query_host = dict(params).get("host")
        try:
            port = parts.port
        except ValueError:
            raise DsnError(DsnErrorKind.INVALID, "the port must be a number") from None
        host = parts.hostname or query_host
        if not host:
            raise DsnError(DsnErrorKind.INVALID, f"the DSN {self.redacted} names no host")
        self.host: str = host
        self.port: int = port or DEFAULT_PORT
        self.user: str | None = unquote(parts.username) if parts.username else None
        database = unquote(parts.path.lstrip("/"))
        self.database: str | None = database or self.user
        try:
            self.tls: TlsSettings = TlsSettings.parse(
                dict(params), unix_socket=self.host.startswith("/")
            )
        except TlsSettingsError as err:
            raise DsnError(DsnErrorKind.INVALID, f"the DSN {self.redacted}: {err}") from None

    def reveal(self) -> str:
        """Return the full URL, password included: only for asyncpg and ``pg_dump``."""
        return self._url

    @property
    def password(self) -> str | None:
        """Return the password of the URL's user part, decoded."""
        password = urlsplit(self._url).password
        return unquote(password) if password else None

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret of this DSN replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    @property
    def target(self) -> str:
        """Return ``user@host:port/database`` for messages."""
        user = f"{self.user}@" if self.user else ""
        return f"{user}{self.host}:{self.port}/{self.database or ''}"

    def __repr__(self) -> str:
        """Show the redacted URL only."""
        return f"Dsn({self.redacted!r})"

    def __str__(self) -> str:
        """Show the redacted URL only."""
        return self.redacted

    def __eq__(self, other: object) -> bool:
        """Compare the full URLs."""
        return isinstance(other, Dsn) and other._url == self._url

    def __hash__(self) -> int:
        """Hash the full URL."""
        return hash(self._url)


def server_settings(schema: str) -> dict[str, str]:
    """Return the session settings every telemetry connection uses."""
    search_path = "public" if schema == "public" else f'"{schema}", public'
    return {"application_name": APPLICATION_NAME, "search_path": search_path}


async def connect(
    dsn: Dsn, *, schema: str = "public", connect_timeout: float = 10.0
) -> asyncpg.Connection:
    """Open a connection with ``search_path`` set to ``schema``; raise :class:`DsnError`.

    TLS follows the DSN's ``sslmode`` (see :mod:`.tls`), its SSL context built off the
    event loop.
    """
    try:
        return await open_connection(
            dsn.reveal(),
            dsn.tls,
            timeout=connect_timeout,
            server_settings=server_settings(schema),
        )
    except Exception as err:  # noqa: BLE001  (every failure becomes a precise DsnError)
        raise connect_error(dsn, err) from None


def pool_connector(dsn: Dsn) -> Callable[..., Awaitable[asyncpg.Connection]]:
    """Return the ``connect`` of an ``asyncpg.create_pool``: TLS as for :func:`connect`."""

    async def connect_for_pool(*_url: object, **options: Any) -> asyncpg.Connection:
        return await open_connection(dsn.reveal(), dsn.tls, **options)

    return connect_for_pool


def connect_error(dsn: Dsn, err: BaseException) -> DsnError:
    """Map what ``asyncpg.connect`` raised to a :class:`DsnError` with a redacted message."""
    target = dsn.target
    detail = dsn.redact(str(err))
    kind: DsnErrorKind
    match err:
        case asyncpg.InvalidPasswordError():
            kind, message = DsnErrorKind.AUTH_FAILED, f"wrong password for {target}"
        case asyncpg.InvalidAuthorizationSpecificationError():
            kind, message = DsnErrorKind.AUTH_FAILED, f"{target} refused the role: {detail}"
        case asyncpg.InvalidCatalogNameError():
            kind = DsnErrorKind.DATABASE_MISSING
            message = (
                f"{dsn.host}:{dsn.port} has no database {dsn.database!r}; create it "
                "(with the TimescaleDB add-on: add it to the add-on's databases option)"
            )
        case asyncpg.InsufficientPrivilegeError():
            kind, message = DsnErrorKind.PERMISSION_DENIED, f"{target}: {detail}"
        case (
            asyncpg.CannotConnectNowError()
            | asyncpg.TooManyConnectionsError()
            | asyncpg.PostgresConnectionError()
        ):
            kind, message = DsnErrorKind.CANNOT_CONNECT, f"{target}: {detail}"
        case asyncpg.PostgresError():
            kind = DsnErrorKind.UNKNOWN
            message = f"{target}: {detail} (SQLSTATE {getattr(err, 'sqlstate', '?')})"
        case TlsFilesError():
            kind, message = DsnErrorKind.TLS_FAILED, f"TLS to {dsn.host}:{dsn.port}: {detail}"
        case ssl.SSLCertVerificationError():
            kind = DsnErrorKind.TLS_FAILED
            message = (
                f"{dsn.host}:{dsn.port} showed a certificate that does not verify: "
                f"{err.verify_message} (check sslrootcert, and for verify-full the host name)"
            )
        case ssl.SSLError():
            kind, message = (
                DsnErrorKind.TLS_FAILED,
                f"TLS to {dsn.host}:{dsn.port} failed: {detail}",
            )
        case ConnectionError() if "rejected SSL upgrade" in str(err):
            kind = DsnErrorKind.TLS_FAILED
            message = (
                f"{dsn.host}:{dsn.port} does not accept TLS (sslmode={dsn.tls.mode}): turn on ssl "
                "in the server's postgresql.conf, or use sslmode=prefer"
            )
        case socket.gaierror():
            kind, message = DsnErrorKind.HOST_NOT_FOUND, f"host {dsn.host!r} was not found"
        case TimeoutError():
            kind = DsnErrorKind.TIMEOUT
            message = f"{dsn.host}:{dsn.port} did not answer in time"
        case OSError():
            kind = DsnErrorKind.CANNOT_CONNECT
            message = f"nothing accepts connections at {dsn.host}:{dsn.port} ({detail})"
        case ValueError():
            kind, message = DsnErrorKind.INVALID, f"the DSN {dsn.redacted} is invalid: {detail}"
        case _:
            kind, message = DsnErrorKind.UNKNOWN, f"{target}: {type(err).__name__}: {detail}"
    return DsnError(kind, message)


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What validating a DSN found out about the server and the telemetry tables."""

    server_version: str
    timescaledb_available: bool
    schema_version: int
    """0 when the tables do not exist yet; they are created on first start."""
    storage_mode: str | None
    """``timescaledb`` or ``postgresql`` once the tables exist."""


TABLE_PRIVILEGES: Final = {
    "samples": ("SELECT", "INSERT", "DELETE"),
    "units": ("SELECT", "INSERT", "UPDATE"),
    "variables": ("SELECT", "INSERT", "UPDATE"),
    "samples_1m": ("SELECT", "INSERT", "DELETE"),
    "samples_1h": ("SELECT", "INSERT", "DELETE"),
    "rollup_dirty": ("SELECT", "INSERT", "DELETE"),
}
"""What the store does to each table once the schema is migrated."""


async def validate_dsn(
    dsn: Dsn | str, *, schema: str = "public", connect_timeout: float = 10.0
) -> ServerInfo:
    """Connect with ``dsn`` and check everything the store will need; raise :class:`DsnError`.

    Checks the server version, the schema version and the role's privileges: to create
    the tables when migrations are pending, or to read and write them when they exist.
    """
    dsn = dsn if isinstance(dsn, Dsn) else Dsn(dsn)
    validate_schema_name(schema)
    conn = await connect(dsn, schema=schema, connect_timeout=connect_timeout)
    try:
        version_num = int(await conn.fetchval("SHOW server_version_num"))
        version = str(await conn.fetchval("SHOW server_version"))
        if version_num < MIN_SERVER_VERSION:
            raise DsnError(
                DsnErrorKind.UNSUPPORTED_SERVER,
                f"{dsn.host}:{dsn.port} runs PostgreSQL {version}; Makerhub needs 14 or newer",
            )
        state = await read_state(conn, schema)
        if state.version > LATEST_VERSION:
            raise DsnError(
                DsnErrorKind.SCHEMA_TOO_NEW,
                f"the telemetry tables in {dsn.database}.{schema} are at version "
                f"{state.version}, newer than this Makerhub knows ({LATEST_VERSION})",
            )
        await _check_privileges(conn, dsn, schema, state)
        available = bool(
            await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')"
            )
        )
    except asyncpg.PostgresError as err:
        raise DsnError(
            DsnErrorKind.UNKNOWN, f"{dsn.target}: {dsn.redact(str(err))} (SQLSTATE {err.sqlstate})"
        ) from None
    finally:
        await conn.close()
    return ServerInfo(
        server_version=version,
        timescaledb_available=available,
        schema_version=state.version,
        storage_mode=state.storage_mode.value if state.storage_mode else None,
    )


async def _check_privileges(
    conn: asyncpg.Connection, dsn: Dsn, schema: str, state: SchemaState
) -> None:
    role = await conn.fetchval("SELECT current_user")
    where = f"schema {schema} of database {dsn.database}"
    if state.version < LATEST_VERSION:
        row = await conn.fetchrow(
            """
            SELECT n.oid IS NOT NULL AS schema_exists,
                   n.oid IS NOT NULL AND has_schema_privilege(n.oid, 'CREATE') AS schema_create,
                   has_database_privilege(current_database(), 'CREATE') AS database_create
            FROM (SELECT $1::text AS name) AS wanted
            LEFT JOIN pg_namespace AS n ON n.nspname = wanted.name
            """,
            schema,
        )
        if row["schema_create"] or (not row["schema_exists"] and row["database_create"]):
            return
        raise DsnError(
            DsnErrorKind.PERMISSION_DENIED,
            f"role {role} may not create the telemetry tables in {where}: make it the "
            f"database's owner (ALTER DATABASE {dsn.database} OWNER TO {role}) or "
            f"GRANT CREATE ON SCHEMA {schema} TO {role}",
        )
    missing = [
        f"{privilege} on {table}"
        for table, privileges in TABLE_PRIVILEGES.items()
        for privilege in privileges
        if not await conn.fetchval(
            "SELECT has_table_privilege(format('%I.%I', $1::text, $2::text), $3)",
            schema,
            table,
            privilege,
        )
    ]
    if missing:
        raise DsnError(
            DsnErrorKind.PERMISSION_DENIED,
            f"role {role} lacks {', '.join(missing)} in {where}",
        )
