"""To-do lists: each feature's, gathered from its folder.

projects/todo.py.
"""

from __future__ import annotations

from .features import platform_of
from .projects import todo as projects

PARALLEL_UPDATES = 0

async_setup_entry = platform_of(projects)
