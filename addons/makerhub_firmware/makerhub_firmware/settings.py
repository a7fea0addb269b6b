"""The service's settings: command-line arguments, and the add-on's ``options.json``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
import json
import logging
import os
from pathlib import Path
import secrets
from typing import Any, Final

from .gitcmd import GIT_SCHEMES
from .signing import DEFAULT_TTL
from .vendor.secret_box import read_private_file, write_private_file

DEFAULT_PORT: Final = 8099
DEFAULT_MAX_FILE_MIB: Final = 8
DEFAULT_CACHE_MIB: Final = 1024
TOKEN_FILE: Final = "api.token"  # noqa: S105  (a file name)
SUPERVISOR_INGRESS_IP: Final = "172.30.32.2"
LOG_LEVELS: Final = ("debug", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service is configured with."""

    data_dir: Path
    token: str = field(repr=False)
    host: str = "0.0.0.0"  # noqa: S104  (an add-on listens on its container's address)
    port: int = DEFAULT_PORT
    allowed_schemes: frozenset[str] = frozenset({"https", "ssh"})
    external_url: str | None = None
    max_file_size: int = DEFAULT_MAX_FILE_MIB * 1024 * 1024
    cache_max_bytes: int = DEFAULT_CACHE_MIB * 1024 * 1024
    url_ttl: int = DEFAULT_TTL
    ssh_program: str = "ssh"
    known_hosts: Path | None = None
    git_timeout: float = 120.0
    trusted_ingress: str | None = None
    """The Supervisor's ingress address, whose requests Home Assistant authenticated."""
    supervisor_token: str | None = field(default=None, repr=False)
    supervisor_url: str = "http://supervisor"
    log_level: str = "info"


def load_or_create_token(data_dir: Path) -> str:
    """Return the API token kept in the data dir, generating it on first start."""
    path = data_dir / TOKEN_FILE
    if not path.exists():
        write_private_file(path, secrets.token_urlsafe(32).encode())
    return read_private_file(path).decode().strip()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m makerhub_firmware", description="Makerhub firmware service"
    )
    parser.add_argument("--data", type=Path, required=True, help="data directory")
    parser.add_argument("--host", default=None, help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--token", default=None, help="API bearer token (default: generated)")
    parser.add_argument("--token-file", type=Path, default=None, help="read the token from a file")
    parser.add_argument(
        "--options", type=Path, default=None, help="the add-on's options.json (Supervisor)"
    )
    parser.add_argument(
        "--allow-url-scheme",
        action="append",
        default=[],
        choices=sorted(GIT_SCHEMES - {"https", "ssh"}),
        help="also allow http, git or file clone URLs (local test fakes)",
    )
    parser.add_argument("--external-url", default=None, help="base URL units download from")
    parser.add_argument("--max-file-mib", type=int, default=None)
    parser.add_argument("--cache-mib", type=int, default=None)
    parser.add_argument("--url-ttl", type=int, default=None, help="signed URL lifetime, seconds")
    parser.add_argument("--ssh-program", default=None, help="ssh client git uses")
    parser.add_argument("--known-hosts", type=Path, default=None)
    parser.add_argument("--log-level", default=None, choices=LOG_LEVELS)
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """Merge the command line, the add-on options and the environment.

    Precedence: command line, then ``options.json``, then defaults. The token is
    ``--token``/``--token-file``, else the add-on option ``api_token``, else one generated
    on first start and kept in ``<data>/api.token`` (mode 0600).
    """
    env = os.environ if environ is None else environ
    data_dir: Path = args.data
    data_dir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {}
    options_path = args.options
    if options_path is None and (data_dir / "options.json").exists():
        options_path = data_dir / "options.json"
    if options_path is not None:
        options = json.loads(options_path.read_text())
    token = args.token
    if token is None and args.token_file is not None:
        token = args.token_file.read_text().strip()
    if token is None and options.get("api_token"):
        token = str(options["api_token"])
    if token is None:
        token = load_or_create_token(data_dir)
    if len(token) < 16:
        raise SystemExit("the API token must be at least 16 characters")
    known_hosts = args.known_hosts
    if known_hosts is None and Path("/config/known_hosts").is_file() and "SUPERVISOR_TOKEN" in env:
        known_hosts = Path("/config/known_hosts")
    max_file_mib = args.max_file_mib or options.get("max_file_size_mib") or DEFAULT_MAX_FILE_MIB
    cache_mib = args.cache_mib or options.get("cache_size_mib") or DEFAULT_CACHE_MIB
    supervisor_token = env.get("SUPERVISOR_TOKEN")
    return Settings(
        data_dir=data_dir,
        token=token,
        host=args.host or "0.0.0.0",  # noqa: S104
        port=args.port or DEFAULT_PORT,
        allowed_schemes=frozenset({"https", "ssh", *args.allow_url_scheme}),
        external_url=args.external_url or options.get("external_url") or None,
        max_file_size=int(max_file_mib) * 1024 * 1024,
        cache_max_bytes=int(cache_mib) * 1024 * 1024,
        url_ttl=args.url_ttl or options.get("url_ttl") or DEFAULT_TTL,
        ssh_program=args.ssh_program or "ssh",
        known_hosts=known_hosts,
        trusted_ingress=SUPERVISOR_INGRESS_IP if supervisor_token else None,
        supervisor_token=supervisor_token,
        log_level=args.log_level or options.get("log_level") or "info",
    )


def configure_logging(level: str) -> None:
    """Log to stderr at ``level`` (the Supervisor shows the add-on's stderr)."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
