"""The fix flow of a refused desktops token: enter a new one, checked by connecting with
it, stored sealed in the hub's options (the hub reloads with it; the next good poll keeps
the issue away)."""

from __future__ import annotations

from ..flows import ServiceTokenFlow
from .options import DESKTOPS_SERVICE


class DesktopsTokenFlow(ServiceTokenFlow):
    """Ask for the desktops service's new token (issue ``desktops_token_refused``)."""

    service = DESKTOPS_SERVICE
    not_configured = "desktops_not_configured"
