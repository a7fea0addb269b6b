"""``python -m makerhub_display``."""

import sys

from .cli import main

sys.exit(main())
