"""The ThermoMaven side: a cloud account entry, its thermometers, probes and commands."""
