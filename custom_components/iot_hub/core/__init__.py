"""Protocol and transport code of IoT Hub, free of Home Assistant imports.

Everything here runs on a plain asyncio loop: the MQTT client, payload decoders
and the helpers they need. The Home Assistant layer imports from this package,
never the other way round.
"""
