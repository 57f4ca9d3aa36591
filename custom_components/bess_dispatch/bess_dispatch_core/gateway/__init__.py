"""Gateway telemetry pipeline: counters, windows, cadence, store-and-forward and the MQTT link.

Pure Python (no Home Assistant import): the integration wires these pieces to HA entities,
the tests drive them with plain values and a real Mosquitto broker.
"""
