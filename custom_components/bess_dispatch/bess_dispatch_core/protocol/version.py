"""Schema version of the dispatch protocol and the compatibility rule between versions."""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMA_VERSION = "2.4.0"

# ASCII digits only: Python's \d would also accept e.g. Arabic-Indic digits.
_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", re.ASCII)


@dataclass(frozen=True, slots=True, order=True)
class SchemaVersion:
    """A ``MAJOR.MINOR.PATCH`` protocol version."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> SchemaVersion:
        """Parse ``"2.3.0"``; raise ValueError for anything else."""
        match = _SEMVER.fullmatch(text)
        if match is None:
            raise ValueError(f"schema_version {text!r} is not MAJOR.MINOR.PATCH")
        major, minor, patch = (int(part) for part in match.groups())
        return cls(major, minor, patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


CURRENT_VERSION = SchemaVersion.parse(SCHEMA_VERSION)


def is_supported(version: SchemaVersion) -> bool:
    """Same MAJOR is required; any MINOR/PATCH is accepted (unknown fields are ignored)."""
    return version.major == CURRENT_VERSION.major
