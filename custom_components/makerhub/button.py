"""Buttons: each feature's, gathered from its folder.

units/button.py, broker_access/button.py, firmware/button.py, projects/button.py,
health/button.py.
"""

from __future__ import annotations

from .broker_access import button as broker_access
from .features import platform_of
from .firmware import button as firmware
from .health import button as health
from .projects import button as projects
from .units import button as units

PARALLEL_UPDATES = 0

async_setup_entry = platform_of(units, broker_access, firmware, projects, health)
