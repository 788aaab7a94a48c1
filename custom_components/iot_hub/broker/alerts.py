"""Alerts received on `iot/alerts/{device_id}`: counted and the latest kept for diagnostics."""

from collections import deque
from datetime import datetime
from typing import Any

from ..core.local.models import Alert

ALERT_SAMPLES = 10


class AlertLog:
    """The latest alerts of one broker."""

    def __init__(self) -> None:
        self.received = 0
        self.latest: deque[dict[str, Any]] = deque(maxlen=ALERT_SAMPLES)

    def add(self, topic: str, alert: Alert, now: datetime) -> None:
        """Count an alert and keep its summary."""
        self.received += 1
        self.latest.append(
            {
                "time": now.isoformat(),
                "topic": topic,
                "device_id": alert.device_id,
                "level": alert.level,
                "message": alert.message,
            }
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return the count and the latest alerts."""
        return {"alerts_received": self.received, "alerts": list(self.latest)}
