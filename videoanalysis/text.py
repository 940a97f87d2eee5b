"""Text stored as the user gave it (names, labels, passwords before hashing): what UTF-8, the
hash and the database can all take. One rule for the API's bodies and the analysis parameters."""

from __future__ import annotations


def valid_unicode(value: str) -> str:
    """Refuse a lone surrogate, which JSON can carry but UTF-8 (and so hashing or the database)
    cannot encode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (a lone surrogate is not)") from None
    return value


def printable(value: str) -> str:
    """Text stored as is: valid Unicode without control characters (PostgreSQL refuses NUL)."""
    valid_unicode(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value
