"""Selects: each feature's, gathered from its folder.

units/select.py, projects/select.py.
"""

from __future__ import annotations

from .features import platform_of
from .projects import select as projects
from .units import select as units

PARALLEL_UPDATES = 0

async_setup_entry = platform_of(units, projects)
