"""``python -m makerhub_recorder --data DIR [--host H] [--port N] [--token T] …``."""

from __future__ import annotations

from collections.abc import Sequence
import logging

from aiohttp import web

from .api import create_app
from .service import RecorderService
from .settings import configure_logging, load_settings, parse_args

_LOGGER = logging.getLogger("makerhub_recorder")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the service until interrupted (SIGINT/SIGTERM stop ffmpeg cleanly)."""
    settings = load_settings(parse_args(argv))
    configure_logging(settings.log_level)
    app = create_app(RecorderService(settings))
    _LOGGER.info("listening on %s:%s", settings.host, settings.port)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
