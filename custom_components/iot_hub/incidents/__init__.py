"""Incidents in Home Assistant: storage, events, MQTT interop and rules for the core engine."""
