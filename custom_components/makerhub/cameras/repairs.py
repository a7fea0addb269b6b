"""The fix flow of a refused recorder token: enter a new one, checked with the service,
stored sealed in the hub's options (the hub reloads with it)."""

from __future__ import annotations

from ..flows import ServiceTokenFlow
from .options import RECORDER_SERVICE


class RecorderTokenFlow(ServiceTokenFlow):
    """Ask for the recorder service's new token (issue ``recorder_token_refused``)."""

    service = RECORDER_SERVICE
    not_configured = "recorder_not_configured"
