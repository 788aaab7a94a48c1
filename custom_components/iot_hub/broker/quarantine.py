"""Rejected messages: counted per reason, a few redacted samples, one log line per hour."""

from collections import Counter, deque
from datetime import datetime, timedelta
import logging
from typing import Any

from ..core.local.models import Rejected
from ..core.local.redact import payload_sample, printable

_LOGGER = logging.getLogger(__name__)

REJECTED_SAMPLES = 10
SAMPLE_BYTES = 256
LOG_PERIOD = timedelta(hours=1)


class Quarantine:
    """What was refused on one broker, and why."""

    def __init__(self, broker: str) -> None:
        self.broker = broker
        self.counts: Counter[str] = Counter()
        self.samples: deque[dict[str, Any]] = deque(maxlen=REJECTED_SAMPLES)
        # One log line per reason per LOG_PERIOD, never one per message.
        self._logged: dict[str, datetime] = {}
        self._unlogged: Counter[str] = Counter()

    @property
    def total(self) -> int:
        """Messages rejected since the start."""
        return sum(self.counts.values())

    def reject(self, topic: str, payload: bytes, rejected: Rejected, now: datetime) -> None:
        """Count a rejection, keep a redacted sample, log it unless logged lately.

        Never raises, whatever the topic and payload; the topic and detail quoted in the
        log and the sample are capped and printable (a topic may be 65 KB of any text).
        """
        reason = rejected.reason.value
        self.counts[reason] += 1
        shown_topic = printable(topic)
        detail = printable(rejected.detail)
        self.samples.append(
            {
                "time": now.isoformat(),
                "topic": shown_topic,
                "reason": reason,
                "detail": detail,
                "size": len(payload),
                "payload": payload_sample(payload, SAMPLE_BYTES),
            }
        )
        last = self._logged.get(reason)
        if last is not None and now - last < LOG_PERIOD:
            self._unlogged[reason] += 1
            return
        self._logged[reason] = now
        unlogged = self._unlogged.pop(reason, 0)
        _LOGGER.warning(
            "Ignored a message on %s from %s: %s (%s)%s. For an hour, further messages "
            "rejected for this reason are only counted (see the diagnostics)",
            shown_topic,
            self.broker,
            reason,
            detail or "no detail",
            f"; {unlogged} more since the last report" if unlogged else "",
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return the counts per reason and the latest samples."""
        return {"rejections": dict(self.counts), "rejected_samples": list(self.samples)}
