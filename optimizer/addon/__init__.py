"""Start-up logic of the Home Assistant add-on, kept in Python so it can be tested.

The add-on's s6 ``init-config`` oneshot runs ``python -m optimizer.addon generate``: it
reads ``/data/options.json`` (through :mod:`optimizer.settings`), keeps the broker
credentials in ``/data`` (:mod:`.credentials`), writes Mosquitto's configuration, password
file and per-site ACL (:mod:`.mosquitto_config`) and the optimizer service's own
configuration (:mod:`.service_config`). Only options -> generated files live here; nothing
imports the service, the web server or Home Assistant.
"""
