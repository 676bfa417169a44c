"""AWS eventstream frames built independently of the decoder under test (CRC32s by zlib)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable


def frame(headers: bytes, payload: bytes) -> bytes:
    """One message: prelude (total and header lengths, their CRC), headers, payload, message CRC."""
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def string_headers(headers: Iterable[tuple[str, str]]) -> bytes:
    """Encoded headers of type 7 (string)."""
    return b"".join(
        bytes([len(n)]) + n.encode() + b"\x07" + struct.pack(">H", len(v.encode())) + v.encode()
        for n, v in headers
    )
