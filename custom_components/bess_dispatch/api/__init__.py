"""The residential HTTP API, served by Home Assistant's own web server under
``/api/bess_dispatch/v1`` (HA's users, tokens and TLS apply; no server of our own).

Kept free of imports (``site_config`` reads ``options``): ``registration`` wires the views.
The OpenAPI document is ``openapi.yaml`` next to this file (also served at
``/api/bess_dispatch/v1/openapi.json``); README.md has the role table.
"""
