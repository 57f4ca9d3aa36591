"""Gateway: control law, schedule dispatch, alerts and the telemetry pipeline (counters, windows,
cadence, store-and-forward); the MQTT link it talks through is the sibling room link/.

Pure Python (no Home Assistant import): the integration wires these pieces to HA entities,
the tests drive them with plain values and a real Mosquitto broker.
"""
