"""Sizes and clock skew every peer of the protocol must respect.

The add-on's Mosquitto sets ``max_packet_size`` to ``MAX_PACKET_BYTES``; a larger packet
makes the broker drop the sender's connection. So every command the gateway accepts and
every answer it sends must fit in one packet, with room for the MQTT header and topic.
"""

from __future__ import annotations

from datetime import timedelta

# The broker's max_packet_size (the whole MQTT packet, header and topic included): room for a
# year of half-hour entries (17,520, about 1.8 MB of JSON) with margin, small enough that one
# hostile packet cannot make the broker or a peer buffer much.
MAX_PACKET_BYTES = 4_194_304
# Room for the fixed header, the topic (ids are at most 200 characters) and MQTT 5 properties.
PACKET_HEADROOM_BYTES = 4_096
# The largest payload a command or an answer may carry.
MAX_PAYLOAD_BYTES = MAX_PACKET_BYTES - PACKET_HEADROOM_BYTES

# An answer lists at most this many errors, then one more saying how many were left out.
MAX_REPORTED_ERRORS = 50
# An error's path and message are cut to this many characters.
MAX_ERROR_TEXT = 500
# A rejected value is quoted in an error message with at most this many characters.
MAX_ECHO_CHARS = 60
# How far ahead of the gateway's clock a command's issued_at may be. Recency between equal
# priorities follows issued_at, so a far-future one would outrank every later command.
MAX_CLOCK_SKEW = timedelta(minutes=5)
