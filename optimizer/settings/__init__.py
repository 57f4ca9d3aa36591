"""What the optimizer is told about its sites, prices and broker: typed and validated.

The add-on reads its options here (``/data/options.json``), the service its configuration
file, and both through one field reader (:mod:`.field_reader`), so every bad value is named by
its path. Nothing here imports the service, the add-on shell or the web server.
"""
