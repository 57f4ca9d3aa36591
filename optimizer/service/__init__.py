"""The live optimizer service over MQTT; ``optimizer/serve.py`` starts it with the web server.

It reads its settings from :mod:`optimizer.settings` and imports nothing of the add-on shell,
the web server or the simulation (tests/optimizer/test_import_arrows.py).
"""
