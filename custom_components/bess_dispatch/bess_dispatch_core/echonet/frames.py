"""What a received datagram must look like before it reaches pychonet's decoder.

pychonet decodes a frame by indexing into it; a truncated frame or one whose property
lengths run past its end raises inside its receive task (or is read short). Frames are
checked here first: ECHONET Lite header 0x10 0x81 (format 1), 12-byte header, and every
property (EPC, PDC, PDC bytes of EDT) inside the datagram, nothing left over. A frame
that fails is dropped and counted, never half-read.
"""

from __future__ import annotations

EHD = b"\x10\x81"
HEADER_BYTES = 12  # EHD(2) TID(2) SEOJ(3) DEOJ(3) ESV(1) OPC(1)
#: Larger than any format-1 frame the gateway asks for; a bigger datagram is refused.
MAX_FRAME_BYTES = 1500


def frame_problem(data: bytes) -> str | None:
    """Why ``data`` is not a well-formed ECHONET Lite format-1 frame (None if it is)."""
    if len(data) > MAX_FRAME_BYTES:
        return f"{len(data)} bytes is more than {MAX_FRAME_BYTES}"
    if len(data) < HEADER_BYTES:
        return f"{len(data)} bytes is shorter than the {HEADER_BYTES}-byte header"
    if data[:2] != EHD:
        return f"header 0x{data[:2].hex().upper()} is not 0x1081"
    position = HEADER_BYTES
    for index in range(data[11]):
        if position + 2 > len(data):
            return f"property {index + 1} of {data[11]} is missing"
        position += 2 + data[position + 1]
        if position > len(data):
            return f"property {index + 1} runs past the end of the frame"
    if position != len(data):
        return f"{len(data) - position} byte(s) after the last property"
    return None
