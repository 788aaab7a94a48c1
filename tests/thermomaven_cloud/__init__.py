"""A fake ThermoMaven cloud for tests, written from the public ThermoMaven protocol notes.

HTTPS REST server (signed requests, login, device lists, MQTT certificate, commands)
plus a mosquitto listener standing in for AWS IoT (mutual TLS, per-account topics).
Use the ``thermomaven_cloud`` fixture from ``fixtures``.
"""
