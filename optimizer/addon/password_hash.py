"""Mosquitto password-file hashes, made in Python.

Format ``$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512>``: the
``sha512-pbkdf2`` scheme that Mosquitto 2.0 introduced and 2.1 still reads (2.1's default,
argon2id, is missing from some builds, e.g. Debian's). Hashing here rather than with
``mosquitto_passwd -b`` keeps the password off the process list, needs no binary, and gives
the same line on every Mosquitto 2.x. The passwords are 256-bit random tokens, so the
iteration count protects nothing a brute force could reach; it matches mosquitto_passwd.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "7"
ITERATIONS = 1000
SALT_BYTES = 12  # Mosquitto 2.0 accepts 12- or 64-byte salts; 2.1 any length.


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The hash field of a Mosquitto password-file line for ``password``."""
    if iterations < 1:
        raise ValueError(f"iterations must be positive, got {iterations}")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return (
        f"${SCHEME}${iterations}$"
        f"{base64.b64encode(salt).decode('ascii')}${base64.b64encode(digest).decode('ascii')}"
    )


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``hashed`` (a ``$7$`` field) was made from ``password``."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != SCHEME or not parts[2].isdigit():
        raise ValueError("not a Mosquitto sha512-pbkdf2 ($7$) hash")
    salt = base64.b64decode(parts[3], validate=True)
    expected = base64.b64decode(parts[4], validate=True)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, int(parts[2]))
    return hmac.compare_digest(digest, expected)
