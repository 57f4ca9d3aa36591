"""The optimizer MQTT service (python -m optimizer serve)."""
