"""ECHONET Lite nodes as readings source and battery actuator (no Home Assistant import).

Japanese home batteries, PV inverters and HEMS gateways speak ECHONET Lite on the LAN (UDP
3610). pychonet carries the protocol (frames, transactions, discovery); this package says
which objects and properties the gateway reads and writes (:mod:`.objects`,
:mod:`.readings`), checks frames and values at the edge (:mod:`.frames`, :mod:`.values`),
polls a node into the telemetry pipeline (:mod:`.source`) and drives a storage battery
from the gateway's decisions (:mod:`.actuator`). docs/echonet.md has the property table.
"""
