"""ThermoMaven cloud: region table, request signing, REST client, certificates, MQTT decoders.

Nothing here imports Home Assistant. Every answer of the cloud and every MQTT payload is
hostile input: REST calls raise only the typed errors of `errors`, decoders never raise.
"""
