"""The MQTT link: one broker connection with reconnect back-off, publish outcomes and TLS.

Used by the gateway (telemetry, commands) and by the optimizer service alike, so it lives
beside them rather than inside either. Pure Python: paho-mqtt and the standard library only.
"""
