"""Sizes and clock skew every peer of the protocol must respect.

The add-on's Mosquitto sets ``max_packet_size`` to ``MAX_PACKET_BYTES``; a larger packet
makes the broker drop the sender's connection. So every command the gateway accepts and
every answer it sends must fit in one packet, with room for the MQTT header and topic.
"""

from __future__ import annotations

from datetime import timedelta

# The broker's max_packet_size (the whole MQTT packet, header and topic included).
MAX_PACKET_BYTES = 1_048_576
# Room for the fixed header, the topic (ids are at most 200 characters) and MQTT 5 properties.
PACKET_HEADROOM_BYTES = 4_096
# The largest payload a command or an answer may carry.
MAX_PAYLOAD_BYTES = MAX_PACKET_BYTES - PACKET_HEADROOM_BYTES
