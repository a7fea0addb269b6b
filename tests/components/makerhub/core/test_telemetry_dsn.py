"""DSN parsing, redaction and validation by connecting, with one error per cause."""

from __future__ import annotations

import pytest

from custom_components.makerhub.core.telemetry import (
    DEFAULT_ADDON_DSN,
    Dsn,
    DsnError,
    DsnErrorKind,
    validate_dsn,
)
from custom_components.makerhub.core.telemetry.dsn import connect
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
