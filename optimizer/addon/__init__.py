"""Start-up logic of the Home Assistant add-on, kept in Python so it can be tested.

The add-on's s6 ``init-config`` oneshot runs ``python -m optimizer.addon generate``: it
reads ``/data/options.json`` (:mod:`.options`), keeps the broker credentials in ``/data``
(:mod:`.credentials`), writes Mosquitto's configuration, password file and per-site ACL
(:mod:`.mosquitto_config`) and the optimizer service's own configuration
(:mod:`.service_config`). Nothing here imports Home Assistant.
"""
