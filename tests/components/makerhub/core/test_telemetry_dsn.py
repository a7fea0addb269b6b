"""DSN parsing, redaction and validation by connecting, with one error per cause."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
import struct

import asyncpg
import pytest

from custom_components.makerhub.core.telemetry import (
    DEFAULT_ADDON_DSN,
    Dsn,
    DsnError,
    DsnErrorKind,
    validate_dsn,
)
from custom_components.makerhub.core.telemetry.dsn import connect, validate_schema_name
from custom_components.makerhub.core.telemetry.migrations import LATEST_VERSION, migrate
from dev.processes.ports import free_port
from dev.processes.postgres import PostgresServer, dsn

PASSWORD = "s3cr%t-p@ss"
ENCODED = "s3cr%25t-p%40ss"


def test_dsn_hides_its_password_everywhere() -> None:
    """repr, str, target and redact never show the password, encoded or not."""
    url = f"postgresql://alice:{ENCODED}@db.example:6543/tele?sslpassword=k3y&sslmode=prefer"
    parsed = Dsn(url)
    assert (parsed.host, parsed.port, parsed.user, parsed.database) == (
        "db.example",
        6543,
        "alice",
        "tele",
    )
    assert parsed.password == PASSWORD
    for text in (repr(parsed), str(parsed), parsed.target, parsed.redacted):
        assert ENCODED not in text
        assert PASSWORD not in text
        assert "k3y" not in text
    assert (
        parsed.redacted
        == "postgresql://alice:***@db.example:6543/tele?sslpassword=***&sslmode=prefer"
    )
    assert parsed.redact(f"server said {PASSWORD} and {ENCODED}") == "server said *** and ***"
    assert parsed.reveal() == url


def test_default_addon_dsn_parses() -> None:
    """The documented add-on default is a valid DSN for database makerhub."""
    parsed = Dsn(DEFAULT_ADDON_DSN)
    assert (parsed.host, parsed.port, parsed.database) == ("77b2833f-timescaledb", 5432, "makerhub")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://u:pw@host/db", "must be a URL like"),
        ("host=db user=u password=pw", "must be a URL like"),
        ("postgresql://u:pw@host:port/db", "port must be a number"),
        ("postgresql://u:pw@/db", "names no host"),
    ],
)
def test_malformed_dsns_are_invalid(url: str, fragment: str) -> None:
    """Malformed DSNs raise INVALID with a message that says what is wrong, without 'pw'."""
    with pytest.raises(DsnError) as caught:
        Dsn(url)
    assert caught.value.kind is DsnErrorKind.INVALID
    assert fragment in str(caught.value)
    assert ":pw@" not in str(caught.value)


async def test_valid_dsn_reports_the_server(
    socket_enabled: None, telemetry_dsn: Dsn, pg_schema: str
) -> None:
    """A good DSN validates; the schema version shows whether tables exist yet."""
    info = await validate_dsn(telemetry_dsn, schema=pg_schema)
    assert info.server_version.startswith("15")
    assert info.schema_version == 0
    assert info.storage_mode is None
    conn = await connect(telemetry_dsn, schema=pg_schema)
    try:
        await migrate(conn, pg_schema)
    finally:
        await conn.close()
    info = await validate_dsn(telemetry_dsn, schema=pg_schema)
    assert info.schema_version == LATEST_VERSION
    assert info.storage_mode == ("timescaledb" if info.timescaledb_available else "postgresql")


async def test_wrong_port(socket_enabled: None) -> None:
    """Nothing listening: CANNOT_CONNECT naming host and port."""
    port = free_port()
    with pytest.raises(DsnError) as caught:
        await validate_dsn(dsn("postgres", port=port, password=ENCODED), connect_timeout=5)
    assert caught.value.kind is DsnErrorKind.CANNOT_CONNECT
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert ENCODED not in str(caught.value)


async def test_missing_database(socket_enabled: None) -> None:
    """A database that does not exist: DATABASE_MISSING naming it."""
    with pytest.raises(DsnError) as caught:
        await validate_dsn(dsn("makerhub_no_such_database_xyz"))
    assert caught.value.kind is DsnErrorKind.DATABASE_MISSING
    assert "makerhub_no_such_database_xyz" in str(caught.value)


async def test_unknown_role(socket_enabled: None, telemetry_database: str) -> None:
    """A role the server does not know: AUTH_FAILED."""
    with pytest.raises(DsnError) as caught:
        await validate_dsn(dsn(telemetry_database, user="makerhub_no_such_role"))
    assert caught.value.kind is DsnErrorKind.AUTH_FAILED
    assert "makerhub_no_such_role" in str(caught.value)


async def test_wrong_password(
    socket_enabled: None, own_postgres: PostgresServer, own_database: str
) -> None:
    """A role that needs a password, given the wrong one: AUTH_FAILED, password hidden."""
    own_postgres.ensure_role("secretive", "right-one")
    wrong = own_postgres.dsn(own_database, user="secretive", password="wr0ng-0ne")
    with pytest.raises(DsnError) as caught:
        await validate_dsn(wrong)
    assert caught.value.kind is DsnErrorKind.AUTH_FAILED
    assert "wrong password" in str(caught.value)
    assert "wr0ng-0ne" not in str(caught.value)
    assert "wr0ng-0ne" not in repr(caught.value)
    own_postgres.psql(f'ALTER DATABASE "{own_database}" OWNER TO secretive')
    right = own_postgres.dsn(own_database, user="secretive", password="right-one")
    assert (await validate_dsn(right)).schema_version == 0


async def test_no_connect_privilege(
    socket_enabled: None, own_postgres: PostgresServer, own_database: str
) -> None:
    """A role refused CONNECT on the database: PERMISSION_DENIED."""
    own_postgres.ensure_role("outsider")
    own_postgres.psql(f'REVOKE CONNECT ON DATABASE "{own_database}" FROM PUBLIC')
    with pytest.raises(DsnError) as caught:
        await validate_dsn(own_postgres.dsn(own_database, user="outsider"))
    assert caught.value.kind is DsnErrorKind.PERMISSION_DENIED
    assert "permission denied for database" in str(caught.value)


async def test_no_create_privilege_then_no_write_privilege(
    socket_enabled: None, own_postgres: PostgresServer, own_database: str
) -> None:
    """A role that may connect but not create the tables, then not write existing ones."""
    own_postgres.ensure_role("reader")
    own_postgres.psql(f'REVOKE CREATE ON DATABASE "{own_database}" FROM PUBLIC')
    reader = own_postgres.dsn(own_database, user="reader")
    with pytest.raises(DsnError) as caught:
        await validate_dsn(reader)  # PostgreSQL 15: no CREATE on public for non-owners
    assert caught.value.kind is DsnErrorKind.PERMISSION_DENIED
    assert "may not create the telemetry tables" in str(caught.value)
    assert "GRANT CREATE ON SCHEMA public TO reader" in str(caught.value)

    owner = Dsn(own_postgres.dsn(own_database))
    conn = await connect(owner)
    try:
        await migrate(conn, "public")
        await conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    finally:
        await conn.close()
    with pytest.raises(DsnError) as caught:
        await validate_dsn(reader)
    assert caught.value.kind is DsnErrorKind.PERMISSION_DENIED
    assert "INSERT on samples" in str(caught.value)
    assert "SELECT on samples" not in str(caught.value)

    own_postgres.psql(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO reader",
        database=own_database,
    )
    assert (await validate_dsn(reader)).schema_version == LATEST_VERSION
    conn = await connect(Dsn(reader))
    try:  # a migrated schema needs no CREATE: starting with table privileges works
        assert (await migrate(conn, "public")).version == LATEST_VERSION
    finally:
        await conn.close()


def test_schema_names_are_plain_identifiers() -> None:
    """Lowercase identifiers pass; anything that would need quoting is refused."""
    assert validate_schema_name("telemetry_2") == "telemetry_2"
    for bad in ("Telemetry", "2telemetry", 'x"; DROP TABLE samples; --', "t" * 64, ""):
        with pytest.raises(ValueError, match="must match"):
            validate_schema_name(bad)


async def test_bad_schema_name_is_refused_before_connecting() -> None:
    """validate_dsn checks the schema name first: nothing listens here, yet no DsnError."""
    with pytest.raises(ValueError, match="must match"):
        await validate_dsn(dsn("postgres", port=free_port()), schema="Bad-Name")


def test_dsns_compare_by_their_full_url() -> None:
    """Two DSNs differing only in the password differ, though their redacted forms match."""
    first = Dsn("postgresql://alice:one@db:5432/tele")
    again = Dsn("postgresql://alice:one@db:5432/tele")
    other = Dsn("postgresql://alice:two@db:5432/tele")
    assert first == again
    assert first != other
    assert first.redacted == other.redacted
    assert first != "postgresql://alice:one@db:5432/tele"
    assert {first, again, other} == {first, other}
    assert len({first, again, other}) == 2


type Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def tcp_server(handler: Handler) -> AsyncIterator[int]:
    """Serve ``handler`` on a free port of 127.0.0.1; yield the port."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def answers_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Not PostgreSQL: an HTTP server's error, then the connection is closed."""
    await reader.read(8)
    writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    await writer.drain()
    writer.close()


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept the connection and say nothing (a firewall that swallows packets, a hung server)."""
    await reader.read()  # until the client gives up and closes
    writer.close()


async def asks_for_kerberos(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the startup message, then ask for Kerberos V5, which asyncpg does not speak."""
    (length,) = struct.unpack("!i", await reader.readexactly(4))
    await reader.readexactly(length - 4)
    writer.write(b"R" + struct.pack("!ii", 8, 2))  # AuthenticationKerberosV5
    await writer.drain()
    await reader.read()
    writer.close()


@pytest.mark.parametrize(
    ("handler", "kind", "fragment"),
    [
        (answers_http, DsnErrorKind.CANNOT_CONNECT, "connection was closed"),
        (never_answers, DsnErrorKind.TIMEOUT, "did not answer in time"),
        (asks_for_kerberos, DsnErrorKind.UNKNOWN, "unsupported authentication method"),
    ],
)
async def test_server_that_is_not_a_usable_postgresql(
    socket_enabled: None, handler: Handler, kind: DsnErrorKind, fragment: str
) -> None:
    """Something else on the port, a silent one, an unsupported login: one kind each."""
    async with tcp_server(handler) as port:
        url = dsn("postgres", port=port, password=ENCODED) + "?sslmode=disable"
        with pytest.raises(DsnError) as caught:
            await validate_dsn(url, connect_timeout=0.5)
    assert caught.value.kind is kind
    assert fragment in str(caught.value)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert ENCODED not in str(caught.value)


async def test_host_not_found(socket_enabled: None) -> None:
    """A host name that does not resolve (.invalid never does): HOST_NOT_FOUND naming it."""
    with pytest.raises(DsnError) as caught:
        await validate_dsn("postgresql://postgres@no-such-host.invalid:5432/makerhub")
    assert caught.value.kind is DsnErrorKind.HOST_NOT_FOUND
    assert "'no-such-host.invalid' was not found" in str(caught.value)


async def test_parameters_the_client_or_the_server_refuse(
    socket_enabled: None, telemetry_database: str
) -> None:
    """A value asyncpg refuses is INVALID; a setting the server does not know, UNKNOWN."""
    with pytest.raises(DsnError) as caught:
        await validate_dsn(dsn(telemetry_database) + "?target_session_attrs=bogus")
    assert caught.value.kind is DsnErrorKind.INVALID
    assert "target_session_attrs" in str(caught.value)

    with pytest.raises(DsnError) as caught:
        await validate_dsn(dsn(telemetry_database) + "?no_such_setting=1")
    assert caught.value.kind is DsnErrorKind.UNKNOWN
    assert 'unrecognized configuration parameter "no_such_setting"' in str(caught.value)
    assert "SQLSTATE 42704" in str(caught.value)


async def test_database_closed_to_connections(
    socket_enabled: None, own_postgres: PostgresServer, own_database: str
) -> None:
    """A database with ALLOW_CONNECTIONS false: UNKNOWN with the server's reason."""
    own_postgres.psql(f'ALTER DATABASE "{own_database}" ALLOW_CONNECTIONS false')
    with pytest.raises(DsnError) as caught:
        await validate_dsn(own_postgres.dsn(own_database))
    assert caught.value.kind is DsnErrorKind.UNKNOWN
    assert "not currently accepting connections" in str(caught.value)
    assert "SQLSTATE 55000" in str(caught.value)


async def test_schema_holding_another_apps_schema_version_table(
    pg_conn: asyncpg.Connection, telemetry_dsn: Dsn, pg_schema: str
) -> None:
    """A schema_version table not made by Makerhub: UNKNOWN with the missing table named."""
    await pg_conn.execute(f'CREATE SCHEMA "{pg_schema}"')
    await pg_conn.execute("CREATE TABLE schema_version (version integer)")
    await pg_conn.execute("INSERT INTO schema_version VALUES (1)")
    with pytest.raises(DsnError) as caught:
        await validate_dsn(telemetry_dsn, schema=pg_schema)
    assert caught.value.kind is DsnErrorKind.UNKNOWN
    assert 'relation "telemetry_meta" does not exist' in str(caught.value)
    assert "SQLSTATE 42P01" in str(caught.value)
