"""The DIY sensor layouts: topics, decoders per family, metrics, device state."""
