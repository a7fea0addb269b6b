"""Generate ``translations/en.json`` from ``strings.json``, resolving ``[%key:...%]``.

Home Assistant does this for core integrations at build time; a custom integration ships
the resolved file. Run ``scripts/translations``; a test fails when the file is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys
from typing import Any

import homeassistant

REPO = Path(__file__).resolve().parents[2]
INTEGRATION = REPO / "custom_components" / "makerhub"
REFERENCE = re.compile(r"\[%key:([a-z0-9_:]+)%\]")


def _lookup(tree: dict[str, Any], path: str) -> str:
    node: Any = tree
    for part in path.split("::"):
        node = node[part]
    if not isinstance(node, str):
        raise TypeError(f"{path} is not a string")
    return node


def resolve(strings: dict[str, Any]) -> dict[str, Any]:
    """Return ``strings`` with every reference replaced by the text it names."""
    common = json.loads((Path(homeassistant.__file__).parent / "strings.json").read_text())
    roots = {"component": {"makerhub": strings}, "common": common["common"]}

    def text(value: str) -> str:
        def replace(match: re.Match[str]) -> str:
            return text(_lookup(roots, match.group(1)))

        return REFERENCE.sub(replace, value)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        return text(node) if isinstance(node, str) else node

    resolved: dict[str, Any] = walk(strings)
    return resolved


def rendered() -> str:
    """Return the text ``translations/en.json`` must have."""
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    return json.dumps(resolve(strings), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Write the file."""
    target = INTEGRATION / "translations" / "en.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(rendered())
    print(f"wrote {target.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
