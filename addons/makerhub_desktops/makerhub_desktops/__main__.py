"""``python -m makerhub_desktops --data DIR [--host H] [--port N] [--token T] …``."""

from __future__ import annotations

from collections.abc import Sequence
import logging

from aiohttp import web

from .api import create_app
from .clock import SystemClock
from .manager import DesktopManager
from .settings import configure_logging, load_settings, parse_args

_LOGGER = logging.getLogger("makerhub_desktops")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the service until interrupted (SIGINT/SIGTERM); desktops keep running."""
    settings = load_settings(parse_args(argv))
    configure_logging(settings.log_level)
    app = create_app(DesktopManager(settings, SystemClock()))
    _LOGGER.info("listening on %s:%s", settings.host, settings.port)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
