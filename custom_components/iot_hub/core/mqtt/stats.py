"""Counters of one MQTT client, shown in diagnostics."""

from dataclasses import dataclass


@dataclass(slots=True)
class ClientStats:
    """Counters shown in diagnostics."""

    connects: int = 0
    connection_losses: int = 0
    failed_attempts: int = 0
    messages_received: int = 0
    messages_published: int = 0
    undecodable_topics: int = 0
    last_error: str | None = None
