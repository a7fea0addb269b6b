"""Update entities: each feature's, gathered from its folder.

firmware/update.py.
"""

from __future__ import annotations

from .features import platform_of
from .firmware import update as firmware

PARALLEL_UPDATES = 0

async_setup_entry = platform_of(firmware)
