"""Device simulators that the tests and ``scripts/demo --ha`` both run: a SunSpec site
served by a real pymodbus TCP server, and the lookup of the Mosquitto binary the test
brokers and the demo's add-on broker start.

Shipped in neither the add-on nor the integration; imports nothing from ``tests``.
"""
