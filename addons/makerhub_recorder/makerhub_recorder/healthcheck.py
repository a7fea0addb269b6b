"""The container's HEALTHCHECK: ``python -m makerhub_recorder.healthcheck``.

Asks ``/api/health`` on the local port with the service's own token (read the way the
service reads it) and exits 0 only on an ``ok`` answer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import sys
import urllib.request

from .settings import DEFAULT_PORT, TOKEN_FILE


def main() -> int:
    """Return the process exit code."""
    data = Path(os.environ.get("MAKERHUB_DATA", "/data"))
    token = ""
    options = data / "options.json"
    if options.exists():
        token = str(json.loads(options.read_text()).get("api_token") or "")
    if not token and (data / TOKEN_FILE).exists():
        token = (data / TOKEN_FILE).read_text().strip()
    port = int(os.environ.get("MAKERHUB_PORT", DEFAULT_PORT))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/health", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return 0 if json.load(response).get("status") == "ok" else 1
    except OSError as err:
        print(f"unhealthy: {err}", file=sys.stderr)  # noqa: T201
        return 1


if __name__ == "__main__":
    sys.exit(main())
