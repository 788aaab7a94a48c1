"""The MQTT transport: paho on the asyncio event loop, TLS, backoff, errors."""
