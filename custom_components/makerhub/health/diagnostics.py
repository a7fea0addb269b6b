"""Health's part of the diagnostics: every expected item's verdict, timing and restarts."""

from __future__ import annotations

from typing import Any

from .manager import HubHealth


def health_diagnostics(health: HubHealth) -> dict[str, Any]:
    """Return the summary and each item's health (names and ids only, no secrets)."""
    summary = health.monitor.summary()
    return {
        "healthy": summary.healthy,
        "total": summary.total,
        "root_causes": list(summary.root_causes),
        "next_deadline": health.monitor.next_deadline(),
        "items": {
            item.id: {
                "name": item.name,
                "kind": item.kind,
                "parent": item.parent,
                "status": str(item.status),
                "root_cause": item.root_cause,
                "message": item.message,
                "period": item.period,
                "grace": item.grace,
                "last_seen": item.last_seen,
                "up_since": item.up_since,
                "last_failure": item.last_failure,
                "restarts": item.restarts,
                "crash_looping": item.crash_looping,
            }
            for item in health.monitor
        },
    }
