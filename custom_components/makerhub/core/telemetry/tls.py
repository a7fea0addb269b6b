"""TLS of telemetry connections: libpq's ``sslmode``, with the SSL context built off the loop.

Given ``sslmode`` as a string, asyncpg builds its SSL context while it connects, inside
the event loop, and that reads certificate files (``load_cert_chain``,
``load_verify_locations``: blocking calls Home Assistant reports). Here the context is
built in a worker thread from the DSN's parameters, with libpq's defaults (the ``PGSSL*``
environment variables, then ``~/.postgresql/``), and handed to asyncpg ready. asyncpg
treats a ready context as ``require``, so ``allow`` and ``prefer`` fall back between
plain and TLS here, as libpq does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import os
from pathlib import Path
import socket
import ssl
from typing import Any, Final

import asyncpg

ALPN_PROTOCOLS: Final = ["postgresql"]
DEFAULT_MIN_PROTOCOL: Final = "TLSv1.2"
TLS_VERSIONS: Final = {
    "TLSv1": "TLSv1",
    "TLSv1.1": "TLSv1_1",
    "TLSv1.2": "TLSv1_2",
    "TLSv1.3": "TLSv1_3",
}
"""libpq's protocol version names and the :class:`ssl.TLSVersion` member of each."""


class SslMode(StrEnum):
    """libpq's ``sslmode``: how much TLS a connection needs, weakest first."""

    DISABLE = "disable"
    ALLOW = "allow"
    """Plain first; TLS when the server refuses plain connections."""
    PREFER = "prefer"
    """TLS first, unverified; plain when the server has no TLS or refuses it (the default)."""
    REQUIRE = "require"
    """TLS, verified only when a root certificate is at hand."""
    VERIFY_CA = "verify-ca"
    """TLS with the server's certificate signed by ``sslrootcert``."""
    VERIFY_FULL = "verify-full"
    """Like ``verify-ca``, and the certificate names the host."""


class TlsSettingsError(ValueError):
    """A TLS parameter of the DSN that is not valid; the message names it."""


class TlsFilesError(Exception):
    """A certificate, key or CRL file that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """The TLS parameters of a DSN (query, then ``PGSSL*`` environment variables)."""

    mode: SslMode = SslMode.PREFER
    rootcert: str | None = None
    cert: str | None = None
    key: str | None = None
    password: str | None = field(default=None, repr=False)
    crl: str | None = None
    min_protocol: str = DEFAULT_MIN_PROTOCOL
    max_protocol: str | None = None

    @classmethod
    def parse(
        cls,
        params: Mapping[str, str],
        *,
        unix_socket: bool,
        environ: Mapping[str, str] = os.environ,
    ) -> TlsSettings:
        """Read the TLS parameters; raise :class:`TlsSettingsError` naming a bad one.

        Over a Unix socket there is no TLS, whatever ``sslmode`` says (as in libpq).
        """

        def value(name: str, variable: str) -> str | None:
            return params.get(name) or environ.get(variable) or None

        mode_name = value("sslmode", "PGSSLMODE") or SslMode.PREFER.value
        try:
            mode = SslMode(mode_name)
        except ValueError:
            choices = ", ".join(mode.value for mode in SslMode)
            raise TlsSettingsError(f"sslmode must be one of {choices}, not {mode_name!r}") from None
        min_protocol = value("ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION")
        max_protocol = value("ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION")
        for name, version in (
            ("ssl_min_protocol_version", min_protocol),
            ("ssl_max_protocol_version", max_protocol),
        ):
            if version is not None and version not in TLS_VERSIONS:
                raise TlsSettingsError(
                    f"{name} must be one of {', '.join(TLS_VERSIONS)}, not {version!r}"
                )
        negotiation = value("sslnegotiation", "PGSSLNEGOTIATION")
        if negotiation == "direct" and mode not in (
            SslMode.REQUIRE,
            SslMode.VERIFY_CA,
            SslMode.VERIFY_FULL,
        ):
            raise TlsSettingsError(
                "sslnegotiation=direct needs sslmode=require, verify-ca or verify-full"
            )
        return cls(
            mode=SslMode.DISABLE if unix_socket else mode,
            rootcert=value("sslrootcert", "PGSSLROOTCERT"),
            cert=value("sslcert", "PGSSLCERT"),
            key=value("sslkey", "PGSSLKEY"),
            password=params.get("sslpassword") or None,
            crl=value("sslcrl", "PGSSLCRL"),
            min_protocol=min_protocol or DEFAULT_MIN_PROTOCOL,
            max_protocol=max_protocol,
        )


def _default_file(name: str) -> str | None:
    """Return ``~/.postgresql/<name>`` if it exists (libpq's default location)."""
    # os.path: without a home it leaves "~/..." (which is no file); Path.expanduser raises.
    path = Path(os.path.expanduser(f"~/.postgresql/{name}"))  # noqa: PTH111
    return str(path) if path.is_file() else None


def build_ssl_context(settings: TlsSettings) -> ssl.SSLContext:
    """Return the client SSL context ``settings`` ask for; blocking (it reads files).

    Raise :class:`TlsFilesError` when a named file cannot be used, or when
    ``verify-ca``/``verify-full`` has no root certificate to verify with.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if settings.mode not in (SslMode.ALLOW, SslMode.PREFER):
        rootcert = settings.rootcert or _default_file("root.crt")
        if rootcert is not None:
            _load("sslrootcert", rootcert, context.load_verify_locations, rootcert)
            context.verify_mode = ssl.CERT_REQUIRED
        elif settings.mode is not SslMode.REQUIRE:
            raise TlsFilesError(
                f"sslmode={settings.mode} needs the certificate of the CA that signed the "
                "server's: add sslrootcert=/path/to/root.crt to the URL"
            )
        crl = settings.crl or _default_file("root.crl")
        if crl is not None:
            _load("sslcrl", crl, context.load_verify_locations, crl)
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
        context.check_hostname = settings.mode is SslMode.VERIFY_FULL
    cert = settings.cert or _default_file("postgresql.crt")
    if cert is not None:
        key = settings.key or _default_file("postgresql.key")
        # A password, even an empty one, keeps OpenSSL from prompting on a terminal.
        _load("sslcert", cert, context.load_cert_chain, cert, key, settings.password or "")
    context.minimum_version = ssl.TLSVersion[TLS_VERSIONS[settings.min_protocol]]
    if settings.max_protocol is not None:
        context.maximum_version = ssl.TLSVersion[TLS_VERSIONS[settings.max_protocol]]
    context.set_alpn_protocols(ALPN_PROTOCOLS)  # direct TLS (sslnegotiation=direct) needs it
    return context


def _load(parameter: str, path: str, load: Callable[..., object], *args: Any) -> None:
    """Call ``load(*args)``; raise :class:`TlsFilesError` naming the parameter and file."""
    try:
        load(*args)
    except ssl.SSLError as err:  # not a certificate or key, or the wrong sslpassword
        reason = err.reason or str(err)
    except OSError as err:  # missing, unreadable
        reason = err.strerror or str(err)
    else:
        return
    raise TlsFilesError(f"{parameter} {path} cannot be used: {reason}")


async def open_connection(url: str, settings: TlsSettings, **options: Any) -> asyncpg.Connection:
    """Connect like ``asyncpg.connect(url, **options)``, with TLS as ``settings`` say.

    The SSL context is built in a worker thread. Raise what asyncpg raises, or
    :class:`TlsFilesError`.
    """
    match settings.mode:
        case SslMode.DISABLE:
            return await asyncpg.connect(url, ssl=False, **options)
        case SslMode.ALLOW:
            return await _connect_falling_back(url, settings, options, tls_first=False)
        case SslMode.PREFER:
            return await _connect_falling_back(url, settings, options, tls_first=True)
        case _:
            context = await asyncio.to_thread(build_ssl_context, settings)
            return await asyncpg.connect(url, ssl=context, **options)


async def _connect_falling_back(
    url: str, settings: TlsSettings, options: dict[str, Any], *, tls_first: bool
) -> asyncpg.Connection:
    """Try TLS then plain (``prefer``) or plain then TLS (``allow``), as libpq does."""
    first: ssl.SSLContext | bool = False
    if tls_first:
        first = await asyncio.to_thread(build_ssl_context, settings)
    try:
        return await asyncpg.connect(url, ssl=first, **options)
    except Exception as first_error:
        if not _worth_the_other_way(first_error):
            raise
        second: ssl.SSLContext | bool = False
        if not tls_first:
            second = await asyncio.to_thread(build_ssl_context, settings)
        try:
            return await asyncpg.connect(url, ssl=second, **options)
        except Exception as second_error:  # noqa: BLE001  (one of the two errors is raised)
            raise _telling_error(first_error, second_error) from None


def _worth_the_other_way(err: BaseException) -> bool:
    """Return whether the other of plain and TLS might succeed where one failed.

    It might when the server refused TLS (or the handshake failed) or refused the
    session; not when nothing answers or the name does not resolve.
    """
    if isinstance(
        err, (TimeoutError, ConnectionRefusedError, socket.gaierror, asyncpg.CannotConnectNowError)
    ):
        return False
    return isinstance(err, (ssl.SSLError, ConnectionError, asyncpg.PostgresError))


def _telling_error(first: Exception, second: Exception) -> Exception:
    """Return the error to report when plain and TLS both failed.

    The second, unless it is only pg_hba.conf refusing that way in (``no pg_hba.conf
    entry ... no encryption``) after the server said something more useful the first way
    (a wrong password, a missing database).
    """
    only_refused_that_way = isinstance(
        second, asyncpg.InvalidAuthorizationSpecificationError
    ) and not isinstance(second, asyncpg.InvalidPasswordError)
    return first if only_refused_that_way and isinstance(first, asyncpg.PostgresError) else second
